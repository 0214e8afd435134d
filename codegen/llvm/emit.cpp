#include "codegen/llvm/emit.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "codegen/llvm/math.h"

namespace kiln::codegen {

namespace {

using kernel::Kernel;
using kernel::Node;
using kernel::NodeKind;
using kernel::RangeKind;
using kernel::ReduceSchedule;
using kernel::StrideKind;
using ir::OpKind;

// Renders a kernel's schedule (passes/kernel_schedule.h): every choice of
// loop structure, hoisting, accumulators and hints is the schedule's.
class Emitter {
 public:
  Emitter(const Kernel& k, llvm::Module& m) : k_(k), s_(k.schedule), m_(m), ctx_(m.getContext()), b_(ctx_) {}

  // The kernel is two functions. `name` has the KernelFn signature (jit.h):
  // it loads the buffer pointers from args and calls `name.body`, which
  // takes them as noalias parameters and is always inlined. After inlining,
  // LLVM keeps the noalias facts as scoped alias metadata on the loads and
  // stores, so the vectorizer needs no runtime overlap checks between the
  // output and the inputs. That is sound because the output buffer is never
  // one of the input buffers (the executor allocates it, or reuses the
  // buffer of input k = in_place, which is then read through the output
  // pointer and never through its own), and inputs that share a buffer are
  // only read, which noalias allows. Arguments that are extra outputs
  // (kernel::ExtraOutput) are fresh buffers the kernel only writes.
  void emit_function(const std::string& name) {
    auto* ptr = b_.getPtrTy();
    auto* i64 = b_.getInt64Ty();
    size_t n_in = k_.inputs.size();
    std::vector<llvm::Type*> params(n_in + 2, ptr);  // inputs, output, parameter block
    params.push_back(i64);
    params.push_back(i64);
    fn_ = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), params, false),
                                 llvm::Function::InternalLinkage, name + ".body", m_);
    fn_->addFnAttr(llvm::Attribute::NoUnwind);
    fn_->addFnAttr(llvm::Attribute::AlwaysInline);
    for (size_t i = 0; i < n_in + 2; ++i) {
      fn_->addParamAttr(unsigned(i), llvm::Attribute::NoAlias);
      fn_->addParamAttr(unsigned(i), llvm::Attribute::NoCapture);
      if (i != n_in && !k_.writes_arg(int(i))) fn_->addParamAttr(unsigned(i), llvm::Attribute::ReadOnly);
    }
    emit_wrapper(name);

    auto* entry = llvm::BasicBlock::Create(ctx_, "entry", fn_);
    b_.SetInsertPoint(entry);
    out_ = fn_->getArg(unsigned(n_in));
    for (size_t i = 0; i < n_in; ++i) inputs_.push_back(int(i) == s_.in_place ? out_ : fn_->getArg(unsigned(i)));
    params_ptr_ = fn_->getArg(unsigned(n_in + 1));
    llvm::Value* begin = fn_->getArg(unsigned(n_in + 2));
    llvm::Value* end = fn_->getArg(unsigned(n_in + 3));
    for (int i = 0; i < k_.num_params; ++i)
      params_.push_back(b_.CreateLoad(i64, b_.CreateConstInBoundsGEP1_64(i64, params_ptr_, i)));
    // Constants passed as parameters, converted here in the entry block,
    // which dominates every use.
    constant_values_.assign(k_.nodes.size(), nullptr);
    for (size_t i = 0; i < k_.nodes.size(); ++i)
      if (k_.nodes[i].kind == NodeKind::Constant && k_.nodes[i].value_param >= 0)
        constant_values_[i] = constant_param(k_.nodes[i]);
    vars_.assign(k_.num_vars, nullptr);
    memo_.emplace_back();

    if (k_.rank == 0) {
      store(b_.getInt64(0), emit(k_.root));
      store_extra_outputs(b_.getInt64(0));
    } else if (k_.rank == 1) {
      emit_all(s_.hoisted);  // reductions to a scalar: once per call
      if (s_.column.reduce >= 0) {
        emit_columns(begin, end, b_.getInt64(0), 0);
      } else {
        loop(begin, end, [&](llvm::Value* i) {
          vars_[0] = i;
          store(i, emit(k_.root));
          store_extra_outputs(i);
        }, 1, element_loop_hints());
      }
    } else {
      int last = k_.rank - 1;
      llvm::Value* inner = params_[k_.size_params[last]];
      // Rows [begin, end) in full; or, by elements, the elements
      // [begin, end): the rows they touch, each from its first to its last
      // column in the range (jit.h).
      bool by_element = s_.range == RangeKind::Elements;
      llvm::Value* first_row = begin, *end_row = end;
      if (by_element) {
        llvm::Value* divisor = b_.CreateSelect(b_.CreateICmpEQ(inner, b_.getInt64(0)), b_.getInt64(1), inner);
        first_row = b_.CreateUDiv(begin, divisor);
        end_row = b_.CreateUDiv(b_.CreateAdd(end, b_.CreateSub(divisor, b_.getInt64(1))), divisor);
      }
      // The leading output indices of the first row, by division once per
      // call; each row then advances them as an odometer. (Dividing the row
      // index again for every row cost more than the row's own work at 16
      // or 32 columns: four 64-bit divisions per row of a 6-D kernel.)
      // The counters live in stack slots, which LLVM turns into registers.
      std::vector<llvm::Value*> index(size_t(last), nullptr);
      {
        llvm::IRBuilderBase::InsertPointGuard guard(b_);
        b_.SetInsertPoint(entry, entry->begin());
        for (auto& slot : index) slot = b_.CreateAlloca(i64);
      }
      std::vector<llvm::Value*> sizes(static_cast<size_t>(last), nullptr);
      llvm::Value* rest = first_row;
      for (int d = last - 1; d >= 0; --d) {
        llvm::Value* size = params_[k_.size_params[d]];
        sizes[size_t(d)] = size;
        // (An empty output runs no row; its zero sizes must not divide.)
        llvm::Value* divisor = b_.CreateSelect(b_.CreateICmpEQ(size, b_.getInt64(0)), b_.getInt64(1), size);
        b_.CreateStore(d == 0 ? rest : b_.CreateURem(rest, divisor), index[size_t(d)]);
        if (d) rest = b_.CreateUDiv(rest, divisor);
      }
      loop(first_row, end_row, [&](llvm::Value* row) {
        for (int d = 0; d < last; ++d) vars_[d] = b_.CreateLoad(i64, index[size_t(d)]);
        // The next row's indices: the last leading one plus one, carried
        // (stored for the next row at the end; prefetches read them).
        next_row_vars_.assign(size_t(last), nullptr);
        llvm::Value* carry = b_.getTrue();
        for (int d = last - 1; d >= 0; --d) {
          llvm::Value* next = b_.CreateAdd(vars_[d], b_.CreateZExt(carry, i64));
          if (d > 0) {
            carry = b_.CreateICmpEQ(next, sizes[size_t(d)]);
            next = b_.CreateSelect(carry, b_.getInt64(0), next);
          }
          next_row_vars_[size_t(d)] = next;
        }
        llvm::Value* base = b_.CreateMul(row, inner, "", true, true);
        row_base_ = base;
        emit_all(s_.hoisted);
        llvm::Value* c_begin = b_.getInt64(0), *c_end = inner;
        if (by_element) {
          c_begin = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, b_.CreateSub(begin, base), c_begin);
          c_end = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateSub(end, base), c_end);
        }
        if (s_.column.reduce >= 0) {
          emit_columns(c_begin, c_end, base, last);
        } else {
          element_loop(c_begin, c_end, base);
        }
        for (int d = 0; d < last; ++d) b_.CreateStore(next_row_vars_[size_t(d)], index[size_t(d)]);
      });
    }
    b_.CreateRetVoid();
    std::string err;
    llvm::raw_string_ostream es(err);
    if (llvm::verifyFunction(*fn_, &es)) throw std::runtime_error("kiln codegen produced invalid IR: " + err);
  }

 private:
  // `name(void** args, i64 begin, i64 end)`: loads the pointers, calls the body.
  void emit_wrapper(const std::string& name) {
    auto* ptr = b_.getPtrTy();
    auto* i64 = b_.getInt64Ty();
    auto* fty = llvm::FunctionType::get(b_.getVoidTy(), {ptr, i64, i64}, false);
    llvm::Function* outer = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, m_);
    outer->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", outer));
    std::vector<llvm::Value*> call_args;
    for (size_t i = 0; i < k_.inputs.size() + 2; ++i)
      call_args.push_back(b_.CreateLoad(ptr, b_.CreateConstInBoundsGEP1_64(ptr, outer->getArg(0), i)));
    call_args.push_back(outer->getArg(1));
    call_args.push_back(outer->getArg(2));
    b_.CreateCall(fn_, call_args);
    b_.CreateRetVoid();
  }

  // ---- types ---------------------------------------------------------------
  llvm::Type* compute_type(Dtype t) {
    switch (t.val) {
      case Dtype::Val::bool_: return b_.getInt1Ty();
      case Dtype::Val::uint8: case Dtype::Val::int8: return b_.getInt8Ty();
      case Dtype::Val::uint16: case Dtype::Val::int16: return b_.getInt16Ty();
      case Dtype::Val::uint32: case Dtype::Val::int32: return b_.getInt32Ty();
      case Dtype::Val::uint64: case Dtype::Val::int64: return b_.getInt64Ty();
      case Dtype::Val::float64: return b_.getDoubleTy();
      default: return b_.getFloatTy();  // float16, bfloat16, float32 compute in float
    }
  }
  llvm::Type* storage_type(Dtype t) {
    if (t == bool_) return b_.getInt8Ty();
    if (t == float16 || t == bfloat16) return b_.getInt16Ty();
    return compute_type(t);
  }

  // ---- 16-bit float conversions, in integer ops so they vectorize --------
  llvm::Value* as_float(llvm::Value* bits) { return b_.CreateBitCast(bits, b_.getFloatTy()); }
  llvm::Value* as_bits(llvm::Value* f) { return b_.CreateBitCast(f, b_.getInt32Ty()); }

  llvm::Value* half_to_float(llvm::Value* h16) {
    llvm::Value* h = b_.CreateZExt(h16, b_.getInt32Ty());
    llvm::Value* sign = b_.CreateShl(b_.CreateAnd(h, 0x8000), 16);
    llvm::Value* em = b_.CreateAnd(h, 0x7fff);
    llvm::Value* shifted = b_.CreateShl(em, 13);
    // Normal and subnormal halves: the bits as a float, scaled by 2^112.
    llvm::Value* finite = b_.CreateFMul(as_float(shifted), llvm::ConstantFP::get(b_.getFloatTy(), 0x1p112));
    llvm::Value* special = as_float(b_.CreateOr(shifted, 0x7f800000));
    llvm::Value* mag = b_.CreateSelect(b_.CreateICmpUGE(em, b_.getInt32(0x7c00)), special, finite);
    return as_float(b_.CreateOr(as_bits(mag), sign));
  }

  llvm::Value* float_to_half(llvm::Value* f) {
    llvm::Value* x = as_bits(f);
    llvm::Value* sign = b_.CreateAnd(b_.CreateLShr(x, 16), 0x8000);
    llvm::Value* ax = b_.CreateAnd(x, 0x7fffffff);
    // Subnormal results: let the float adder round (as in ir/dtype.cpp).
    llvm::Value* r = b_.CreateFAdd(as_float(ax), llvm::ConstantFP::get(b_.getFloatTy(), 0.5));
    llvm::Value* sub = b_.CreateSub(as_bits(r), b_.getInt32(0x3f000000));
    llvm::Value* odd = b_.CreateAnd(b_.CreateLShr(ax, 13), 1);
    llvm::Value* normal = b_.CreateLShr(b_.CreateAdd(b_.CreateAdd(ax, b_.getInt32(0xc8000fff)), odd), 13);
    llvm::Value* v = b_.CreateSelect(b_.CreateICmpULT(ax, b_.getInt32(0x38800000)), sub, normal);
    v = b_.CreateSelect(b_.CreateICmpUGE(ax, b_.getInt32(0x477ff000)), b_.getInt32(0x7c00), v);
    v = b_.CreateSelect(b_.CreateICmpUGT(ax, b_.getInt32(0x7f800000)), b_.getInt32(0x7e00), v);
    return b_.CreateTrunc(b_.CreateOr(v, sign), b_.getInt16Ty());
  }

  llvm::Value* bfloat_to_float(llvm::Value* h16) {
    return as_float(b_.CreateShl(b_.CreateZExt(h16, b_.getInt32Ty()), 16));
  }

  llvm::Value* float_to_bfloat(llvm::Value* f) {
    llvm::Value* x = as_bits(f);
    llvm::Value* nan = b_.CreateOr(b_.CreateLShr(x, 16), 0x40);
    llvm::Value* rounded = b_.CreateLShr(
        b_.CreateAdd(b_.CreateAdd(x, b_.getInt32(0x7fff)), b_.CreateAnd(b_.CreateLShr(x, 16), 1)), 16);
    llvm::Value* isnan = b_.CreateICmpUGT(b_.CreateAnd(x, 0x7fffffff), b_.getInt32(0x7f800000));
    return b_.CreateTrunc(b_.CreateSelect(isnan, nan, rounded), b_.getInt16Ty());
  }

  // Rounds a float-computed value to the precision of a 16-bit dtype, so
  // every intermediate matches what storing it would give.
  llvm::Value* round_to(Dtype t, llvm::Value* v) {
    if (t == float16) return half_to_float(float_to_half(v));
    if (t == bfloat16) return bfloat_to_float(float_to_bfloat(v));
    return v;
  }

  llvm::Value* to_storage(Dtype t, llvm::Value* v) {
    if (t == bool_) return b_.CreateZExt(v, b_.getInt8Ty());
    if (t == float16) return float_to_half(v);
    if (t == bfloat16) return float_to_bfloat(v);
    return v;
  }
  llvm::Value* from_storage(Dtype t, llvm::Value* v) {
    if (t == bool_) return b_.CreateICmpNE(v, b_.getInt8(0));
    if (t == float16) return half_to_float(v);
    if (t == bfloat16) return bfloat_to_float(v);
    return v;
  }

  void store(llvm::Value* index, llvm::Value* v) {
    llvm::Type* st = storage_type(k_.output);
    llvm::Value* p = b_.CreateInBoundsGEP(st, out_, index);
    b_.CreateStore(to_storage(k_.output, v), p);
  }

  // The extra outputs' values at output index `index` (kernels with extra
  // outputs have no reductions: only element loops store them).
  void store_extra_outputs(llvm::Value* index) {
    for (const kernel::ExtraOutput& e : k_.extra_outputs) {
      Dtype t = k_.inputs[size_t(e.arg)];
      llvm::Value* p = b_.CreateInBoundsGEP(storage_type(t), inputs_[size_t(e.arg)], index);
      b_.CreateStore(to_storage(t, emit(e.node)), p);
    }
  }

  // The loop over columns [c_begin, c_end) of the row starting at output
  // index `base` (rank >= 2). With Schedule::stream_output the row is
  // computed in blocks into a small scratch buffer (in L1), and each block
  // is copied out with non-temporal vector stores (vmovntps) where whole
  // 64-byte lines are written: the output goes to memory without first
  // being read into the cache, a third less memory traffic. (The loop
  // vectorizer does not widen non-temporal stores itself: it cannot prove
  // them aligned; the copy is written with vectors and aligned lines.)
  void element_loop(llvm::Value* c_begin, llvm::Value* c_end, llvm::Value* base) {
    int last = k_.rank - 1;
    llvm::Type* st = storage_type(k_.output);
    int cache_node = s_.row_cache.node;
    auto element = [&](llvm::Value* c, llvm::Value* ptr) {
      vars_[last] = c;
      if (cache_node >= 0)  // the row cache (Schedule::row_cache), in the output row
        memo_.back().values[cache_node] =
            from_storage(k_.output, b_.CreateLoad(st, b_.CreateInBoundsGEP(st, out_, b_.CreateAdd(base, c, "", true, true))));
      b_.CreateStore(to_storage(k_.output, emit(k_.root)), ptr);
      if (!k_.extra_outputs.empty()) store_extra_outputs(b_.CreateAdd(base, c, "", true, true));
    };
    if (!s_.stream_output) {
      loop(c_begin, c_end, [&](llvm::Value* c) {
        element(c, b_.CreateInBoundsGEP(st, out_, b_.CreateAdd(base, c, "", true, true)));
      }, 1, element_loop_hints());
      return;
    }
    if (!stream_scratch_) {
      llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
      auto* a = entry.CreateAlloca(st, entry.getInt64(s_.stream_block));
      a->setAlignment(llvm::Align(64));
      stream_scratch_ = a;
    }
    loop(c_begin, c_end, [&](llvm::Value* s) {
      llvm::Value* e = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateAdd(s, b_.getInt64(s_.stream_block)), c_end);
      loop(s, e, [&](llvm::Value* c) { element(c, b_.CreateInBoundsGEP(st, stream_scratch_, b_.CreateSub(c, s))); },
           1, element_loop_hints());
      copy_out(stream_scratch_, s, e, base);
    }, s_.stream_block);
  }

  // out[base + c] = scratch[c - s] for c in [s, e): whole 64-byte lines
  // with aligned non-temporal vector stores, the columns before and after
  // them one by one.
  void copy_out(llvm::Value* scratch, llvm::Value* s, llvm::Value* e, llvm::Value* base) {
    llvm::Type* st = storage_type(k_.output);
    int64_t per_line = 64 / int64_t(k_.output.size());
    llvm::Value* mask = b_.getInt64(~uint64_t(per_line - 1));
    llvm::Value* up = b_.CreateAnd(b_.CreateAdd(b_.CreateAdd(base, s), b_.getInt64(per_line - 1)), mask);
    llvm::Value* s_al = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateSub(up, base), e);
    llvm::Value* down = b_.CreateSub(b_.CreateAnd(b_.CreateAdd(base, e), mask), base);
    llvm::Value* e_al = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, down, s_al);
    auto one = [&](llvm::Value* c) {
      llvm::Value* v = b_.CreateLoad(st, b_.CreateInBoundsGEP(st, scratch, b_.CreateSub(c, s)));
      b_.CreateStore(v, b_.CreateInBoundsGEP(st, out_, b_.CreateAdd(base, c, "", true, true)));
    };
    llvm::MDNode* scalar = loop_hint("llvm.loop.vectorize.width", 1);  // under a line each
    loop(s, s_al, one, 1, scalar);
    auto* vt = llvm::FixedVectorType::get(st, unsigned(per_line));
    llvm::MDNode* nt = llvm::MDNode::get(ctx_, {llvm::ConstantAsMetadata::get(b_.getInt32(1))});
    loop(s_al, e_al, [&](llvm::Value* c) {
      llvm::Value* v = b_.CreateAlignedLoad(vt, b_.CreateInBoundsGEP(st, scratch, b_.CreateSub(c, s)),
                                            llvm::Align(k_.output.size()));
      // base + c is a multiple of per_line here: a 64-byte aligned line, as
      // every output buffer starts at a multiple of 64 bytes
      // (runtime::Buffer::kAlignment; reductions never write in place).
      auto* store = b_.CreateAlignedStore(v, b_.CreateInBoundsGEP(st, out_, b_.CreateAdd(base, c, "", true, true)),
                                          llvm::Align(64));
      store->setMetadata(llvm::LLVMContext::MD_nontemporal, nt);
    }, per_line);
    loop(e_al, e, one, 1, scalar);
  }

  // ---- loops -----------------------------------------------------------------
  template <typename Body>
  void loop(llvm::Value* start, llvm::Value* end, Body body, int64_t step = 1, llvm::MDNode* md = nullptr) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* header = llvm::BasicBlock::Create(ctx_, "loop", fn_);
    auto* bodyb = llvm::BasicBlock::Create(ctx_, "body", fn_);
    auto* exit = llvm::BasicBlock::Create(ctx_, "exit", fn_);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2);
    iv->addIncoming(start, pre);
    b_.CreateCondBr(b_.CreateICmpSLT(iv, end), bodyb, exit);
    b_.SetInsertPoint(bodyb);
    memo_.emplace_back();
    body(iv);
    memo_.pop_back();
    llvm::Value* next = b_.CreateAdd(iv, b_.getInt64(step), "", true, true);
    iv->addIncoming(next, b_.GetInsertBlock());
    llvm::Instruction* latch = b_.CreateBr(header);
    if (md) latch->setMetadata(llvm::LLVMContext::MD_loop, md);
    b_.SetInsertPoint(exit);
  }

  // Loop metadata with one hint for the vectorizer, e.g.
  // llvm.loop.vectorize.width 16: a hint, not a demand (no warning where the
  // loop cannot be vectorized).
  llvm::MDNode* loop_hint(const char* name, int value) {
    llvm::Metadata* w[] = {llvm::MDString::get(ctx_, name),
                           llvm::ConstantAsMetadata::get(b_.getInt32(uint32_t(value)))};
    llvm::Metadata* ops[] = {nullptr, llvm::MDNode::get(ctx_, w)};
    llvm::MDNode* md = llvm::MDNode::getDistinct(ctx_, ops);
    md->replaceOperandWith(0, md);  // a loop ID refers to itself
    return md;
  }

  // The hints for the loop over output elements (Schedule::interleave).
  // Without one, LLVM's own choice for AVX-512 (8 lanes, interleaved 4 times)
  // leaves rows shorter than 32 elements entirely scalar: channels-last
  // convolution data (16 or 32 channels per row) ran 1.7x slower.
  llvm::MDNode* element_loop_hints() {
    return loop_hint("llvm.loop.interleave.count", s_.interleave ? s_.interleave : 1);
  }

  // Emits, at the current point, each of `nodes` (reductions the schedule
  // hoists there) not computed yet.
  void emit_all(const std::vector<int>& nodes) {
    for (int i : nodes) emit(i);
  }

  llvm::Value* lookup(int node) {
    uint64_t rebound = 0;
    for (auto it = memo_.rbegin(); it != memo_.rend(); ++it) {
      auto f = it->values.find(node);
      if (f != it->values.end()) return s_.deps[node] & rebound ? nullptr : f->second;
      rebound |= it->binds;
    }
    return nullptr;
  }

  // The value of a constant passed as a parameter (kernel.h): the bits of
  // a double for floating dtypes, else the integer, truncated.
  llvm::Value* constant_param(const Node& n) {
    llvm::Type* t = compute_type(n.dtype);
    llvm::Value* bits = params_[n.value_param];
    if (!t->isFloatingPointTy()) return b_.CreateTrunc(bits, t);
    llvm::Value* d = b_.CreateBitCast(bits, b_.getDoubleTy());
    return t->isDoubleTy() ? d : b_.CreateFPTrunc(d, t);
  }

  int node_id(const Node& n) const { return int(&n - k_.nodes.data()); }

  llvm::Value* emit(int node) {
    if (constant_values_[node]) return constant_values_[node];
    if (llvm::Value* v = lookup(node)) return v;
    llvm::Value* v = emit_node(k_.nodes[node]);
    memo_.back().values[node] = v;
    return v;
  }

  llvm::Value* emit_node(const Node& n) {
    switch (n.kind) {
      case NodeKind::Load: {
        llvm::Type* st = storage_type(n.dtype);
        llvm::Value* p = b_.CreateInBoundsGEP(st, inputs_[n.arg], affine_offset(n));
        return from_storage(n.dtype, b_.CreateLoad(st, p));
      }
      case NodeKind::Gather: {
        llvm::Value* pos = gather_position(k_.nodes[n.operands[0]].dtype, emit(n.operands[0]), params_[n.extent_param]);
        llvm::Value* off = b_.CreateAdd(affine_offset(n), b_.CreateMul(pos, params_[n.gather_stride_param], "", false, true),
                                        "", false, true);
        llvm::Type* st = storage_type(n.dtype);
        return from_storage(n.dtype, b_.CreateLoad(st, b_.CreateInBoundsGEP(st, inputs_[n.arg], off)));
      }
      case NodeKind::Constant: {
        llvm::Type* t = compute_type(n.dtype);
        if (t->isFloatingPointTy()) return llvm::ConstantFP::get(t, n.fvalue);
        return llvm::ConstantInt::get(t, uint64_t(n.ivalue));
      }
      case NodeKind::Reduce:
        return emit_reduce(n);
      case NodeKind::Select:
        return b_.CreateSelect(emit(n.operands[0]), emit(n.operands[1]), emit(n.operands[2]));
      case NodeKind::Unary: {
        Dtype in = k_.nodes[n.operands[0]].dtype;
        return round_to(n.dtype, emit_unary(n.op, in, n.dtype, emit(n.operands[0])));
      }
      case NodeKind::Binary: {
        Dtype in = k_.nodes[n.operands[0]].dtype;
        return round_to(n.dtype, emit_binary(n.op, in, emit(n.operands[0]), emit(n.operands[1])));
      }
    }
    return nullptr;
  }

  // The element offset of a Load or Gather: offset + sum(var * stride).
  llvm::Value* affine_offset(const Node& n) {
    llvm::Value* off = params_[n.offset_param];
    for (size_t v = 0; v < n.strides.size(); ++v) {
      const auto& s = n.strides[v];
      if (s.kind == StrideKind::Zero) continue;
      llvm::Value* term = s.kind == StrideKind::One ? vars_[v] : b_.CreateMul(vars_[v], params_[s.param], "", false, true);
      off = b_.CreateAdd(off, term, "", false, true);
    }
    return off;
  }

  // A gather's index `i` (of integer dtype t) as a position in [0, n), n >
  // 0, as the interpreter's take reads it (ir/interpreter.cpp, load_index):
  // a negative index wraps once, anything still outside is clamped.
  llvm::Value* gather_position(Dtype t, llvm::Value* i, llvm::Value* n) {
    llvm::Value* last = b_.CreateSub(n, b_.getInt64(1));
    if (!is_signed_int(t)) {
      llvm::Value* u = b_.CreateZExt(i, b_.getInt64Ty());
      return b_.CreateSelect(b_.CreateICmpUGE(u, n), last, u);
    }
    llvm::Value* v = b_.CreateSExt(i, b_.getInt64Ty());
    v = b_.CreateSelect(b_.CreateICmpSLT(v, b_.getInt64(0)), b_.CreateAdd(v, n), v);
    v = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, v, b_.getInt64(0));
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, v, last);
  }

  // ---- prefetching the next row (Schedule::prefetch) ---------------------------
  // Prefetches columns [start, end) of the next row of each input of
  // Schedule::prefetch (the row after the last is past the data: harmless).
  void prefetch_next_row(llvm::Value* start, llvm::Value* end) {
    int last = k_.rank - 1;
    const std::vector<llvm::Value*>& next = next_row_vars_;
    for (int i : s_.prefetch.loads) {
      const Node& n = k_.nodes[i];
      llvm::Value* off = params_[n.offset_param];
      for (int v = 0; v < last; ++v)
        if (n.strides[v].kind != StrideKind::Zero)
          off = b_.CreateAdd(off, n.strides[v].kind == StrideKind::One ? next[v] : b_.CreateMul(next[v], params_[n.strides[v].param]));
      llvm::Type* st = storage_type(n.dtype);
      // Not inbounds: the row after the last one lies outside the buffer.
      llvm::Value* row = b_.CreateGEP(st, inputs_[n.arg], off);
      loop(start, end, [&](llvm::Value* c) {
        b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {b_.getPtrTy()},
                           {b_.CreateGEP(st, row, c), b_.getInt32(0), b_.getInt32(2), b_.getInt32(1)});
      }, 64 / int64_t(n.dtype.size()));
    }
  }

  // ---- column reductions -----------------------------------------------------
  // The loop order of Schedule::column: for a block of outputs, the
  // reduction axis outside and the contiguous output axis inside, the
  // block's accumulators in a small stack array.
  void emit_columns(llvm::Value* cstart, llvm::Value* cend, llvm::Value* out_base, int inner_var) {
    int red = s_.column.reduce;
    int64_t block = s_.column.block;
    const Node& r = k_.nodes[red];
    Dtype acc_dtype = s_.reductions.at(red).accumulator;
    llvm::Type* acc_t = compute_type(acc_dtype);
    bool wide = acc_t != compute_type(r.dtype);
    llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
    llvm::Value* acc = entry.CreateAlloca(acc_t, b_.getInt64(block));
    llvm::Value* init = reduce_identity(r.op, acc_dtype);
    llvm::Value* extent = params_[r.extent_param];
    loop(cstart, cend, [&](llvm::Value* cb) {
      llvm::Value* ce = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateAdd(cb, b_.getInt64(block)), cend);
      auto slot = [&](llvm::Value* c) { return b_.CreateInBoundsGEP(acc_t, acc, b_.CreateSub(c, cb)); };
      loop(cb, ce, [&](llvm::Value* c) { b_.CreateStore(init, slot(c)); });
      loop(b_.getInt64(0), extent, [&](llvm::Value* i) {
        vars_[r.var] = i;
        loop(cb, ce, [&](llvm::Value* c) {
          vars_[inner_var] = c;
          llvm::Value* x = emit(r.operands[0]);
          if (wide) x = b_.CreateFPExt(x, acc_t);
          llvm::Value* p = slot(c);
          b_.CreateStore(combine(r.op, r.dtype, b_.CreateLoad(acc_t, p), x), p);
        });
      });
      loop(cb, ce, [&](llvm::Value* c) {
        vars_[inner_var] = c;
        llvm::Value* a = b_.CreateLoad(acc_t, slot(c));
        if (wide) a = b_.CreateFPTrunc(a, compute_type(r.dtype));
        memo_.back().values[red] = round_to(r.dtype, a);
        store(b_.CreateAdd(out_base, c, "", true, true), emit(k_.root));
      });
    }, block);
  }

  // ---- reductions --------------------------------------------------------------
  llvm::Value* reduce_identity(OpKind k, Dtype t) {
    llvm::Type* ty = compute_type(t);
    bool f = ty->isFloatingPointTy();
    switch (k) {
      case OpKind::Sum: return f ? llvm::ConstantFP::get(ty, -0.0) : llvm::ConstantInt::get(ty, 0);
      case OpKind::Prod: return f ? llvm::ConstantFP::get(ty, 1.0) : llvm::ConstantInt::get(ty, 1);
      case OpKind::All: return b_.getTrue();
      case OpKind::Any: return b_.getFalse();
      case OpKind::Max:
        if (f) return llvm::ConstantFP::getInfinity(ty, true);
        if (t == bool_) return b_.getFalse();
        return is_unsigned(t) ? llvm::ConstantInt::get(ty, 0)
                              : llvm::ConstantInt::get(ty, llvm::APInt::getSignedMinValue(ty->getIntegerBitWidth()));
      case OpKind::Min:
        if (f) return llvm::ConstantFP::getInfinity(ty, false);
        if (t == bool_) return b_.getTrue();
        return is_unsigned(t) ? llvm::ConstantInt::get(ty, llvm::APInt::getMaxValue(ty->getIntegerBitWidth()))
                              : llvm::ConstantInt::get(ty, llvm::APInt::getSignedMaxValue(ty->getIntegerBitWidth()));
      default: throw std::logic_error("not a reduction");
    }
  }

  llvm::Value* combine(OpKind k, Dtype t, llvm::Value* acc, llvm::Value* x) {
    bool f = acc->getType()->isFloatingPointTy();
    llvm::FastMathFlags fmf;
    fmf.setAllowReassoc();  // lets the vectorizer reorder the reduction
    llvm::IRBuilderBase::FastMathFlagGuard guard(b_);
    b_.setFastMathFlags(fmf);
    switch (k) {
      case OpKind::Sum: return f ? b_.CreateFAdd(acc, x) : (t == bool_ ? b_.CreateOr(acc, x) : b_.CreateAdd(acc, x));
      case OpKind::Prod: return f ? b_.CreateFMul(acc, x) : (t == bool_ ? b_.CreateAnd(acc, x) : b_.CreateMul(acc, x));
      case OpKind::All: return b_.CreateAnd(acc, x);
      case OpKind::Any: return b_.CreateOr(acc, x);
      case OpKind::Max: return max_or_min(true, t, acc, x);
      case OpKind::Min: return max_or_min(false, t, acc, x);
      default: throw std::logic_error("not a reduction");
    }
  }

  // One step of a float max (min) reduction, the cheap way: x > acc ? x :
  // acc, one vmaxps where llvm.maximum takes six dependent instructions.
  // It ignores nan and the sign of zero, which the flags tell LLVM (so it
  // can vectorize it as a reduction); the caller keeps whether any x was
  // nan, apart, and returns nan then. The value computed from a nan is
  // poison, but it is then never selected. Ties between -0 and +0 keep the
  // first, as the interpreter does.
  llvm::Value* float_extremum(bool is_max, llvm::Value* acc, llvm::Value* x) {
    llvm::IRBuilderBase::FastMathFlagGuard guard(b_);
    llvm::FastMathFlags fmf;
    fmf.setNoNaNs();
    fmf.setNoSignedZeros();
    b_.setFastMathFlags(fmf);
    llvm::Value* better = is_max ? b_.CreateFCmpOGT(x, acc) : b_.CreateFCmpOLT(x, acc);
    return b_.CreateSelect(better, x, acc);
  }

  llvm::Value* max_or_min(bool is_max, Dtype t, llvm::Value* a, llvm::Value* b) {
    if (a->getType()->isFloatingPointTy())
      return b_.CreateBinaryIntrinsic(is_max ? llvm::Intrinsic::maximum : llvm::Intrinsic::minimum, a, b);
    if (t == bool_) return is_max ? b_.CreateOr(a, b) : b_.CreateAnd(a, b);
    llvm::Intrinsic::ID id = is_unsigned(t) ? (is_max ? llvm::Intrinsic::umax : llvm::Intrinsic::umin)
                                            : (is_max ? llvm::Intrinsic::smax : llvm::Intrinsic::smin);
    return b_.CreateBinaryIntrinsic(id, a, b);
  }

  struct Partial {
    llvm::Value* acc;
    llvm::Value* seen_nan;  // float max/min only
  };

  // A loop from `start` while its variable is below `end`, carrying a
  // reduction's partial result (with seen_nan where `from` has one).
  // body(iv, partial) emits one iteration and returns the next value of the
  // variable and the next partial. Returns the final partial.
  template <typename Body>
  Partial carried_loop(const char* name, llvm::Value* start, llvm::Value* end, Partial from, Body body,
                       llvm::MDNode* md = nullptr) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* header = llvm::BasicBlock::Create(ctx_, name, fn_);
    auto* bodyb = llvm::BasicBlock::Create(ctx_, std::string(name) + ".body", fn_);
    auto* exit = llvm::BasicBlock::Create(ctx_, std::string(name) + ".exit", fn_);
    b_.CreateBr(header);
    b_.SetInsertPoint(header);
    llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2);
    llvm::PHINode* acc = b_.CreatePHI(from.acc->getType(), 2);
    iv->addIncoming(start, pre);
    acc->addIncoming(from.acc, pre);
    llvm::PHINode* seen_nan = nullptr;
    if (from.seen_nan) {
      seen_nan = b_.CreatePHI(b_.getInt1Ty(), 2);
      seen_nan->addIncoming(from.seen_nan, pre);
    }
    b_.CreateCondBr(b_.CreateICmpSLT(iv, end), bodyb, exit);
    b_.SetInsertPoint(bodyb);
    auto [next_iv, next] = body(iv, Partial{acc, seen_nan});
    iv->addIncoming(next_iv, b_.GetInsertBlock());
    acc->addIncoming(next.acc, b_.GetInsertBlock());
    if (seen_nan) seen_nan->addIncoming(next.seen_nan, b_.GetInsertBlock());
    llvm::Instruction* latch = b_.CreateBr(header);
    if (md) latch->setMetadata(llvm::LLVMContext::MD_loop, md);
    b_.SetInsertPoint(exit);
    return {acc, seen_nan};
  }

  // The reduction loop of n over [start, end) from `from`, with the
  // vectorize width its schedule asks for.
  Partial reduce_loop(const Node& n, llvm::Value* start, llvm::Value* end, Partial from, bool wide, bool extremum) {
    int width = s_.reductions.at(node_id(n)).vector_width;
    llvm::MDNode* md = width ? loop_hint("llvm.loop.vectorize.width", width) : nullptr;
    return carried_loop("red", start, end, from, [&](llvm::Value* iv, Partial p) {
      memo_.emplace_back();
      memo_.back().binds = uint64_t(1) << n.var;
      llvm::Value* saved = vars_[n.var];
      vars_[n.var] = iv;
      llvm::Value* x = emit(n.operands[0]);
      if (node_id(n) == s_.row_cache.reduce)  // see Schedule::row_cache
        store(b_.CreateAdd(row_base_, iv, "", true, true), x);
      if (wide) x = b_.CreateFPExt(x, p.acc->getType());
      Partial next{extremum ? float_extremum(n.op == OpKind::Max, p.acc, x) : combine(n.op, n.dtype, p.acc, x),
                   extremum ? b_.CreateOr(p.seen_nan, b_.CreateFCmpUNO(x, x)) : nullptr};
      vars_[n.var] = saved;
      memo_.pop_back();
      return std::pair{b_.CreateAdd(iv, b_.getInt64(1), "", true, true), next};
    }, md);
  }

  llvm::Value* emit_reduce(const Node& n) {
    const ReduceSchedule& rs = s_.reductions.at(node_id(n));
    // Inner reductions that do not depend on this one's variable run first.
    emit_all(rs.hoisted);
    llvm::Value* extent = params_[n.extent_param];
    llvm::Type* acc_type = compute_type(rs.accumulator);
    bool wide = acc_type != compute_type(n.dtype);
    // Float max/min: see float_extremum.
    bool extremum = (n.op == OpKind::Max || n.op == OpKind::Min) && acc_type->isFloatingPointTy();
    Partial from{reduce_identity(n.op, rs.accumulator), extremum ? b_.getFalse() : nullptr};
    Partial r;
    if (node_id(n) == s_.prefetch.reduce) {
      // In blocks, each starting with the prefetches of the same columns
      // of the next row (see Schedule::prefetch).
      r = carried_loop("block", b_.getInt64(0), extent, from, [&](llvm::Value* start, Partial p) {
        llvm::Value* end = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                                    b_.CreateAdd(start, b_.getInt64(s_.prefetch.block)), extent);
        prefetch_next_row(start, end);
        return std::pair{end, reduce_loop(n, start, end, p, wide, extremum)};
      });
    } else {
      r = reduce_loop(n, b_.getInt64(0), extent, from, wide, extremum);
    }
    llvm::Value* result = wide ? b_.CreateFPTrunc(r.acc, compute_type(n.dtype)) : r.acc;
    if (extremum) result = b_.CreateSelect(r.seen_nan, llvm::ConstantFP::getNaN(acc_type), result);
    // Float sums start from -0 (exact for a single -0 term); an empty one is +0.
    if (n.op == OpKind::Sum && result->getType()->isFloatingPointTy())
      result = b_.CreateSelect(b_.CreateICmpEQ(extent, b_.getInt64(0)), fconst(result->getType(), 0.0), result);
    return round_to(n.dtype, result);
  }

  // ---- elementwise ---------------------------------------------------------------
  llvm::Value* fconst(llvm::Type* t, double v) { return llvm::ConstantFP::get(t, v); }

  llvm::Value* call_libm(const char* fname, llvm::Value* x, llvm::Value* y = nullptr) {
    llvm::Type* t = x->getType();
    std::string name = fname;
    if (t->isFloatTy()) name += "f";
    std::vector<llvm::Type*> params(y ? 2 : 1, t);
    auto callee = m_.getOrInsertFunction(name, llvm::FunctionType::get(t, params, false));
    if (auto* f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
      f->setDoesNotThrow();
      f->setMemoryEffects(llvm::MemoryEffects::none());
    }
    return y ? b_.CreateCall(callee, {x, y}) : b_.CreateCall(callee, {x});
  }

  llvm::Value* intrinsic(llvm::Intrinsic::ID id, llvm::Value* x) { return b_.CreateUnaryIntrinsic(id, x); }

  llvm::Value* emit_cast(Dtype from, Dtype to, llvm::Value* x) {
    llvm::Type* tt = compute_type(to);
    llvm::Type* ft = x->getType();
    if (to == bool_) {
      return ft->isFloatingPointTy() ? b_.CreateFCmpUNE(x, fconst(ft, 0.0))
                                     : b_.CreateICmpNE(x, llvm::ConstantInt::get(ft, 0));
    }
    if (ft->isFloatingPointTy() && tt->isFloatingPointTy())
      return round_to(to, b_.CreateFPCast(x, tt));
    if (ft->isFloatingPointTy()) {  // saturating, nan -> 0 (as ir/element.h)
      auto id = is_unsigned(to) ? llvm::Intrinsic::fptoui_sat : llvm::Intrinsic::fptosi_sat;
      return b_.CreateIntrinsic(id, {tt, ft}, {x});
    }
    bool src_signed = is_signed_int(from);
    if (tt->isFloatingPointTy())
      return round_to(to, src_signed ? b_.CreateSIToFP(x, tt) : b_.CreateUIToFP(x, tt));
    return b_.CreateIntCast(x, tt, src_signed);
  }

  llvm::Value* emit_unary(OpKind k, Dtype in, Dtype out, llvm::Value* x) {
    llvm::Type* t = x->getType();
    bool f = t->isFloatingPointTy();
    if (k == OpKind::Cast) return emit_cast(in, out, x);
    if (k == OpKind::StopGradient) return x;
    if (f) {
      if (llvm::Value* v = emit_unary_math(k, b_, x)) return v;
    }
    switch (k) {
      case OpKind::Abs:
        if (f) return intrinsic(llvm::Intrinsic::fabs, x);
        if (in == bool_ || is_unsigned(in)) return x;
        return b_.CreateBinaryIntrinsic(llvm::Intrinsic::abs, x, b_.getFalse());
      case OpKind::Negative: return f ? b_.CreateFNeg(x) : b_.CreateNeg(x);
      case OpKind::Sign: {
        if (f) {
          llvm::Value* one = fconst(t, 1.0);
          llvm::Value* r = b_.CreateSelect(b_.CreateFCmpOGT(x, fconst(t, 0)), one,
                            b_.CreateSelect(b_.CreateFCmpOLT(x, fconst(t, 0)), fconst(t, -1.0), fconst(t, 0.0)));
          return b_.CreateSelect(b_.CreateFCmpUNO(x, x), x, r);  // sign(nan) = nan
        }
        llvm::Value* zero = llvm::ConstantInt::get(t, 0);
        llvm::Value* pos = b_.CreateZExt(is_unsigned(in) ? b_.CreateICmpNE(x, zero) : b_.CreateICmpSGT(x, zero), t);
        if (is_unsigned(in)) return pos;
        return b_.CreateSub(pos, b_.CreateZExt(b_.CreateICmpSLT(x, zero), t));
      }
      case OpKind::Square: return f ? b_.CreateFMul(x, x) : b_.CreateMul(x, x);
      case OpKind::Sqrt: return intrinsic(llvm::Intrinsic::sqrt, x);
      case OpKind::Rsqrt: return b_.CreateFDiv(fconst(t, 1.0), intrinsic(llvm::Intrinsic::sqrt, x));
      case OpKind::Exp: return intrinsic(llvm::Intrinsic::exp, x);
      case OpKind::Log: return intrinsic(llvm::Intrinsic::log, x);
      case OpKind::Log2: return intrinsic(llvm::Intrinsic::log2, x);
      case OpKind::Log10: return intrinsic(llvm::Intrinsic::log10, x);
      case OpKind::Sin: return intrinsic(llvm::Intrinsic::sin, x);
      case OpKind::Cos: return intrinsic(llvm::Intrinsic::cos, x);
      case OpKind::Expm1: return call_libm("expm1", x);
      case OpKind::Log1p: return call_libm("log1p", x);
      case OpKind::Tan: return call_libm("tan", x);
      case OpKind::Arcsin: return call_libm("asin", x);
      case OpKind::Arccos: return call_libm("acos", x);
      case OpKind::Arctan: return call_libm("atan", x);
      case OpKind::Sinh: return call_libm("sinh", x);
      case OpKind::Cosh: return call_libm("cosh", x);
      case OpKind::Tanh: return call_libm("tanh", x);
      case OpKind::Arcsinh: return call_libm("asinh", x);
      case OpKind::Arccosh: return call_libm("acosh", x);
      case OpKind::Arctanh: return call_libm("atanh", x);
      case OpKind::Erf: return call_libm("erf", x);
      case OpKind::Sigmoid: {
        llvm::Value* e = emit_unary(OpKind::Exp, in, out, b_.CreateFNeg(x));
        return b_.CreateFDiv(fconst(t, 1.0), b_.CreateFAdd(fconst(t, 1.0), e));
      }
      case OpKind::Floor: return f ? intrinsic(llvm::Intrinsic::floor, x) : x;
      case OpKind::Ceil: return f ? intrinsic(llvm::Intrinsic::ceil, x) : x;
      case OpKind::Round: return f ? intrinsic(llvm::Intrinsic::roundeven, x) : x;
      case OpKind::LogicalNot: return b_.CreateNot(x);
      case OpKind::BitwiseInvert: return b_.CreateNot(x);
      // Lowered above: casts, stop_gradient and the float-only approximations.
      case OpKind::Cast: case OpKind::StopGradient: case OpKind::Erfinv:
      // Not unary ops.
      case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      case OpKind::Matmul: case OpKind::Custom: case OpKind::Linalg:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      KILN_BINARY_OPS(KILN_OP_CASE)
      KILN_COMPARISON_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
      KILN_MOVEMENT_OPS(KILN_OP_CASE)
      KILN_SCATTER_OPS(KILN_OP_CASE)
        break;
    }
    throw std::logic_error(std::string("kiln codegen: no lowering for unary ") + ir::op_name(k));
  }

  // Integer a / b made safe: the divisor with 0 and -1 replaced by 1 (no
  // trap, no overflow), the truncated remainder, and whether a floored
  // result needs adjusting (a nonzero remainder whose sign differs from the
  // divisor's).
  struct SignedDivision {
    llvm::Value *safe, *rem, *by_zero, *by_minus_one, *signs_differ;
  };
  SignedDivision signed_division(llvm::Value* a, llvm::Value* b) {
    llvm::Type* ty = a->getType();
    llvm::Value* zero = llvm::ConstantInt::get(ty, 0);
    SignedDivision d;
    d.by_zero = b_.CreateICmpEQ(b, zero);
    d.by_minus_one = b_.CreateICmpEQ(b, llvm::ConstantInt::getSigned(ty, -1));
    d.safe = b_.CreateSelect(b_.CreateOr(d.by_zero, d.by_minus_one), llvm::ConstantInt::get(ty, 1), b);
    d.rem = b_.CreateSRem(a, d.safe);
    d.signs_differ = b_.CreateAnd(b_.CreateICmpNE(d.rem, zero),
                                  b_.CreateICmpNE(b_.CreateICmpSLT(d.rem, zero), b_.CreateICmpSLT(d.safe, zero)));
    return d;
  }

  llvm::Value* emit_binary(OpKind k, Dtype t, llvm::Value* a, llvm::Value* b) {
    llvm::Type* ty = a->getType();
    bool f = ty->isFloatingPointTy();
    bool u = is_unsigned(t);
    bool is_bool = t == bool_;
    // logaddexp has its only lowering there (kernels compute floats in
    // float or double, which math.cpp covers).
    if (f) {
      if (llvm::Value* v = emit_binary_math(k, b_, a, b)) return v;
    }
    llvm::Value* zero = f ? fconst(ty, 0.0) : llvm::ConstantInt::get(ty, 0);
    switch (k) {
      case OpKind::Add: return f ? b_.CreateFAdd(a, b) : is_bool ? b_.CreateOr(a, b) : b_.CreateAdd(a, b);
      case OpKind::Subtract: return f ? b_.CreateFSub(a, b) : is_bool ? b_.CreateXor(a, b) : b_.CreateSub(a, b);
      case OpKind::Multiply: return f ? b_.CreateFMul(a, b) : is_bool ? b_.CreateAnd(a, b) : b_.CreateMul(a, b);
      case OpKind::Divide: return b_.CreateFDiv(a, b);
      case OpKind::FloorDivide: {
        if (f) {
          // In double, as the interpreter: float32 1 / 0.1f would round up to 10.
          llvm::Value* da = b_.CreateFPExt(a, b_.getDoubleTy()), *db = b_.CreateFPExt(b, b_.getDoubleTy());
          llvm::Value* q = intrinsic(llvm::Intrinsic::floor, b_.CreateFDiv(da, db));
          return b_.CreateFPTrunc(q, ty);
        }
        llvm::Value* bz = b_.CreateICmpEQ(b, zero);
        if (u) {
          llvm::Value* q = b_.CreateUDiv(a, b_.CreateSelect(bz, llvm::ConstantInt::get(ty, 1), b));
          return b_.CreateSelect(bz, zero, q);
        }
        // Division by 0 gives 0 and MIN / -1 wraps (as the interpreter).
        SignedDivision d = signed_division(a, b);
        llvm::Value* q = b_.CreateSub(b_.CreateSDiv(a, d.safe), b_.CreateZExt(d.signs_differ, ty));
        return b_.CreateSelect(d.by_zero, zero, b_.CreateSelect(d.by_minus_one, b_.CreateNeg(a), q));
      }
      case OpKind::Remainder: {
        if (f) {
          llvm::Value* r = b_.CreateFRem(a, b);
          llvm::Value* fix = b_.CreateAnd(b_.CreateFCmpUNE(r, zero),
                                          b_.CreateXor(b_.CreateFCmpOLT(r, zero), b_.CreateFCmpOLT(b, zero)));
          r = b_.CreateSelect(fix, b_.CreateFAdd(r, b), r);
          // A zero remainder takes the divisor's sign.
          return b_.CreateSelect(b_.CreateFCmpOEQ(r, zero),
                                 b_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, zero, b), r);
        }
        llvm::Value* bz = b_.CreateICmpEQ(b, zero);
        if (u) {
          llvm::Value* r = b_.CreateURem(a, b_.CreateSelect(bz, llvm::ConstantInt::get(ty, 1), b));
          return b_.CreateSelect(bz, zero, r);
        }
        SignedDivision d = signed_division(a, b);
        llvm::Value* r = b_.CreateSelect(d.signs_differ, b_.CreateAdd(d.rem, d.safe), d.rem);
        return b_.CreateSelect(b_.CreateOr(d.by_zero, d.by_minus_one), zero, r);
      }
      case OpKind::Power: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::pow, a, b);
      case OpKind::Maximum: return max_or_min(true, t, a, b);
      case OpKind::Minimum: return max_or_min(false, t, a, b);
      case OpKind::Arctan2: return call_libm("atan2", a, b);
      case OpKind::LogicalAnd: case OpKind::BitwiseAnd: return b_.CreateAnd(a, b);
      case OpKind::LogicalOr: case OpKind::BitwiseOr: return b_.CreateOr(a, b);
      case OpKind::BitwiseXor: return b_.CreateXor(a, b);
      case OpKind::LeftShift: case OpKind::RightShift: {
        unsigned w = ty->getIntegerBitWidth();
        llvm::Value* ok = b_.CreateICmpULT(b, llvm::ConstantInt::get(ty, w));
        llvm::Value* amount = b_.CreateSelect(ok, b, zero);
        if (k == OpKind::LeftShift) return b_.CreateSelect(ok, b_.CreateShl(a, amount), zero);
        if (u) return b_.CreateSelect(ok, b_.CreateLShr(a, amount), zero);
        return b_.CreateAShr(a, b_.CreateSelect(ok, b, llvm::ConstantInt::get(ty, w - 1)));
      }
      case OpKind::Equal: return f ? b_.CreateFCmpOEQ(a, b) : b_.CreateICmpEQ(a, b);
      case OpKind::NotEqual: return f ? b_.CreateFCmpUNE(a, b) : b_.CreateICmpNE(a, b);
      case OpKind::Less: return f ? b_.CreateFCmpOLT(a, b) : (u || is_bool) ? b_.CreateICmpULT(a, b) : b_.CreateICmpSLT(a, b);
      case OpKind::LessEqual: return f ? b_.CreateFCmpOLE(a, b) : (u || is_bool) ? b_.CreateICmpULE(a, b) : b_.CreateICmpSLE(a, b);
      case OpKind::Greater: return f ? b_.CreateFCmpOGT(a, b) : (u || is_bool) ? b_.CreateICmpUGT(a, b) : b_.CreateICmpSGT(a, b);
      case OpKind::GreaterEqual: return f ? b_.CreateFCmpOGE(a, b) : (u || is_bool) ? b_.CreateICmpUGE(a, b) : b_.CreateICmpSGE(a, b);
      // Lowered above: the float-only approximations (math.cpp).
      case OpKind::LogAddExp:
      // Not binary ops.
      case OpKind::Constant: case OpKind::Select: case OpKind::Argmax: case OpKind::Argmin: case OpKind::Bitcast:
      case OpKind::Matmul: case OpKind::Custom: case OpKind::Linalg:
      KILN_SCAN_SORT_OPS(KILN_OP_CASE)
      KILN_FFT_QUANT_OPS(KILN_OP_CASE)
      KILN_UNARY_OPS(KILN_OP_CASE)
      KILN_REDUCTION_OPS(KILN_OP_CASE)
      KILN_MOVEMENT_OPS(KILN_OP_CASE)
      KILN_SCATTER_OPS(KILN_OP_CASE)
        break;
    }
    throw std::logic_error(std::string("kiln codegen: no lowering for binary ") + ir::op_name(k));
  }

  const Kernel& k_;
  const kernel::Schedule& s_;
  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  llvm::Function* fn_ = nullptr;
  std::vector<llvm::Value*> inputs_, params_, vars_;
  std::vector<llvm::Value*> constant_values_;  // per node: a constant parameter's value, or null
  llvm::Value* out_ = nullptr;
  llvm::Value* params_ptr_ = nullptr;
  // Values emitted so far, per loop scope (innermost last). A scope records
  // the loop variable it binds, so that a value computed outside with an
  // older binding of that variable is not reused inside (a reduction that
  // rebinds the output's last variable, kernel.h).
  struct Scope {
    std::unordered_map<int, llvm::Value*> values;
    uint64_t binds = 0;
  };
  std::vector<Scope> memo_;
  llvm::Value* row_base_ = nullptr;  // the current row's first output index
  llvm::Value* stream_scratch_ = nullptr;  // Schedule::stream_block elements on the stack
  // The next row's leading output indices (rank >= 2; the odometer's).
  std::vector<llvm::Value*> next_row_vars_;
};

}  // namespace

std::unique_ptr<llvm::Module> emit_kernel(const Kernel& k, const std::string& name, llvm::LLVMContext& ctx) {
  if (k.num_vars > 64) throw std::runtime_error("kiln codegen: kernel has more than 64 loop variables");
  if (!k.schedule.scheduled() || k.schedule.deps.size() != k.nodes.size())
    throw std::logic_error("kiln codegen: the kernel is not scheduled (passes/kernel_schedule.h)");
  auto m = std::make_unique<llvm::Module>("kiln." + name, ctx);
  Emitter(k, *m).emit_function(name);
  return m;
}

}  // namespace kiln::codegen
