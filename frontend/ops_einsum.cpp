// einsum and einsum_path: a composite of diagonal, sum, transpose, reshape,
// multiply and matmul.
//
// The subscripts are parsed into one label per axis ("..." becomes labels of
// its own, right-aligned across operands so that they broadcast). Each
// operand's repeated labels become diagonals; then the operands are
// contracted pairwise in the order of a greedy path (as NumPy's and
// opt_einsum's "greedy": at each step the pair that removes the most
// elements, ties to the cheaper one, outer products only when nothing else
// is left), each pair lowered to one (batched) matmul. A label that only
// one operand of a step has, and that nothing later needs, is summed away
// first.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "frontend/ops_util.h"

namespace kiln {

using detail::str;
using detail::throw_invalid;

namespace {

using Sizes = std::map<char, int64_t>;

struct Parsed {
  std::vector<std::string> inputs;  // one label per axis of each operand
  std::string output;               // labels of the result, in order
  Sizes size;                       // each label's (broadcast) size
};

// The label set of a subscript, as a sorted string without repeats.
std::string label_set(const std::string& labels) {
  std::string s = labels;
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

bool has(const std::string& labels, char c) { return labels.find(c) != std::string::npos; }

int64_t term_size(const std::string& labels, const Sizes& size) {
  int64_t n = 1;
  for (char c : label_set(labels)) n *= size.at(c);
  return n;
}

// Splits "ab,c...d" into its terms (empty terms are scalar operands) and
// checks that each holds only letters and at most one "...".
std::vector<std::string> split_terms(const std::string& op, const std::string& lhs) {
  std::vector<std::string> terms(1);
  for (char c : lhs) {
    if (c == ',') terms.emplace_back();
    else terms.back() += c;
  }
  for (const std::string& t : terms) {
    size_t dots = t.find("...");
    for (size_t i = 0; i < t.size(); ++i) {
      if (std::isalpha(static_cast<unsigned char>(t[i]))) continue;
      if (t[i] == '.' && dots != std::string::npos && i >= dots && i < dots + 3) continue;
      throw_invalid(op, "Subscripts must be letters or one '...' per operand, got '" + t + "'.");
    }
    if (dots != std::string::npos && t.find("...", dots + 3) != std::string::npos)
      throw_invalid(op, "Only one ellipsis per subscript is allowed, got '" + t + "'.");
  }
  return terms;
}

Parsed parse(const std::string& op, const std::string& subscripts, const std::vector<array>& operands) {
  if (operands.empty()) throw_invalid(op, "At least one operand is required.");
  std::string s;
  for (char c : subscripts)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  size_t arrow = s.find("->");
  bool explicit_output = arrow != std::string::npos;
  std::string lhs = explicit_output ? s.substr(0, arrow) : s;
  std::string rhs = explicit_output ? s.substr(arrow + 2) : "";
  if (lhs.find_first_of("->") != std::string::npos || rhs.find_first_of("->,") != std::string::npos)
    throw_invalid(op, "Invalid subscripts '" + subscripts + "': expected 'in1,in2,...->out' with one '->' at most.");
  std::vector<std::string> terms = split_terms(op, lhs);
  if (terms.size() != operands.size())
    throw_invalid(op, "Number of operands, " + std::to_string(operands.size()) +
                          ", does not match the number of input subscripts, " + std::to_string(terms.size()) + ".");
  if (explicit_output) split_terms(op, rhs);  // the same character checks

  // "..." stands for the axes that the letters leave; its labels are
  // letters that the subscripts do not use, shared right-aligned.
  std::string unused;
  for (char c = 'a'; c <= 'z'; ++c)
    if (!has(s, c)) unused += c;
  for (char c = 'A'; c <= 'Z'; ++c)
    if (!has(s, c)) unused += c;
  std::vector<int> ellipsis_len(terms.size(), 0);
  int max_len = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    size_t dots = terms[i].find("...");
    int letters = int(terms[i].size()) - (dots == std::string::npos ? 0 : 3);
    int nd = int(operands[i].ndim());
    if (dots == std::string::npos ? letters != nd : letters > nd)
      throw_invalid(op, "Invalid number of subscripts in '" + terms[i] + "' for operand " + std::to_string(i) +
                            " of shape " + str(operands[i].shape()) + ".");
    if (dots != std::string::npos) ellipsis_len[i] = nd - letters;
    max_len = std::max(max_len, ellipsis_len[i]);
  }
  if (max_len > int(unused.size()))
    throw_invalid(op, "Too many dimensions under '...': there are not enough unused letters to label them.");
  std::string ellipsis_labels = unused.substr(0, max_len);
  auto expand = [&](const std::string& t, int len) {
    size_t dots = t.find("...");
    if (dots == std::string::npos) return t;
    return t.substr(0, dots) + ellipsis_labels.substr(max_len - len) + t.substr(dots + 3);
  };

  Parsed p;
  for (size_t i = 0; i < terms.size(); ++i) p.inputs.push_back(expand(terms[i], ellipsis_len[i]));
  if (explicit_output) {
    p.output = expand(rhs, max_len);
  } else {
    // Implicit output: the "..." axes, then the letters used exactly once,
    // in alphabetical (character code) order.
    std::map<char, int> count;
    for (const std::string& t : terms)
      for (char c : t)
        if (c != '.') ++count[c];
    p.output = ellipsis_labels;
    for (auto& [c, n] : count)
      if (n == 1) p.output += c;
  }
  if (label_set(p.output).size() != p.output.size())
    throw_invalid(op, "Repeated subscript in the output '" + rhs + "'.");

  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const std::string& t = p.inputs[i];
    std::map<char, int64_t> local;
    for (size_t d = 0; d < t.size(); ++d) {
      int64_t n = operands[i].shape(int(d));
      auto [it, fresh] = local.emplace(t[d], n);
      if (!fresh && it->second != n)
        throw_invalid(op, "Dimensions of the repeated subscript '" + std::string(1, t[d]) + "' in operand " +
                              std::to_string(i) + " of shape " + str(operands[i].shape()) +
                              " do not have the same size.");
      auto [g, first] = p.size.emplace(t[d], n);
      if (!first && g->second != n) {
        if (g->second != 1 && n != 1)
          throw_invalid(op, "Size " + std::to_string(n) + " of subscript '" + std::string(1, t[d]) +
                                "' in operand " + std::to_string(i) + " of shape " + str(operands[i].shape()) +
                                " does not match (or broadcast with) size " + std::to_string(g->second) + ".");
        g->second = std::max(g->second, n);
      }
    }
  }
  for (char c : p.output)
    if (!p.size.count(c))
      throw_invalid(op, "Output subscript '" + std::string(1, c) + "' does not appear in the inputs.");
  return p;
}

// ---- the contraction path ---------------------------------------------------

struct PathStep {
  std::vector<int> positions;  // into the list of current terms; the result goes last
  std::string result;          // its label set
};

struct Path {
  std::vector<PathStep> steps;
  double naive_cost = 0, optimized_cost = 0;
  int naive_scaling = 0, optimized_scaling = 0;
  int64_t largest_intermediate = 0;
};

// NumPy's FLOP estimate of contracting `terms` over the labels `all`: one
// multiply per extra term, one add when something is summed.
double flop_count(const std::string& all, bool inner, int terms, const Sizes& size) {
  double factor = std::max(1, terms - 1) + (inner ? 1 : 0);
  return double(term_size(all, size)) * factor;
}

Path greedy_path(std::vector<std::string> terms, const std::string& output, const Sizes& size) {
  Path path;
  std::string all;
  for (auto& t : terms) all += t;
  all = label_set(all);
  bool inner = false;
  for (char c : all) inner = inner || !has(output, c);
  path.naive_cost = flop_count(all, inner, int(terms.size()), size);
  path.naive_scaling = int(all.size());
  int64_t memory_limit = term_size(output, size);
  for (auto& t : terms) {
    t = label_set(t);
    memory_limit = std::max(memory_limit, term_size(t, size));
  }
  // Two operands or fewer, or nothing summed (a broadcast product): one step.
  if (terms.size() <= 2 || all == label_set(output)) {
    PathStep only;
    for (size_t i = 0; i < terms.size(); ++i) only.positions.push_back(int(i));
    only.result = label_set(output);
    path.steps.push_back(only);
  } else {
    struct Candidate {
      int64_t removed;  // elements freed: both inputs minus the result
      double cost;
      std::string result;
      int i, j;
    };
    double path_cost = 0;
    std::vector<Candidate> known;
    std::vector<std::pair<int, int>> pairs;
    for (int i = 0; i < int(terms.size()); ++i)
      for (int j = i + 1; j < int(terms.size()); ++j) pairs.emplace_back(i, j);
    auto consider = [&](int i, int j) {
      std::string both = label_set(terms[i] + terms[j]), kept;
      std::string elsewhere = output;
      for (int k = 0; k < int(terms.size()); ++k)
        if (k != i && k != j) elsewhere += terms[k];
      for (char c : both)
        if (has(elsewhere, c)) kept += c;
      int64_t new_size = term_size(kept, size);
      if (new_size > memory_limit) return;
      double cost = flop_count(both, both.size() > kept.size(), 2, size);
      if (path_cost + cost > path.naive_cost) return;
      known.push_back({term_size(terms[i], size) + term_size(terms[j], size) - new_size, cost, kept, i, j});
    };
    auto shares_label = [&](int i, int j) {
      for (char c : terms[i])
        if (has(terms[j], c)) return true;
      return false;
    };
    while (terms.size() > 1) {
      for (auto [i, j] : pairs)
        if (shares_label(i, j)) consider(i, j);
      if (known.empty())  // only outer products are left
        for (int i = 0; i < int(terms.size()); ++i)
          for (int j = i + 1; j < int(terms.size()); ++j) consider(i, j);
      if (known.empty()) {  // nothing within the limits: contract the rest at once
        PathStep rest;
        for (int i = 0; i < int(terms.size()); ++i) rest.positions.push_back(i);
        rest.result = label_set(output);
        path.steps.push_back(rest);
        break;
      }
      auto best = std::min_element(known.begin(), known.end(), [](const Candidate& a, const Candidate& b) {
        return a.removed > b.removed || (a.removed == b.removed && a.cost < b.cost);
      });
      Candidate chosen = *best;
      path_cost += chosen.cost;
      path.steps.push_back({{chosen.i, chosen.j}, chosen.result});
      terms.erase(terms.begin() + chosen.j);
      terms.erase(terms.begin() + chosen.i);
      terms.push_back(chosen.result);
      // Candidates of untouched pairs stay valid (their kept labels do not
      // change when two other terms merge); renumber them.
      std::vector<Candidate> still;
      for (Candidate c : known) {
        if (c.i == chosen.i || c.i == chosen.j || c.j == chosen.i || c.j == chosen.j) continue;
        c.i -= (c.i > chosen.i) + (c.i > chosen.j);
        c.j -= (c.j > chosen.i) + (c.j > chosen.j);
        still.push_back(c);
      }
      known = std::move(still);
      pairs.clear();
      for (int k = 0; k + 1 < int(terms.size()); ++k) pairs.emplace_back(k, int(terms.size()) - 1);
    }
    path.steps.back().result = label_set(output);
  }
  return path;
}

// The path's costs, replayed over the actual steps (as einsum_path reports).
void add_costs(Path& path, std::vector<std::string> terms, const Sizes& size) {
  for (auto& t : terms) t = label_set(t);
  for (PathStep& step : path.steps) {
    std::string all;
    for (int p : step.positions) all += terms[p];
    all = label_set(all);
    bool inner = false;
    for (char c : all) inner = inner || !has(step.result, c);
    path.optimized_cost += flop_count(all, inner, int(step.positions.size()), size);
    path.optimized_scaling = std::max(path.optimized_scaling, int(all.size()));
    path.largest_intermediate = std::max(path.largest_intermediate, term_size(step.result, size));
    for (auto it = step.positions.rbegin(); it != step.positions.rend(); ++it) terms.erase(terms.begin() + *it);
    terms.push_back(step.result);
  }
}

Path plan(const Parsed& p) {
  Path path = greedy_path(p.inputs, p.output, p.size);
  add_costs(path, p.inputs, p.size);
  path.optimized_cost += 1;  // as NumPy's report (which keeps the speedup finite)
  return path;
}

// ---- lowering ------------------------------------------------------------------

struct Term {
  array value;
  std::string labels;  // one per axis, no repeats
};

// Repeated labels ("ii") become diagonals: each pair of equal labels is
// replaced by one axis at the end.
Term collapse_repeats(array a, std::string labels) {
  for (;;) {
    size_t first = std::string::npos, second = std::string::npos;
    for (size_t i = 0; i < labels.size() && second == std::string::npos; ++i)
      for (size_t j = i + 1; j < labels.size(); ++j)
        if (labels[i] == labels[j]) {
          first = i, second = j;
          break;
        }
    if (second == std::string::npos) return {a, labels};
    char c = labels[first];
    a = diagonal(a, 0, int(first), int(second));
    labels.erase(second, 1);
    labels.erase(first, 1);
    labels += c;
  }
}

// Sums away the labels of t that `needed` does not list.
Term sum_unneeded(Term t, const std::string& needed) {
  std::vector<int> axes;
  std::string kept;
  for (size_t d = 0; d < t.labels.size(); ++d) {
    if (has(needed, t.labels[d])) kept += t.labels[d];
    else axes.push_back(int(d));
  }
  if (axes.empty()) return t;
  return {sum(t.value, axes), kept};
}

// t's axes reordered to `order` (which may list labels t lacks: those get
// size-1 axes) and broadcast to the labels' sizes where `broadcast` lists them.
array align(const Term& t, const std::string& order, const Sizes& size, const std::string& broadcast) {
  std::vector<int> perm;
  for (char c : order)
    if (has(t.labels, c)) perm.push_back(int(t.labels.find(c)));
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) identity = identity && perm[i] == int(i);
  // (No op where none is needed: a matmul reads a bare transpose of its
  // operand's last two axes without a copy.)
  array a = identity ? t.value : transpose(t.value, perm);
  Shape shape, target;
  int d = 0;
  for (char c : order) {
    int64_t n = has(t.labels, c) ? a.shape(d++) : 1;
    shape.push_back(int(n));
    target.push_back(int(has(broadcast, c) ? size.at(c) : n));
  }
  if (shape != a.shape()) a = reshape(a, shape);
  return target == shape ? a : broadcast_to(a, target);
}

int64_t product_of(const std::string& labels, const Sizes& size) {
  int64_t n = 1;
  for (char c : labels) n *= size.at(c);
  return n;
}

// Contracts two terms, keeping the labels in `keep`: one matmul of
// a as [batch..., a_free, summed] and b as [batch..., summed, b_free], or a
// broadcast multiply when nothing is summed (or the dtype has no matmul).
// The result's labels are batch + a_free + b_free.
// The sizes of the terms' labels (the larger where one is 1).
Sizes local_sizes(const std::vector<Term>& terms) {
  Sizes size;
  for (const Term& t : terms)
    for (size_t d = 0; d < t.labels.size(); ++d) {
      int64_t& n = size[t.labels[d]];
      n = std::max<int64_t>(n, t.value.shape(int(d)));
    }
  return size;
}

Term contract_pair(const Term& a_in, const Term& b_in, const std::string& keep) {
  Term a = sum_unneeded(a_in, keep + b_in.labels), b = sum_unneeded(b_in, keep + a_in.labels);
  Sizes size = local_sizes({a, b});
  std::string batch, summed, a_free, b_free;
  for (char c : a.labels) {
    if (has(b.labels, c)) (has(keep, c) ? batch : summed) += c;
    else a_free += c;
  }
  for (char c : b.labels)
    if (!has(a.labels, c)) b_free += c;
  std::string out = batch + a_free + b_free;
  if (summed.empty() || !is_floating(a.value.dtype()) || a.value.dtype() == complex64) {
    std::string order = out + summed;
    array prod = multiply(align(a, order, size, summed), align(b, order, size, summed));
    std::vector<int> axes;
    for (size_t d = out.size(); d < order.size(); ++d) axes.push_back(int(d));
    return {axes.empty() ? prod : sum(prod, axes), out};
  }
  std::string shared = batch + summed;  // broadcast where one side has size 1
  array am = align(a, batch + a_free + summed, size, shared);
  array bm = align(b, batch + summed + b_free, size, shared);
  Shape batch_shape;
  for (char c : batch) batch_shape.push_back(int(size.at(c)));
  auto as_matrix = [&](const array& x, int64_t rows, int64_t cols) {
    Shape s = batch_shape;
    s.push_back(int(detail::checked_dimension("einsum", rows, x.shape())));
    s.push_back(int(detail::checked_dimension("einsum", cols, x.shape())));
    return s == x.shape() ? x : reshape(x, s);
  };
  int64_t m = product_of(a_free, size), k = product_of(summed, size), n = product_of(b_free, size);
  array r = matmul(as_matrix(am, m, k), as_matrix(bm, k, n));
  Shape out_shape = batch_shape;
  for (char c : a_free + b_free) out_shape.push_back(int(size.at(c)));
  return {out_shape == r.shape() ? r : reshape(r, out_shape), out};
}

// Contracts any number of terms at once: broadcast multiply, then sum.
Term contract_all(const std::vector<Term>& terms, const std::string& keep) {
  Sizes size = local_sizes(terms);
  std::string all;
  for (const Term& t : terms) all += t.labels;
  all = label_set(all);
  std::string order, summed;
  for (char c : all) (has(keep, c) ? order : summed) += c;
  order += summed;
  array prod = align(terms[0], order, size, "");
  for (size_t i = 1; i < terms.size(); ++i) prod = multiply(prod, align(terms[i], order, size, ""));
  std::vector<int> axes;
  for (size_t d = order.size() - summed.size(); d < order.size(); ++d) axes.push_back(int(d));
  // Broadcast what only size-1 axes carried (a label of size 1 in every operand stays 1).
  Shape target;
  for (char c : order) target.push_back(int(size.at(c)));
  prod = broadcast_to(prod, target);
  return {axes.empty() ? prod : sum(prod, axes), order.substr(0, order.size() - summed.size())};
}

std::string with_repeats_collapsed(const std::string& labels) {
  std::string out;
  for (char c : labels)
    if (!has(out, c)) out += c;
  return out;
}

}  // namespace

std::pair<std::vector<std::vector<int>>, std::string> einsum_path(const std::string& subscripts,
                                                                  const std::vector<array>& operands) {
  Parsed p = parse("einsum_path", subscripts, operands);
  Path path = plan(p);
  std::vector<std::vector<int>> positions;
  for (const PathStep& s : path.steps) positions.push_back(s.positions);

  // The description, in NumPy's layout.
  auto sci = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3e", v);
    return std::string(buf);
  };
  std::ostringstream os;
  std::string complete;
  for (size_t i = 0; i < p.inputs.size(); ++i) complete += (i ? "," : "") + p.inputs[i];
  complete += "->" + p.output;
  char speedup[32];
  std::snprintf(speedup, sizeof speedup, "%.3f", path.naive_cost / std::max(1.0, path.optimized_cost));
  os << "  Complete contraction:  " << complete << "\n"
     << "         Naive scaling:  " << path.naive_scaling << "\n"
     << "     Optimized scaling:  " << path.optimized_scaling << "\n"
     << "      Naive FLOP count:  " << sci(path.naive_cost) << "\n"
     << "  Optimized FLOP count:  " << sci(path.optimized_cost) << "\n"
     << "   Theoretical speedup:  " << speedup << "\n"
     << "  Largest intermediate:  " << sci(double(path.largest_intermediate)) << " elements\n"
     << std::string(74, '-') << "\n"
     << "scaling        current                        remaining\n"
     << std::string(74, '-') << "\n";
  std::vector<std::string> terms;
  for (auto& t : p.inputs) terms.push_back(with_repeats_collapsed(t));
  for (size_t s = 0; s < path.steps.size(); ++s) {
    const PathStep& step = path.steps[s];
    bool last = s + 1 == path.steps.size();
    std::string result = last ? p.output : step.result, current, all;
    for (size_t i = 0; i < step.positions.size(); ++i) {
      current += (i ? "," : "") + terms[step.positions[i]];
      all += terms[step.positions[i]];
    }
    current += "->" + result;
    for (auto it = step.positions.rbegin(); it != step.positions.rend(); ++it) terms.erase(terms.begin() + *it);
    terms.push_back(result);
    std::string remaining;
    for (size_t i = 0; i < terms.size(); ++i) remaining += (i ? "," : "") + terms[i];
    remaining += "->" + p.output;
    char line[256];
    std::snprintf(line, sizeof line, "%4d    %24s %40s\n", int(label_set(all).size()), current.c_str(),
                  remaining.c_str());
    os << line;
  }
  return {positions, os.str()};
}

array einsum(const std::string& subscripts, const std::vector<array>& operands, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  Parsed p = parse("einsum", subscripts, operands);
  Path path = plan(p);
  Dtype t = operands[0].dtype();
  for (const array& a : operands) t = promote_types(t, a.dtype());
  std::vector<Term> terms;
  for (size_t i = 0; i < operands.size(); ++i)
    terms.push_back(collapse_repeats(detail::cast_to(operands[i], t), p.inputs[i]));

  for (size_t st = 0; st < path.steps.size(); ++st) {
    const PathStep& step = path.steps[st];
    bool last = st + 1 == path.steps.size();
    // What the result must keep: the step's result labels (for the last
    // step, the output's).
    const std::string& keep = last ? p.output : step.result;
    std::vector<Term> in;
    for (int pos : step.positions) in.push_back(terms[pos]);
    // A label only one input of the step has, and that the step does not
    // keep, is summed in that input first.
    for (size_t i = 0; i < in.size(); ++i) {
      std::string needed = keep;
      for (size_t j = 0; j < in.size(); ++j)
        if (j != i) needed += in[j].labels;
      in[i] = sum_unneeded(in[i], needed);
    }
    Term result = in.size() == 1   ? in[0]
                  : in.size() == 2 ? contract_pair(in[0], in[1], keep)
                                   : contract_all(in, keep);
    for (auto it = step.positions.rbegin(); it != step.positions.rend(); ++it) terms.erase(terms.begin() + *it);
    terms.push_back(result);
  }
  // The output's order, broadcast where only size-1 axes carried a label.
  Term& r = terms.back();
  return align(r, p.output, p.size, p.output);
}

}  // namespace kiln
