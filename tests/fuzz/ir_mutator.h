#pragma once
// A structure-aware mutation of IR text for fuzz_ir: parse, change one
// thing in the function (an op's kind, an attribute list, an operand, an
// input's shape or dtype, an output, a new op), recompute every type with
// the type rules, print. Byte-level mutations of text mostly break the
// syntax; these keep it valid and reach what only well-typed functions
// reach (fusion, kernels): an empty axes list, a zero-sized dimension, a
// negative stride.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ir/function.h"
#include "ir/ops.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/type_rules.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);  // libFuzzer's

namespace kiln::fuzz {

class IrMutator {
 public:
  explicit IrMutator(unsigned seed) : rng_(seed) {}

  // Mutates the function in `text`; false (text unchanged) when the text
  // does not parse or the mutation gave no well-typed function.
  bool mutate(std::string& text) {
    ir::Function f;
    try {
      f = ir::parse(text);
    } catch (const std::exception&) {
      return false;
    }
    if (f.ops.empty() && f.inputs.empty()) return false;
    switch (pick(7)) {
      case 0: change_kind(f); break;
      case 1: change_attribute(f); break;
      case 2: change_operand(f); break;
      case 3: change_input(f); break;
      case 4: change_output(f); break;
      default: add_op(f); break;
    }
    if (!retype(f)) return false;
    text = ir::print(f);
    return true;
  }

 private:
  int pick(int n) { return int(rng_() % unsigned(n)); }
  int64_t small_int() {
    static const int64_t values[] = {-3, -2, -1, 0, 0, 1, 1, 2, 3, 4, 7, 2147483647};
    return values[pick(12)];
  }
  int random_value(const ir::Function& f, int before) { return before > 0 ? pick(before) : 0; }

  // An op (not a constant or custom op) to change, as an index, or -1.
  int some_op(const ir::Function& f) {
    std::vector<int> ok;
    for (size_t i = 0; i < f.ops.size(); ++i)
      if (f.ops[i].kind != ir::OpKind::Constant && f.ops[i].kind != ir::OpKind::Custom) ok.push_back(int(i));
    return ok.empty() ? -1 : ok[size_t(pick(int(ok.size())))];
  }

  ir::OpKind kind_like(ir::OpKind k) {
    for (int tries = 0; tries < 50; ++tries) {
      auto c = ir::OpKind(pick(ir::kNumOpKinds));
      bool same = (ir::is_unary_elementwise(k) && ir::is_unary_elementwise(c)) ||
                  (ir::is_binary_elementwise(k) && ir::is_binary_elementwise(c)) ||
                  (ir::is_reduction(k) && ir::is_reduction(c)) ||
                  ((k == ir::OpKind::Argmax || k == ir::OpKind::Argmin) &&
                   (c == ir::OpKind::Argmax || c == ir::OpKind::Argmin));
      if (same) return c;
    }
    return k;
  }

  void change_kind(ir::Function& f) {
    int i = some_op(f);
    if (i >= 0) f.ops[size_t(i)].kind = kind_like(f.ops[size_t(i)].kind);
  }

  // One attribute of one op: an element removed, added or changed, the
  // list emptied, or an integer changed.
  void change_attribute(ir::Function& f) {
    int i = some_op(f);
    if (i < 0 || f.ops[size_t(i)].attrs.empty()) return;
    ir::Attrs& attrs = f.ops[size_t(i)].attrs;
    auto it = attrs.begin();
    std::advance(it, pick(int(attrs.size())));
    if (auto* list = std::get_if<std::vector<int64_t>>(&it->second)) {
      switch (pick(4)) {
        case 0: if (!list->empty()) list->erase(list->begin() + pick(int(list->size()))); break;
        case 1: list->insert(list->begin() + pick(int(list->size()) + 1), small_int()); break;
        case 2: if (!list->empty()) (*list)[size_t(pick(int(list->size())))] = small_int(); break;
        default: list->clear(); break;
      }
    } else {
      it->second = small_int();
    }
  }

  void change_operand(ir::Function& f) {
    int i = some_op(f);
    if (i < 0 || f.ops[size_t(i)].operands.empty()) return;
    ir::Op& op = f.ops[size_t(i)];
    op.operands[size_t(pick(int(op.operands.size())))] = random_value(f, int(f.inputs.size()) + i);
  }

  // An input's dtype, or one of its dimensions (changed, added, removed).
  void change_input(ir::Function& f) {
    if (f.inputs.empty()) return;
    ir::Type& t = f.inputs[size_t(pick(int(f.inputs.size())))];
    static const int32_t dims[] = {0, 1, 2, 3, 5, 8};
    switch (pick(4)) {
      case 0: t.dtype = Dtype(Dtype::Val(pick(kNumDtypes))); break;
      case 1: if (!t.shape.empty()) t.shape[size_t(pick(int(t.shape.size())))] = dims[pick(6)]; break;
      case 2: if (t.shape.size() < 5) t.shape.insert(t.shape.begin() + pick(int(t.shape.size()) + 1), dims[pick(6)]); break;
      default: if (!t.shape.empty()) t.shape.erase(t.shape.begin() + pick(int(t.shape.size()))); break;
    }
  }

  void change_output(ir::Function& f) {
    if (f.outputs.empty() || f.num_values() == 0) return;
    f.outputs[size_t(pick(int(f.outputs.size())))] = random_value(f, f.num_values());
  }

  // A new op on a random value (a reduction over random axes, a unary or a
  // binary elementwise op, a transpose), made an output.
  void add_op(ir::Function& f) {
    if (f.num_values() == 0) return;
    int v = random_value(f, f.num_values());
    int rank = int(f.value_type(v).shape.size());
    ir::Op op;
    op.type = f.value_type(v);
    switch (pick(4)) {
      case 0: {
        op.kind = kind_like(ir::OpKind::Sum);
        std::vector<int64_t> axes;
        for (int a = 0; a < rank; ++a)
          if (pick(2)) axes.push_back(a);
        op.attrs["axes"] = axes;
        op.operands = {v};
        break;
      }
      case 1: op.kind = kind_like(ir::OpKind::Abs), op.operands = {v}; break;
      case 2: op.kind = kind_like(ir::OpKind::Add), op.operands = {v, random_value(f, f.num_values())}; break;
      default: {
        op.kind = ir::OpKind::Transpose;
        std::vector<int64_t> perm;
        for (int a = rank - 1; a >= 0; --a) perm.push_back(a);
        op.attrs["perm"] = perm;
        op.operands = {v};
        break;
      }
    }
    int id = f.add_op(op);
    if (f.outputs.empty()) f.outputs.push_back(id);
    else f.outputs[size_t(pick(int(f.outputs.size())))] = id;
  }

  // Every op's type from its operands' by the type rules (the declared
  // type where the rule needs one); false when an op no longer type-checks.
  static bool retype(ir::Function& f) {
    for (size_t i = 0; i < f.ops.size(); ++i) {
      ir::Op& op = f.ops[i];
      if (op.kind == ir::OpKind::Constant || op.kind == ir::OpKind::Custom) continue;
      std::vector<ir::Type> in;
      for (int o : op.operands) {
        if (o < 0 || o >= int(f.inputs.size() + i)) return false;
        in.push_back(f.value_type(o));
      }
      try {
        op.type = ir::infer_type(op.kind, in, op.attrs, op.type);
      } catch (const std::exception&) {
        return false;
      }
    }
    return true;
  }

  std::mt19937 rng_;
};

// A custom mutator's body: for an even seed, IrMutator's structural
// mutation of the input as IR text (when it parses and the result fits);
// otherwise, or when that fails, libFuzzer's own mutation of the bytes
// (which also exercises the parser's error paths).
inline size_t mutate_ir_or_bytes(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  if (seed % 2 == 0) {
    std::string text(reinterpret_cast<const char*>(data), size);
    if (IrMutator(seed).mutate(text) && text.size() <= max_size) {
      std::memcpy(data, text.data(), text.size());
      return text.size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

}  // namespace kiln::fuzz
