#pragma once
// Scans, sorting and selection (MLX's cumsum ... topk), part of the ops of
// frontend/ops.h, which includes this header. Without an axis each op works
// on the flattened array. Scans run along `axis` from the start (from the
// end when `reverse`); an exclusive scan (`inclusive = false`) starts from
// the identity. Sorts are stable and put nans last.
#include "frontend/array.h"
#include "frontend/stream.h"

namespace kiln {

// Cumulative sum (bool sums as int32).
array cumsum(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative sum along `axis`.
array cumsum(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative product.
array cumprod(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative product along `axis`.
array cumprod(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative maximum (nan-propagating).
array cummax(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative maximum along `axis`.
array cummax(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative minimum (nan-propagating).
array cummin(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative minimum along `axis`.
array cummin(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative log(sum(exp)) (integers as float32).
array logcumsumexp(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
// Cumulative log(sum(exp)) along `axis`.
array logcumsumexp(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});

// A sorted copy of the flattened array.
array sort(const array& a, StreamOrDevice s = {});
// A sorted copy along `axis`.
array sort(const array& a, int axis, StreamOrDevice s = {});
// The uint32 indices that sort the flattened array.
array argsort(const array& a, StreamOrDevice s = {});
// The uint32 indices that sort along `axis`.
array argsort(const array& a, int axis, StreamOrDevice s = {});
// A copy of the flattened array with the element of rank kth at kth, the
// smaller ones before it and the rest after (each side in no set order).
array partition(const array& a, int kth, StreamOrDevice s = {});
// partition along `axis` (kth may be negative: counted from the end).
array partition(const array& a, int kth, int axis, StreamOrDevice s = {});
// The uint32 indices that partition the flattened array.
array argpartition(const array& a, int kth, StreamOrDevice s = {});
// The uint32 indices that partition along `axis`.
array argpartition(const array& a, int kth, int axis, StreamOrDevice s = {});
// The k largest elements of the flattened array (in no set order).
array topk(const array& a, int k, StreamOrDevice s = {});
// The k largest elements along `axis` (in no set order).
array topk(const array& a, int k, int axis, StreamOrDevice s = {});

}  // namespace kiln
