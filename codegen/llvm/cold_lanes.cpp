// Rare lanes on a slow path behind a vectorizable call; see cold_lanes.h.
#include "codegen/llvm/cold_lanes.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::codegen {
namespace {

// Marks the wrappers and their variants, for inline_cold_lanes.
constexpr const char* kWrapperAttr = "kiln-cold-lanes";

// The vector widths the loop vectorizer may choose on the targets we run
// on (AVX-512 holds 16 floats; wider VFs come from interleaving or from
// maximizing bandwidth in loops over narrower types).
constexpr unsigned kWidths[] = {2, 4, 8, 16, 32, 64};

// One compare per vector in the hot loop (nan is not >=; infinities are
// cold: rare, and the cold function handles them).
llvm::Value* cold_mask(llvm::IRBuilderBase& b, llvm::Value* x, double threshold) {
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  return b.CreateFCmpOGE(ax, llvm::ConstantFP::get(x->getType(), threshold));
}

// The cold branch is taken for almost no element.
llvm::MDNode* unlikely(llvm::LLVMContext& ctx) { return llvm::MDBuilder(ctx).createBranchWeights(1, 1 << 20); }

llvm::Function* new_wrapper(llvm::Module& m, const std::string& name, llvm::Type* t) {
  auto* fty = llvm::FunctionType::get(t, {t, t}, false);
  auto* f = llvm::Function::Create(fty, llvm::Function::InternalLinkage, name, m);
  f->setDoesNotAccessMemory();
  f->setDoesNotThrow();
  f->addFnAttr(llvm::Attribute::WillReturn);
  // Inlined before vectorization, the branch would stop the vectorizer;
  // inline_cold_lanes inlines it afterwards.
  f->addFnAttr(llvm::Attribute::NoInline);
  f->addFnAttr(kWrapperAttr);
  return f;
}

std::string variant_name(const std::string& wrapper, unsigned width) {
  return wrapper + "_v" + std::to_string(width);
}

// The cold side stays out of the hot function's body: inlined, its
// blocks and calls would crowd the loop the register allocator sees.
void make_cold(llvm::Function* f) {
  f->addFnAttr(llvm::Attribute::Cold);
  f->addFnAttr(llvm::Attribute::NoInline);
}

// wrapper_vN_cold(x, fast, mask): the scalar cold function on each marked
// lane.
llvm::Function* lane_loop(llvm::Module& m, const std::string& name, llvm::FixedVectorType* vt,
                          llvm::Function* cold) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type* mt = llvm::FixedVectorType::get(llvm::Type::getInt1Ty(ctx), vt->getNumElements());
  auto* f = llvm::Function::Create(llvm::FunctionType::get(vt, {vt, vt, mt}, false),
                                   llvm::Function::InternalLinkage, name, m);
  f->setDoesNotAccessMemory();
  f->setDoesNotThrow();
  f->addFnAttr(llvm::Attribute::WillReturn);
  make_cold(f);
  llvm::Value* x = f->getArg(0);
  llvm::Value* mask = f->getArg(2);
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto* lane = llvm::BasicBlock::Create(ctx, "lane", f);
  auto* call = llvm::BasicBlock::Create(ctx, "cold", f);
  auto* next = llvm::BasicBlock::Create(ctx, "next", f);
  auto* done = llvm::BasicBlock::Create(ctx, "done", f);
  llvm::IRBuilder<> b(entry);
  b.CreateBr(lane);
  b.SetInsertPoint(lane);
  llvm::PHINode* i = b.CreatePHI(b.getInt32Ty(), 2, "i");
  llvm::PHINode* v = b.CreatePHI(vt, 2, "v");
  i->addIncoming(b.getInt32(0), entry);
  v->addIncoming(f->getArg(1), entry);
  b.CreateCondBr(b.CreateExtractElement(mask, i), call, next);
  b.SetInsertPoint(call);
  llvm::Value* r = b.CreateCall(cold, {b.CreateExtractElement(x, i)});
  llvm::Value* vi = b.CreateInsertElement(v, r, i);
  b.CreateBr(next);
  b.SetInsertPoint(next);
  llvm::PHINode* v2 = b.CreatePHI(vt, 2);
  v2->addIncoming(v, lane);
  v2->addIncoming(vi, call);
  llvm::Value* i1 = b.CreateAdd(i, b.getInt32(1));
  i->addIncoming(i1, next);
  v->addIncoming(v2, next);
  b.CreateCondBr(b.CreateICmpEQ(i1, b.getInt32(vt->getNumElements())), done, lane);
  b.SetInsertPoint(done);
  b.CreateRet(v2);
  return f;
}

// wrapper_vN(x, fast): one mask test; when a lane is marked, the lane
// loop.
llvm::Function* vector_variant(llvm::Module& m, const std::string& wrapper, unsigned width, llvm::Type* elt,
                               double threshold, llvm::Function* cold) {
  std::string name = variant_name(wrapper, width);
  if (llvm::Function* f = m.getFunction(name)) return f;
  llvm::LLVMContext& ctx = m.getContext();
  auto* vt = llvm::FixedVectorType::get(elt, width);
  llvm::Function* f = new_wrapper(m, name, vt);
  llvm::Function* lanes = lane_loop(m, name + "_cold", vt, cold);
  llvm::Value* x = f->getArg(0);
  llvm::Value* fast = f->getArg(1);
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto* call = llvm::BasicBlock::Create(ctx, "cold", f);
  auto* hot = llvm::BasicBlock::Create(ctx, "hot", f);
  llvm::IRBuilder<> b(entry);
  llvm::Value* mask = cold_mask(b, x, threshold);
  b.CreateCondBr(b.CreateOrReduce(mask), call, hot, unlikely(ctx));
  b.SetInsertPoint(call);
  b.CreateRet(b.CreateCall(lanes, {x, fast, mask}));
  b.SetInsertPoint(hot);
  b.CreateRet(fast);
  return f;
}

// wrapper(x, fast) for one element, with the vector variants the
// vectorizer replaces it by.
llvm::Function* scalar_wrapper(llvm::Module& m, llvm::Type* elt, double threshold, llvm::Function* cold) {
  std::string name = cold->getName().str() + "_lanes";
  if (llvm::Function* f = m.getFunction(name)) return f;
  llvm::LLVMContext& ctx = m.getContext();
  llvm::Function* f = new_wrapper(m, name, elt);
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto* call = llvm::BasicBlock::Create(ctx, "cold", f);
  auto* hot = llvm::BasicBlock::Create(ctx, "hot", f);
  llvm::IRBuilder<> b(entry);
  b.CreateCondBr(cold_mask(b, f->getArg(0), threshold), call, hot, unlikely(ctx));
  b.SetInsertPoint(call);
  b.CreateRet(b.CreateCall(cold, {f->getArg(0)}));
  b.SetInsertPoint(hot);
  b.CreateRet(f->getArg(1));

  std::string mappings;
  std::vector<llvm::GlobalValue*> variants;
  for (unsigned w : kWidths) {
    llvm::Function* v = vector_variant(m, name, w, elt, threshold, cold);
    variants.push_back(v);
    if (!mappings.empty()) mappings += ",";
    mappings += "_ZGV_LLVM_N" + std::to_string(w) + "vv_" + name + "(" + v->getName().str() + ")";
  }
  f->addFnAttr("vector-function-abi-variant", mappings);
  // Nothing calls the variants until the vectorizer does: keep them alive.
  llvm::appendToCompilerUsed(m, variants);
  return f;
}

}  // namespace

llvm::Value* emit_cold_lanes(llvm::IRBuilderBase& b, llvm::Value* x, llvm::Value* fast, double threshold,
                             llvm::Function* cold) {
  llvm::Module& m = *b.GetInsertBlock()->getModule();
  llvm::Type* t = x->getType();
  llvm::Type* elt = t->getScalarType();
  make_cold(cold);
  llvm::Function* wrapper = scalar_wrapper(m, elt, threshold, cold);
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(t))
    wrapper = vector_variant(m, wrapper->getName().str(), vt->getNumElements(), elt, threshold, cold);
  else if (t->isVectorTy())
    throw std::logic_error("emit_cold_lanes: scalable vectors are not supported");
  return b.CreateCall(wrapper, {x, fast});
}

void inline_cold_lanes(llvm::Module& m) {
  std::vector<llvm::Function*> wrappers;
  for (llvm::Function& f : m)
    if (f.hasFnAttribute(kWrapperAttr)) wrappers.push_back(&f);
  if (wrappers.empty()) return;
  llvm::removeFromUsedLists(m, [](llvm::Constant* c) {
    auto* f = llvm::dyn_cast<llvm::Function>(c->stripPointerCasts());
    return f && f->hasFnAttribute(kWrapperAttr);
  });
  for (llvm::Function* f : wrappers) {
    std::vector<llvm::CallBase*> calls;
    for (llvm::User* u : f->users())
      if (auto* cb = llvm::dyn_cast<llvm::CallBase>(u); cb && cb->getCalledFunction() == f) calls.push_back(cb);
    for (llvm::CallBase* cb : calls) {
      llvm::InlineFunctionInfo info;
      llvm::InlineResult r = llvm::InlineFunction(*cb, info);
      if (!r.isSuccess())
        throw std::logic_error(std::string("inline_cold_lanes: cannot inline: ") + r.getFailureReason());
    }
  }
  for (llvm::Function* f : wrappers) {
    f->removeDeadConstantUsers();  // the old llvm.compiler.used array
    if (f->use_empty()) f->eraseFromParent();
  }
}

}  // namespace kiln::codegen
