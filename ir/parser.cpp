// The IR's text form: parsing. Grammar: ir/README.md.
//
// The parser takes untrusted text: every problem is a ParseError with the
// line and column of the offending token. There is no recursion, numbers
// are parsed with overflow checks, and a constant's size is checked against
// its literals (and a limit) before anything is allocated.
#include "ir/parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "ir/custom.h"
#include "ir/element.h"
#include "ir/verifier.h"

namespace kiln::ir {

ParseError::ParseError(int line, int column, const std::string& msg)
    : std::invalid_argument(std::to_string(line) + ":" + std::to_string(column) + ": " + msg),
      line_(line),
      column_(column) {}

namespace {

// A splat constant is expanded into its full buffer; refuse absurd sizes.
constexpr int64_t kMaxSplatElements = int64_t(1) << 28;
// No constant, listed or splat, may exceed this many elements.
constexpr int64_t kMaxConstantElements = int64_t(1) << 31;

struct Pos {
  int line = 1, col = 1;
};

struct Token {
  enum Kind { End, Ident, Value, Global, Number, Punct } kind = End;
  std::string_view text;  // for Value and Global: the name without its sigil
  Pos pos;
};

std::string describe(const Token& t) {
  switch (t.kind) {
    case Token::End: return "end of input";
    case Token::Value: return "'%" + std::string(t.text) + "'";
    case Token::Global: return "'@" + std::string(t.text) + "'";
    default: return "'" + std::string(t.text) + "'";
  }
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_letter(c) || is_digit(c) || c == '_' || c == '.'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  const Token& peek() {
    if (!has_peek_) {
      peeked_ = lex();
      has_peek_ = true;
    }
    return peeked_;
  }
  Token next() {
    peek();
    has_peek_ = false;
    return peeked_;
  }

  // Saving and restoring the position lets the parser read a constant's
  // literals twice: once to count them, once (after its type) to store them.
  struct State {
    size_t i;
    int line, col;
    Token peeked;
    bool has_peek;
  };
  State save() const { return {i_, line_, col_, peeked_, has_peek_}; }
  void restore(const State& st) {
    i_ = st.i;
    line_ = st.line;
    col_ = st.col;
    peeked_ = st.peeked;
    has_peek_ = st.has_peek;
  }

 private:
  char at(size_t i) const { return i < s_.size() ? s_[i] : '\0'; }
  void advance() {
    if (s_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++i_;
  }

  void skip_space_and_comments() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance();
      } else if (c == '/' && at(i_ + 1) == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') advance();
      } else {
        break;
      }
    }
  }

  Token lex() {
    skip_space_and_comments();
    Token t;
    t.pos = {line_, col_};
    if (i_ >= s_.size()) return t;
    size_t start = i_;
    char c = s_[i_];
    if (is_letter(c) || c == '_') {
      while (i_ < s_.size() && (is_letter(s_[i_]) || is_digit(s_[i_]) || s_[i_] == '_')) advance();
      t.kind = Token::Ident;
    } else if (c == '%' || c == '@') {
      advance();
      size_t name = i_;
      while (i_ < s_.size() && is_name_char(s_[i_])) advance();
      if (i_ == name)
        throw ParseError(t.pos.line, t.pos.col, std::string("expected a name after '") + c + "'");
      t.kind = c == '%' ? Token::Value : Token::Global;
      t.text = s_.substr(name, i_ - name);
      return t;
    } else if (c == '-' && at(i_ + 1) == '>') {
      advance();
      advance();
      t.kind = Token::Punct;
    } else if (is_digit(c) || (c == '-' && (is_name_char(at(i_ + 1))))) {
      // A number, or -inf: letters, digits, '_', '.', and a sign after an
      // exponent mark. Its validity is checked where it is used.
      advance();
      while (i_ < s_.size()) {
        char d = s_[i_];
        bool sign = (d == '+' || d == '-') && (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E');
        if (!is_name_char(d) && !sign) break;
        advance();
      }
      t.kind = Token::Number;
    } else if (std::strchr("()[]{},:=-", c) && c != '\0') {
      advance();
      t.kind = Token::Punct;
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      std::string shown;
      if (u >= 0x20 && u < 0x7f) {
        shown = std::string("'") + c + "'";
      } else {
        const char* hex = "0123456789abcdef";
        shown = std::string("0x") + hex[u >> 4] + hex[u & 15];
      }
      throw ParseError(t.pos.line, t.pos.col, "unexpected character " + shown);
    }
    t.text = s_.substr(start, i_ - start);
    return t;
  }

  std::string_view s_;
  size_t i_ = 0;
  int line_ = 1, col_ = 1;
  Token peeked_;
  bool has_peek_ = false;
};

// One literal of a constant's value (its dtype is known only after it).
struct Literal {
  Token re;
  Token im;  // complex literals only
  bool complex = false;
};

[[noreturn]] void fail(Pos p, const std::string& msg) { throw ParseError(p.line, p.col, msg); }

// An integer token: an optional '-' and decimal digits, magnitude <= 2^64-1.
bool parse_integer_text(std::string_view s, bool* negative, uint64_t* magnitude) {
  *negative = !s.empty() && s[0] == '-';
  if (*negative) s.remove_prefix(1);
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    if (__builtin_mul_overflow(v, uint64_t(10), &v) ||
        __builtin_add_overflow(v, uint64_t(c - '0'), &v))
      return false;
  }
  *magnitude = v;
  return true;
}

bool looks_integral(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

int64_t parse_int64(const Token& t) {
  bool neg;
  uint64_t mag;
  if (t.kind != Token::Number || !looks_integral(t.text))
    fail(t.pos, "expected an integer, found " + describe(t));
  if (!parse_integer_text(t.text, &neg, &mag) ||
      mag > (neg ? uint64_t(1) << 63 : uint64_t(std::numeric_limits<int64_t>::max())))
    fail(t.pos, "integer " + std::string(t.text) + " is out of the range of int64");
  return neg ? int64_t(0 - mag) : int64_t(mag);
}

template <typename F>
F parse_float(const Token& t, Dtype dt) {
  if (t.kind == Token::Ident && t.text == "inf") return std::numeric_limits<F>::infinity();
  if (t.kind == Token::Number && t.text == "-inf") return -std::numeric_limits<F>::infinity();
  if (t.kind == Token::Ident && t.text == "nan") return std::numeric_limits<F>::quiet_NaN();
  std::string_view s = t.text;
  bool ok = t.kind == Token::Number && !s.empty() &&
            (is_digit(s[0]) || (s.size() > 1 && s[0] == '-' && (is_digit(s[1]) || s[1] == '.')));
  if (!ok)
    fail(t.pos, "expected a literal of type " + dtype_short_name(dt) + ", found " + describe(t));
  F v{};
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range)
    fail(t.pos, "literal " + std::string(s) + " is out of the range of " + dtype_short_name(dt));
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    fail(t.pos, "malformed number " + describe(t));
  return v;
}

// Stores literal `lit` as element i of (dt, data).
void store_literal(Dtype dt, void* data, int64_t i, const Literal& lit) {
  const Token& t = lit.re;
  if (lit.complex && dt != complex64)
    fail(t.pos, "complex literal in a constant of " + dtype_short_name(dt));
  switch (domain_of(dt)) {
    case Domain::Int:
    case Domain::UInt: {
      if (dt == bool_) {
        if (t.text == "true" || t.text == "1") return store_i64(dt, data, i, 1);
        if (t.text == "false" || t.text == "0") return store_i64(dt, data, i, 0);
        fail(t.pos, "expected true or false, found " + describe(t));
      }
      bool neg;
      uint64_t mag;
      if (t.kind != Token::Number || !looks_integral(t.text))
        fail(t.pos,
             "expected an integer literal for " + dtype_short_name(dt) + ", found " + describe(t));
      int bits = 8 * dt.size();
      bool in_range = parse_integer_text(t.text, &neg, &mag);
      if (in_range && is_unsigned(dt)) {
        in_range = (!neg || mag == 0) && (bits == 64 || mag < (uint64_t(1) << bits));
      } else if (in_range) {
        in_range = mag <= (uint64_t(1) << (bits - 1)) - (neg ? 0 : 1);
      }
      if (!in_range)
        fail(t.pos,
             "literal " + std::string(t.text) + " is out of the range of " + dtype_short_name(dt));
      if (is_unsigned(dt)) return store_u64(dt, data, i, neg ? 0 : mag);
      return store_i64(dt, data, i, neg ? int64_t(0 - mag) : int64_t(mag));
    }
    case Domain::Float: {
      if (dt == float64) return store_f64(dt, data, i, parse_float<double>(t, dt));
      float v = parse_float<float>(t, dt);
      store_f64(dt, data, i, v);
      if (std::isfinite(v) && std::isinf(load_f64(dt, data, i)))
        fail(t.pos,
             "literal " + std::string(t.text) + " is out of the range of " + dtype_short_name(dt));
      return;
    }
    case Domain::Complex: {
      float re = parse_float<float>(t, dt);
      float im = lit.complex ? parse_float<float>(lit.im, dt) : 0.f;
      return store_c128(dt, data, i, {double(re), double(im)});
    }
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lex_(text) {}

  // A module: the function, then the functions its custom ops call (each
  // after its callers). Returns the first.
  Function parse_module() {
    std::vector<Parsed> fns;
    do fns.push_back(parse_function());
    while (lex_.peek().kind == Token::Ident && lex_.peek().text == "func");
    Token end = lex_.next();
    if (end.kind != Token::End)
      fail(end.pos, "unexpected " + describe(end) + " after the end of the function");
    return link(fns);
  }

 private:
  // A reference `role = @name` of op `op` to a callee.
  struct CalleeRef {
    size_t op;
    int role;  // kRoles
    Token name;
  };
  // One function as read, before its callees are linked.
  struct Parsed {
    Function f;
    Token name;
    std::vector<CalleeRef> refs;
    std::vector<Pos> input_pos, op_pos, output_pos;
  };

  Parsed parse_function() {
    f_ = Function();
    ids_.clear();
    names_.clear();
    input_pos_.clear();
    op_pos_.clear();
    refs_.clear();
    Token func = lex_.next();
    if (func.kind != Token::Ident || func.text != "func")
      fail(func.pos, "expected 'func', found " + describe(func));
    Token name = lex_.next();
    if (name.kind != Token::Global)
      fail(name.pos, "expected the function's name (@name), found " + describe(name));
    f_.name = std::string(name.text);

    expect("(");
    if (!accept(")")) {
      do {
        Token v = lex_.next();
        if (v.kind != Token::Value) fail(v.pos, "expected an input (%name), found " + describe(v));
        expect(":");
        f_.inputs.push_back(parse_type());
        input_pos_.push_back(v.pos);
        define(v);
      } while (accept(","));
      expect(")");
    }

    expect("->");
    expect("(");
    std::vector<Type> results;
    if (!accept(")")) {
      do results.push_back(parse_type());
      while (accept(","));
      expect(")");
    }

    expect("{");
    while (true) {
      const Token& t = lex_.peek();
      if (t.kind == Token::Ident && t.text == "return") break;
      if (t.kind != Token::Value)
        fail(t.pos, "expected a statement or 'return', found " + describe(t));
      parse_statement();
    }
    Token ret = lex_.next();
    std::vector<Pos> output_pos;
    if (lex_.peek().kind == Token::Value) {
      do {
        Token v = lex_.next();
        if (v.kind != Token::Value) fail(v.pos, "expected a value (%name), found " + describe(v));
        f_.outputs.push_back(lookup(v));
        output_pos.push_back(v.pos);
      } while (accept(","));
    }
    if (results.size() != f_.outputs.size())
      fail(ret.pos, "the function declares " + std::to_string(results.size()) +
                        " results but returns " + std::to_string(f_.outputs.size()));
    for (size_t i = 0; i < results.size(); ++i) {
      const Type& t = f_.value_type(f_.outputs[i]);
      if (t != results[i])
        fail(output_pos[i], "returned value %" + names_[f_.outputs[i]] + " has type " +
                                type_to_string(t) + " but the function declares result " +
                                std::to_string(i) + " as " + type_to_string(results[i]));
    }
    expect("}");
    return Parsed{std::move(f_), name, std::move(refs_), std::move(input_pos_), std::move(op_pos_),
                  std::move(output_pos)};
  }

  // Resolves the callee references, last function first (a callee follows
  // its callers, so each function's callees are complete when it is
  // reached: no cycle is possible), and verifies every function.
  Function link(std::vector<Parsed>& fns) {
    const size_t n = fns.size();
    std::unordered_map<std::string_view, size_t> index_of;
    for (size_t k = 0; k < n; ++k)
      if (!index_of.emplace(fns[k].name.text, k).second)
        fail(fns[k].name.pos, "function " + describe(fns[k].name) + " is defined twice");
    std::vector<bool> called(n, false);
    std::vector<std::vector<size_t>> targets(n);  // per ref of fns[k]
    for (size_t k = 0; k < n; ++k) {
      for (const CalleeRef& r : fns[k].refs) {
        auto it = index_of.find(r.name.text);
        if (it == index_of.end())
          fail(r.name.pos, "function " + describe(r.name) + " is not defined");
        if (it->second <= k)
          fail(r.name.pos, "function " + describe(r.name) + " must be defined after its caller " +
                               describe(fns[k].name) + " (callees follow their callers)");
        called[it->second] = true;
        targets[k].push_back(it->second);
      }
    }
    for (size_t k = 1; k < n; ++k)
      if (!called[k])
        fail(fns[k].name.pos, "function " + describe(fns[k].name) + " is never called");

    std::vector<std::shared_ptr<const Function>> linked(n);
    std::vector<int> depth(n, 0);
    // Ops calling the same functions share one Custom, as the frontend's do
    // (passes group a call's outputs by it).
    std::map<std::array<size_t, 3>, std::shared_ptr<const Custom>> customs;
    const size_t none = n;
    for (size_t k = n; k-- > 0;) {
      Parsed& p = fns[k];
      std::map<size_t, std::array<size_t, 3>> callees;  // op -> callee per role
      for (size_t r = 0; r < p.refs.size(); ++r) {
        auto it = callees.try_emplace(p.refs[r].op, std::array<size_t, 3>{none, none, none}).first;
        it->second[size_t(p.refs[r].role)] = targets[k][r];
      }
      for (size_t i = 0; i < p.f.ops.size(); ++i) {
        Op& op = p.f.ops[i];
        if (op.kind != OpKind::Custom) continue;
        auto it = callees.find(i);
        if (it == callees.end() || it->second[0] == none)
          fail(p.op_pos[i], "op %" + std::to_string(p.f.inputs.size() + i) +
                                " (custom): needs a 'forward' callee (forward = @name)");
        const auto& c = it->second;
        auto& custom = customs[c];
        if (!custom) {
          auto made = std::make_shared<Custom>();
          made->forward = linked[c[0]];
          if (c[1] != none) made->vjp = linked[c[1]];
          if (c[2] != none) made->jvp = linked[c[2]];
          custom = std::move(made);
        }
        op.custom = custom;
        for (size_t t : c)
          if (t != none) depth[k] = std::max(depth[k], depth[t] + 1);
        if (depth[k] > kMaxCalleeDepth)
          fail(p.op_pos[i], "custom ops nest more than " + std::to_string(kMaxCalleeDepth) +
                                " calls deep");
      }
      // Each op but the custom ones was verified as it was read; this checks
      // the custom ops and is a safety net for the rest. The callees are
      // already verified.
      int where = 0, index = 0;
      std::string msg = detail::verify_located(p.f, &where, &index, /*check_callees=*/false);
      if (!msg.empty()) {
        switch (where) {
          case 0: fail(p.input_pos[index], msg);
          case 1: fail(p.op_pos[index], msg);
          case 2: fail(p.output_pos[index], msg);
          default: fail(p.name.pos, msg);
        }
      }
      if (k > 0) linked[k] = std::make_shared<const Function>(std::move(p.f));
    }
    return std::move(fns[0].f);
  }
  bool is_punct(const Token& t, std::string_view p) const {
    return t.kind == Token::Punct && t.text == p;
  }
  bool accept(std::string_view p) {
    if (!is_punct(lex_.peek(), p)) return false;
    lex_.next();
    return true;
  }
  Token expect(std::string_view p) {
    Token t = lex_.next();
    if (!is_punct(t, p)) fail(t.pos, "expected '" + std::string(p) + "', found " + describe(t));
    return t;
  }

  void define(const Token& v) {
    if (ids_.count(v.text)) fail(v.pos, "value %" + std::string(v.text) + " is defined twice");
    if (names_.size() >= size_t(std::numeric_limits<int>::max() - 1))
      fail(v.pos, "too many values");
    ids_.emplace(v.text, int(names_.size()));
    names_.emplace_back(v.text);
  }
  int lookup(const Token& v) {
    auto it = ids_.find(v.text);
    if (it == ids_.end())
      fail(v.pos, "value %" + std::string(v.text) + " is not defined before its use");
    return it->second;
  }

  Type parse_type() {
    Token d = lex_.next();
    Type t;
    if (d.kind != Token::Ident) fail(d.pos, "expected a type, found " + describe(d));
    if (!dtype_from_short_name(std::string(d.text), &t.dtype))
      fail(d.pos, "unknown dtype " + describe(d));
    expect("[");
    int64_t elements = 1;
    bool overflow = false;
    if (!accept("]")) {
      do {
        Token n = lex_.next();
        bool neg;
        uint64_t mag;
        if (n.kind != Token::Number || !looks_integral(n.text) || n.text[0] == '-')
          fail(n.pos, "expected a dimension, found " + describe(n));
        if (!parse_integer_text(n.text, &neg, &mag) ||
            mag > uint64_t(std::numeric_limits<int32_t>::max()))
          fail(n.pos, "dimension " + std::string(n.text) + " is too large");
        t.shape.push_back(int32_t(mag));
        overflow = overflow || __builtin_mul_overflow(elements, int64_t(mag), &elements);
      } while (accept(","));
      expect("]");
    }
    int64_t nbytes;
    if (overflow || __builtin_mul_overflow(elements, int64_t(t.dtype.size()), &nbytes))
      fail(d.pos, "type " + type_to_string(t) + " has too many elements");
    return t;
  }

  Token parse_literal_token() {
    Token t = lex_.next();
    if (t.kind != Token::Number && t.kind != Token::Ident)
      fail(t.pos, "expected a literal, found " + describe(t));
    return t;
  }

  Literal parse_literal() {
    Literal lit;
    if (accept("(")) {
      lit.complex = true;
      lit.re = parse_literal_token();
      expect(",");
      lit.im = parse_literal_token();
      expect(")");
    } else {
      lit.re = parse_literal_token();
    }
    return lit;
  }

  void parse_statement() {
    Token v = lex_.next();  // a Value token, checked by the caller
    if (ids_.count(v.text)) fail(v.pos, "value %" + std::string(v.text) + " is defined twice");
    expect("=");
    Token name = lex_.next();
    Op op;
    if (name.kind != Token::Ident) fail(name.pos, "expected an op name, found " + describe(name));
    if (!op_from_name(std::string(name.text), &op.kind))
      fail(name.pos, "unknown op " + describe(name));
    expect("(");
    if (!accept(")")) {
      do {
        Token o = lex_.next();
        if (o.kind != Token::Value)
          fail(o.pos, "expected an operand (%name), found " + describe(o));
        op.operands.push_back(lookup(o));
      } while (accept(","));
      expect(")");
    }

    bool has_value = false;
    Lexer::State value_state{};
    if (accept("{")) {
      if (!accept("}")) {
        do {
          Token a = lex_.next();
          if (a.kind != Token::Ident)
            fail(a.pos, "expected an attribute name, found " + describe(a));
          std::string aname(a.text);
          if (op.attrs.count(aname) || (has_value && aname == "value"))
            fail(a.pos, "attribute '" + aname + "' is given twice");
          expect("=");
          if (lex_.peek().kind == Token::Global) {
            Token ref = lex_.next();
            int role = role_of(aname);
            if (op.kind != OpKind::Custom || role < 0)
              fail(ref.pos, "attribute '" + aname + "' cannot name a function (only a custom " +
                                "op's forward, vjp and jvp do)");
            for (const CalleeRef& r : refs_)
              if (r.op == f_.ops.size() && r.role == role)
                fail(a.pos, "attribute '" + aname + "' is given twice");
            refs_.push_back({f_.ops.size(), role, ref});
          } else if (op.kind == OpKind::Constant && aname == "value") {
            // Checked and counted now, stored once the type is known.
            has_value = true;
            value_state = lex_.save();
            read_value(nullptr, nullptr);
          } else if (accept("[")) {
            std::vector<int64_t> list;
            if (!accept("]")) {
              do list.push_back(parse_int64(lex_.next()));
              while (accept(","));
              expect("]");
            }
            op.attrs.emplace(aname, std::move(list));
          } else {
            op.attrs.emplace(aname, parse_int64(lex_.next()));
          }
        } while (accept(","));
        expect("}");
      }
    }
    expect(":");
    op.type = parse_type();

    if (op.kind == OpKind::Constant) {
      if (!has_value) fail(name.pos, "a constant needs a 'value' attribute");
      Lexer::State end = lex_.save();
      lex_.restore(value_state);
      op.data = read_value(&op.type, &value_state);
      lex_.restore(end);
    }
    define(v);
    op_pos_.push_back(v.pos);
    f_.ops.push_back(std::move(op));
    // Verified as soon as it is read, so errors come in the text's order;
    // a custom op once its callees are linked (link()).
    if (f_.ops.back().kind == OpKind::Custom) return;
    std::string problem = detail::verify_op(f_, f_.ops.size() - 1);
    if (!problem.empty())
      fail(v.pos,
           "op %" + std::string(v.text) + " (" + op_name(f_.ops.back().kind) + "): " + problem);
  }

  // Reads a constant's value: a literal (a splat) or a list of them. Without
  // a type it only checks the syntax; with one it checks the literal count
  // against the type, then allocates and stores the elements.
  runtime::BufferPtr read_value(const Type* t, const Lexer::State* start) {
    Pos pos = lex_.peek().pos;
    if (!accept("[")) {
      Literal lit = parse_literal();
      if (!t) return nullptr;
      int64_t n = t->size();  // parse_type checked that this does not overflow
      if (n > kMaxSplatElements)
        fail(pos, "splat constant of type " + type_to_string(*t) + " has more than 2^28 elements");
      // Converted once, even for an empty shape (so its errors are reported).
      alignas(16) char one[16];
      store_literal(t->dtype, one, 0, lit);
      auto data = runtime::allocate(size_t(t->nbytes()));
      char* p = static_cast<char*>(data->data());
      size_t w = t->dtype.size();
      for (int64_t i = 0; i < n; ++i) std::memcpy(p + i * w, one, w);
      return data;
    }
    int64_t count = 0;
    if (!accept("]")) {
      do {
        parse_literal();
        ++count;
      } while (accept(","));
      expect("]");
    }
    if (!t) return nullptr;
    int64_t n = t->size();
    if (count != n)
      fail(pos, "constant has " + std::to_string(count) + " values but its type " +
                    type_to_string(*t) + " has " + std::to_string(n) + " elements");
    if (n > kMaxConstantElements)
      fail(pos, "constant of type " + type_to_string(*t) + " is too large");
    auto data = runtime::allocate(size_t(t->nbytes()));
    lex_.restore(*start);
    expect("[");
    for (int64_t i = 0; i < n; ++i) {
      if (i) expect(",");
      store_literal(t->dtype, data->data(), i, parse_literal());
    }
    return data;
  }

  static int role_of(const std::string& name) {
    if (name == "forward") return 0;
    if (name == "vjp") return 1;
    if (name == "jvp") return 2;
    return -1;
  }

  Lexer lex_;
  // The function being read.
  Function f_;
  std::vector<CalleeRef> refs_;
  std::unordered_map<std::string_view, int> ids_;
  std::vector<std::string> names_;  // source name of each value id
  std::vector<Pos> input_pos_, op_pos_;
};

}  // namespace

Function parse(const std::string& text) {
  Parser p(text);
  return p.parse_module();
}

}  // namespace kiln::ir
