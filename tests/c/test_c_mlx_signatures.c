/* The op wrappers whose names and signatures are mlx-c v0.6's rather than
   generated ones (tools/bindgen/mlx_c_names.py), called as an mlx-c program
   calls them: this file compiles only if each has mlx-c's parameter list.
   Expected values from NumPy (the expression is noted at each). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <kiln/c/mlx.h>

#include "check.h"

static int close_to(const float* got, const float* want, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (fabsf(got[i] - want[i]) > 1e-5f * (1.0f + fabsf(want[i]))) return 0;
  return 1;
}

static int shape_is(const mlx_array a, int dim, const int* shape) {
  if ((int)mlx_array_ndim(a) != dim) return 0;
  for (int i = 0; i < dim; ++i)
    if (mlx_array_shape(a)[i] != shape[i]) return 0;
  return 1;
}

static void quiet(const char* msg, void* data) { (void)msg; (void)data; }

int main(void) {
  mlx_stream st = mlx_default_cpu_stream_new();
  mlx_array r = mlx_array_new();
  mlx_vector_array parts = mlx_vector_array_new();
  mlx_array part = mlx_array_new();
  float data[6] = {1, 2, 3, 4, 5, 6};
  int shape23[2] = {2, 3};
  mlx_array a = mlx_array_new_data(data, shape23, 2, MLX_FLOAT32);  /* [[1, 2, 3], [4, 5, 6]] */

  /* mlx_arange(res, start, stop, step, dtype, s): np.arange(0, 5, 1.5, np.float32) */
  CHECK(mlx_arange(&r, 0.0, 5.0, 1.5, MLX_FLOAT32, st) == 0);
  float ar[4] = {0, 1.5f, 3, 4.5f};
  CHECK(mlx_array_size(r) == 4 && mlx_array_dtype(r) == MLX_FLOAT32 && close_to(mlx_array_data_float32(r), ar, 4));
  /* np.arange(2, 8, 2, np.int32) */
  CHECK(mlx_arange(&r, 2, 8, 2, MLX_INT32, st) == 0);
  CHECK(mlx_array_dtype(r) == MLX_INT32 && mlx_array_size(r) == 3 && mlx_array_data_int32(r)[2] == 6);

  /* mlx_take_axis(res, a, indices, axis, s): np.take(a, [2, 0], axis=1) */
  int32_t idx[3] = {2, 0, -1};
  int two = 2, three = 3;
  mlx_array i2 = mlx_array_new_data(idx, &two, 1, MLX_INT32);
  CHECK(mlx_take_axis(&r, a, i2, 1, st) == 0);
  float take_axis[4] = {3, 1, 6, 4};
  int s22[2] = {2, 2};
  CHECK(shape_is(r, 2, s22) && close_to(mlx_array_data_float32(r), take_axis, 4));
  /* mlx_take(res, a, indices, s) over the flattened array: np.take(a, [2, 0, -1]) */
  mlx_array i3 = mlx_array_new_data(idx, &three, 1, MLX_INT32);
  CHECK(mlx_take(&r, a, i3, st) == 0);
  float take_flat[3] = {3, 1, 6};
  CHECK(mlx_array_size(r) == 3 && close_to(mlx_array_data_float32(r), take_flat, 3));
  mlx_set_error_handler(quiet, NULL, NULL);
  CHECK(mlx_take_axis(&r, a, i2, 5, st) != 0); /* no axis 5 */
  mlx_set_error_handler(NULL, NULL, NULL);

  /* mlx_split_sections(res, a, indices, indices_num, axis, s):
     np.split(np.arange(6), [1, 4]) has sizes 1, 3, 2 */
  mlx_array line = mlx_array_new();
  CHECK(mlx_arange(&line, 0, 6, 1, MLX_FLOAT32, st) == 0);
  int cuts[2] = {1, 4};
  CHECK(mlx_split_sections(&parts, line, cuts, 2, 0, st) == 0);
  CHECK(mlx_vector_array_size(parts) == 3);
  CHECK(mlx_vector_array_get(&part, parts, 1) == 0);
  float middle[3] = {1, 2, 3};
  CHECK(mlx_array_size(part) == 3 && close_to(mlx_array_data_float32(part), middle, 3));
  /* mlx_split(res, a, num_splits, axis, s): np.split(a, 3, axis=1) gives (2, 1) pieces */
  CHECK(mlx_split(&parts, a, 3, 1, st) == 0);
  CHECK(mlx_vector_array_size(parts) == 3 && mlx_vector_array_get(&part, parts, 2) == 0);
  int s21[2] = {2, 1};
  float last_col[2] = {3, 6};
  CHECK(shape_is(part, 2, s21) && close_to(mlx_array_data_float32(part), last_col, 2));

  /* reductions: _axes, _axis, and the plain name over all axes */
  int ax0 = 0;
  CHECK(mlx_sum_axes(&r, a, &ax0, 1, false, st) == 0); /* a.sum(axis=0) */
  float col_sums[3] = {5, 7, 9};
  CHECK(mlx_array_size(r) == 3 && close_to(mlx_array_data_float32(r), col_sums, 3));
  CHECK(mlx_sum_axis(&r, a, 1, true, st) == 0); /* a.sum(axis=1, keepdims=True) */
  float row_sums[2] = {6, 15};
  CHECK(shape_is(r, 2, s21) && close_to(mlx_array_data_float32(r), row_sums, 2));
  float total = 0;
  CHECK(mlx_sum(&r, a, false, st) == 0 && mlx_array_item_float32(&total, r) == 0 && total == 21);
  CHECK(mlx_max_axis(&r, a, 0, false, st) == 0 && mlx_array_data_float32(r)[0] == 4);
  uint32_t where = 0;
  CHECK(mlx_argmax(&r, a, false, st) == 0 && mlx_array_item_uint32(&where, r) == 0 && where == 5);

  /* mlx_cumsum(res, a, axis, reverse, inclusive, s): an exclusive reverse scan,
     np.flip(np.cumsum(np.flip(a, 1), 1), 1) - a == [[5, 3, 0], [11, 6, 0]] */
  CHECK(mlx_cumsum(&r, a, 1, true, false, st) == 0);
  float scan[6] = {5, 3, 0, 11, 6, 0};
  CHECK(close_to(mlx_array_data_float32(r), scan, 6));

  /* mlx_full(res, shape, shape_num, vals, dtype, s) */
  mlx_array seven = mlx_array_new_float(7.0f);
  CHECK(mlx_full(&r, s22, 2, seven, MLX_FLOAT32, st) == 0);
  CHECK(shape_is(r, 2, s22) && mlx_array_data_float32(r)[3] == 7.0f);

  /* mlx_random_normal(res, shape, shape_num, dtype, loc, scale, key, s): the
     mean of 4000 samples of N(3, 0.5) is within 0.05 of 3 */
  mlx_array key = mlx_array_new();
  CHECK(mlx_random_key(&key, 7) == 0);
  int n4000 = 4000;
  CHECK(mlx_random_normal(&r, &n4000, 1, MLX_FLOAT32, 3.0f, 0.5f, key, st) == 0);
  mlx_array m = mlx_array_new();
  float mean = 0;
  CHECK(mlx_mean(&m, r, false, st) == 0 && mlx_array_item_float32(&mean, m) == 0 && fabsf(mean - 3.0f) < 0.05f);
  /* mlx_random_permutation_arange(res, x, key, s): a shuffle of 0..4 */
  CHECK(mlx_random_permutation_arange(&r, 5, key, st) == 0);
  CHECK(mlx_sort(&r, r, st) == 0 && mlx_array_size(r) == 5 && mlx_array_data_int32(r)[4] == 4);

  /* mlx_fft_fft(res, a, n, axis, s): abs(np.fft.fft([1, 2, 3, 4])) */
  float four[4] = {1, 2, 3, 4};
  int n4 = 4;
  mlx_array sig = mlx_array_new_data(four, &n4, 1, MLX_FLOAT32);
  CHECK(mlx_fft_fft(&r, sig, 4, 0, st) == 0 && mlx_abs(&r, r, st) == 0);
  float spectrum[4] = {10, 2.8284271f, 2, 2.8284271f};
  CHECK(mlx_array_size(r) == 4 && close_to(mlx_array_data_float32(r), spectrum, 4));
  /* mlx_fft_fftn(res, a, n, n_num, axes, axes_num, s) */
  int ax_last = 0;
  CHECK(mlx_fft_fftn(&r, sig, &n4, 1, &ax_last, 1, st) == 0 && mlx_abs(&r, r, st) == 0);
  CHECK(close_to(mlx_array_data_float32(r), spectrum, 4));

  /* mlx_linalg_norm_l2(res, a, axis (may be null), axis_num, keepdims, s):
     np.linalg.norm(a) == sqrt(91) */
  CHECK(mlx_linalg_norm_l2(&r, a, NULL, 0, false, st) == 0);
  CHECK(mlx_array_item_float32(&total, r) == 0 && fabsf(total - 9.5393920f) < 1e-5f);
  /* np.linalg.norm(a, ord=1, axis=1) == [6, 15] */
  int ax1 = 1;
  CHECK(mlx_linalg_norm(&r, a, 1.0, &ax1, 1, false, st) == 0);
  CHECK(mlx_array_size(r) == 2 && close_to(mlx_array_data_float32(r), row_sums, 2));

  mlx_array_free(m);
  mlx_array_free(key);
  mlx_array_free(sig);
  mlx_array_free(seven);
  mlx_array_free(line);
  mlx_array_free(i2);
  mlx_array_free(i3);
  mlx_array_free(a);
  mlx_array_free(part);
  mlx_array_free(r);
  mlx_vector_array_free(parts);
  mlx_stream_free(st);
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("test_c_mlx_signatures: all checks passed\n");
  return 0;
}
