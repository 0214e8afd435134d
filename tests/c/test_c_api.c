/* The C API (kiln::c) from C: values of a representative set of ops, error
   paths through the error handler, closures through vjp / jvp /
   value_and_grad / compile. Every handle is freed: the ASan build runs this
   under LeakSanitizer. Expected values are by hand or from NumPy (noted). */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <kiln/c/mlx.h>

#include "check.h"

/* Errors are counted, and the last message kept, by this handler. */
static int errors_seen = 0;
static char last_error[512];
static void count_errors(const char* msg, void* data) {
  (void)data;
  ++errors_seen;
  snprintf(last_error, sizeof last_error, "%s", msg);
}

static int close_to(const float* got, const float* want, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (fabsf(got[i] - want[i]) > 1e-5f * (1.0f + fabsf(want[i]))) return 0;
  return 1;
}

static mlx_array f32(const float* data, const int* shape, int dim) {
  return mlx_array_new_data(data, shape, dim, MLX_FLOAT32);
}

static void test_array_basics(void) {
  float data[6] = {1, 2, 3, 4, 5, 6};
  int shape[2] = {2, 3};
  mlx_array a = f32(data, shape, 2);
  CHECK(mlx_array_ndim(a) == 2);
  CHECK(mlx_array_shape(a)[0] == 2 && mlx_array_shape(a)[1] == 3);
  CHECK(mlx_array_dim(a, -1) == 3);
  CHECK(mlx_array_size(a) == 6 && mlx_array_itemsize(a) == 4 && mlx_array_nbytes(a) == 24);
  CHECK(mlx_array_dtype(a) == MLX_FLOAT32);
  CHECK(close_to(mlx_array_data_float32(a), data, 6));

  mlx_array s = mlx_array_new_float(2.5f);
  float v = 0;
  CHECK(mlx_array_item_float32(&v, s) == 0 && v == 2.5f);
  mlx_array i = mlx_array_new_int(-7);
  int32_t iv = 0;
  CHECK(mlx_array_dtype(i) == MLX_INT32 && mlx_array_item_int32(&iv, i) == 0 && iv == -7);
  mlx_array b = mlx_array_new_bool(true);
  bool bv = false;
  CHECK(mlx_array_dtype(b) == MLX_BOOL && mlx_array_item_bool(&bv, b) == 0 && bv);
  mlx_array d = mlx_array_new_float64(0.1);
  double dv = 0;
  CHECK(mlx_array_dtype(d) == MLX_FLOAT64 && mlx_array_item_float64(&dv, d) == 0 && dv == 0.1);

  /* set replaces the array a handle holds. */
  CHECK(mlx_array_set(&s, i) == 0 && mlx_array_dtype(s) == MLX_INT32);

  mlx_string str = mlx_string_new();
  CHECK(mlx_array_tostring(&str, i) == 0 && strstr(mlx_string_data(str), "-7") != NULL);
  mlx_string_free(str);

  int64_t idata[3] = {5, -6, 7};
  int ishape[1] = {3};
  mlx_array l = mlx_array_new_data(idata, ishape, 1, MLX_INT64);
  CHECK(mlx_array_data_int64(l)[1] == -6);
  CHECK(mlx_dtype_size(MLX_INT64) == 8 && mlx_dtype_size(MLX_BFLOAT16) == 2);

  mlx_array_free(a);
  mlx_array_free(s);
  mlx_array_free(i);
  mlx_array_free(b);
  mlx_array_free(d);
  mlx_array_free(l);
}

static void test_ops_values(void) {
  mlx_stream st = mlx_default_cpu_stream_new();
  float x[3] = {1, 2, 3}, y[3] = {10, 20, 30};
  int n3[1] = {3};
  mlx_array a = f32(x, n3, 1), b = f32(y, n3, 1);
  mlx_array r = mlx_array_new();

  CHECK(mlx_add(&r, a, b, st) == 0);
  float add_want[3] = {11, 22, 33};
  CHECK(close_to(mlx_array_data_float32(r), add_want, 3));

  CHECK(mlx_multiply(&r, a, b, st) == 0);
  float mul_want[3] = {10, 40, 90};
  CHECK(close_to(mlx_array_data_float32(r), mul_want, 3));

  /* np.exp([1, 2, 3]) */
  CHECK(mlx_exp(&r, a, st) == 0);
  float exp_want[3] = {2.7182817f, 7.389056f, 20.085537f};
  CHECK(close_to(mlx_array_data_float32(r), exp_want, 3));

  /* np.exp(x) / np.exp(x).sum() for x = [1, 2, 3] */
  CHECK(mlx_softmax_axis(&r, a, 0, false, st) == 0);
  float sm_want[3] = {0.09003057f, 0.24472847f, 0.66524096f};
  CHECK(close_to(mlx_array_data_float32(r), sm_want, 3));

  float m1[4] = {1, 2, 3, 4}, m2[4] = {5, 6, 7, 8};
  int s22[2] = {2, 2};
  mlx_array p = f32(m1, s22, 2), q = f32(m2, s22, 2);
  CHECK(mlx_matmul(&r, p, q, st) == 0);
  float mm_want[4] = {19, 22, 43, 50};
  CHECK(mlx_array_ndim(r) == 2 && close_to(mlx_array_data_float32(r), mm_want, 4));

  /* sum over axis 1 of [[1, 2], [3, 4]], keepdims: shape (2, 1) */
  int ax1[1] = {1};
  CHECK(mlx_sum_axes(&r, p, ax1, 1, true, st) == 0);
  float sum_want[2] = {3, 7};
  CHECK(mlx_array_shape(r)[0] == 2 && mlx_array_shape(r)[1] == 1);
  CHECK(close_to(mlx_array_data_float32(r), sum_want, 2));
  CHECK(mlx_sum(&r, p, false, st) == 0);
  float total = 0;
  CHECK(mlx_array_ndim(r) == 0 && mlx_array_item_float32(&total, r) == 0 && total == 10);

  int perm[2] = {1, 0};
  CHECK(mlx_transpose_axes(&r, p, perm, 2, st) == 0);
  float tr_want[4] = {1, 3, 2, 4};
  CHECK(close_to(mlx_array_data_float32(r), tr_want, 4));

  int s41[2] = {4, 1};
  CHECK(mlx_reshape(&r, p, s41, 2, st) == 0);
  CHECK(mlx_array_shape(r)[0] == 4 && mlx_array_shape(r)[1] == 1);

  CHECK(mlx_astype(&r, a, MLX_INT32, st) == 0);
  CHECK(mlx_array_dtype(r) == MLX_INT32 && mlx_array_data_int32(r)[2] == 3);

  /* clip with no lower bound (a NULL handle is std::nullopt) */
  mlx_array hi = mlx_array_new_float(2.0f);
  CHECK(mlx_clip(&r, a, mlx_array_new(), hi, st) == 0);
  float clip_want[3] = {1, 2, 2};
  CHECK(close_to(mlx_array_data_float32(r), clip_want, 3));

  /* list in, list out: concatenate and split */
  mlx_array parts[2] = {a, b};
  mlx_vector_array vec = mlx_vector_array_new_data(parts, 2);
  CHECK(mlx_vector_array_size(vec) == 2);
  CHECK(mlx_concatenate_axis(&r, vec, 0, st) == 0);
  float cat_want[6] = {1, 2, 3, 10, 20, 30};
  CHECK(mlx_array_size(r) == 6 && close_to(mlx_array_data_float32(r), cat_want, 6));
  mlx_vector_array halves = mlx_vector_array_new();
  CHECK(mlx_split(&halves, r, 2, 0, st) == 0);
  CHECK(mlx_vector_array_size(halves) == 2);
  mlx_array second = mlx_array_new();
  CHECK(mlx_vector_array_get(&second, halves, 1) == 0);
  CHECK(close_to(mlx_array_data_float32(second), y, 3));

  /* np.divmod([7, -7], [2, 2]) == ([3, -4], [1, 1]) */
  int32_t num[2] = {7, -7}, den[2] = {2, 2};
  int n2[1] = {2};
  mlx_array na = mlx_array_new_data(num, n2, 1, MLX_INT32), da = mlx_array_new_data(den, n2, 1, MLX_INT32);
  mlx_vector_array qr = mlx_vector_array_new();
  CHECK(mlx_divmod(&qr, na, da, st) == 0);
  mlx_array quo = mlx_array_new(), rem = mlx_array_new();
  CHECK(mlx_vector_array_get(&quo, qr, 0) == 0 && mlx_vector_array_get(&rem, qr, 1) == 0);
  CHECK(mlx_array_data_int32(quo)[0] == 3 && mlx_array_data_int32(quo)[1] == -4);
  CHECK(mlx_array_data_int32(rem)[0] == 1 && mlx_array_data_int32(rem)[1] == 1);

  /* random: a seeded key gives reproducible normals of the shape asked */
  mlx_array key = mlx_array_new(), n1 = mlx_array_new(), n2r = mlx_array_new();
  int s1000[1] = {1000};
  CHECK(mlx_random_key(&key, 42) == 0);
  CHECK(mlx_random_normal_broadcast(&n1, s1000, 1, MLX_FLOAT32, mlx_array_new(), mlx_array_new(), key, st) == 0);
  CHECK(mlx_random_normal_broadcast(&n2r, s1000, 1, MLX_FLOAT32, mlx_array_new(), mlx_array_new(), key, st) == 0);
  CHECK(memcmp(mlx_array_data_float32(n1), mlx_array_data_float32(n2r), 1000 * sizeof(float)) == 0);
  mlx_array mean = mlx_array_new();
  float mv = 1;
  CHECK(mlx_mean(&mean, n1, false, st) == 0 && mlx_array_item_float32(&mv, mean) == 0);
  CHECK(fabsf(mv) < 0.15f); /* 1000 standard normals: sd of the mean ~0.03 */

  /* mlx_eval and a map of names */
  mlx_vector_array outs = mlx_vector_array_new_value(r);
  CHECK(mlx_eval(outs) == 0);
  mlx_map_string_to_array map = mlx_map_string_to_array_new();
  CHECK(mlx_map_string_to_array_insert(map, "w", a) == 0);
  mlx_array got = mlx_array_new();
  CHECK(mlx_map_string_to_array_get(&got, map, "w") == 0 && mlx_array_size(got) == 3);

  mlx_array handles[] = {a, b, r, p, q, hi, second, na, da, quo, rem, key, n1, n2r, mean, got};
  for (size_t i = 0; i < sizeof handles / sizeof handles[0]; ++i) mlx_array_free(handles[i]);
  mlx_vector_array_free(vec);
  mlx_vector_array_free(halves);
  mlx_vector_array_free(qr);
  mlx_vector_array_free(outs);
  mlx_map_string_to_array_free(map);
  mlx_stream_free(st);
}

static void test_errors(void) {
  mlx_set_error_handler(count_errors, NULL, NULL);
  mlx_stream st = mlx_default_cpu_stream_new();
  float x[3] = {1, 2, 3};
  int n2[1] = {2}, n3[1] = {3};
  mlx_array a = f32(x, n2, 1), b = f32(x, n3, 1), r = mlx_array_new();

  errors_seen = 0;
  CHECK(mlx_add(&r, a, b, st) != 0); /* shapes (2) and (3) do not broadcast */
  CHECK(errors_seen == 1 && strlen(last_error) > 0);
  CHECK(r.ctx == NULL);

  int bad_shape[1] = {4};
  CHECK(mlx_reshape(&r, b, bad_shape, 1, st) != 0);
  CHECK(errors_seen == 2 && strstr(last_error, "reshape") != NULL);

  CHECK(mlx_exp(&r, mlx_array_new(), st) != 0); /* an empty handle */
  CHECK(errors_seen == 3);

  float f = 0;
  CHECK(mlx_array_item_float32(&f, b) != 0); /* item of a 3-element array */
  CHECK(errors_seen == 4);
  CHECK(mlx_array_data_int32(b) == NULL); /* the array is float32 */
  CHECK(errors_seen == 5);

  mlx_vector_array empty = mlx_vector_array_new();
  CHECK(mlx_vector_array_get(&r, empty, 0) != 0);
  CHECK(errors_seen == 6 && strstr(last_error, "out of range") != NULL);

  mlx_map_string_to_array map = mlx_map_string_to_array_new();
  CHECK(mlx_map_string_to_array_get(&r, map, "missing") != 0);
  CHECK(errors_seen == 7);

  int axes[1] = {5};
  CHECK(mlx_sum_axes(&r, b, axes, 1, false, st) != 0); /* axis 5 of a 1-D array */
  CHECK(errors_seen == 8);

  /* The default handler prints and returns (it does not exit). */
  mlx_set_error_handler(NULL, NULL, NULL);
  CHECK(mlx_add(&r, a, b, st) != 0);
  CHECK(errors_seen == 8);

  mlx_array_free(a);
  mlx_array_free(b);
  mlx_array_free(r);
  mlx_vector_array_free(empty);
  mlx_map_string_to_array_free(map);
  mlx_stream_free(st);
}

/* f(x) = [sum(x * x)] */
static int sum_of_squares(mlx_vector_array* res, const mlx_vector_array in) {
  mlx_stream st = mlx_default_cpu_stream_new();
  mlx_array x = mlx_array_new(), sq = mlx_array_new(), s = mlx_array_new();
  int rc = mlx_vector_array_get(&x, in, 0) || mlx_square(&sq, x, st) || mlx_sum(&s, sq, false, st) ||
           mlx_vector_array_set_value(res, s);
  mlx_array_free(x);
  mlx_array_free(sq);
  mlx_array_free(s);
  mlx_stream_free(st);
  return rc;
}

static int failing_function(mlx_vector_array* res, const mlx_vector_array in) {
  (void)res;
  (void)in;
  return 3;
}

/* g(x) = x * scale, the scale held in the payload */
static int scaled(mlx_vector_array* res, const mlx_vector_array in, void* payload) {
  mlx_stream st = mlx_default_cpu_stream_new();
  mlx_array x = mlx_array_new(), y = mlx_array_new();
  mlx_array k = mlx_array_new_float(*(float*)payload);
  int rc = mlx_vector_array_get(&x, in, 0) || mlx_multiply(&y, x, k, st) || mlx_vector_array_set_value(res, y);
  mlx_array_free(x);
  mlx_array_free(y);
  mlx_array_free(k);
  mlx_stream_free(st);
  return rc;
}
static int payload_freed = 0;
static void free_payload(void* p) {
  (void)p;
  ++payload_freed;
}

static void test_transforms(void) {
  float x[3] = {1, -2, 3};
  int n3[1] = {3};
  mlx_array xa = f32(x, n3, 1), one = mlx_array_new_float(1.0f);
  mlx_vector_array primals = mlx_vector_array_new_value(xa);
  mlx_vector_array cot = mlx_vector_array_new_value(one);
  mlx_closure f = mlx_closure_new_func(sum_of_squares);
  mlx_vector_array outs = mlx_vector_array_new(), grads = mlx_vector_array_new();
  mlx_array v = mlx_array_new(), g = mlx_array_new();
  float val = 0;

  /* vjp: value 1 + 4 + 9 = 14, gradient 2x */
  CHECK(mlx_vjp(&outs, &grads, f, primals, cot) == 0);
  CHECK(mlx_vector_array_get(&v, outs, 0) == 0 && mlx_array_item_float32(&val, v) == 0 && val == 14);
  float grad_want[3] = {2, -4, 6};
  CHECK(mlx_vector_array_get(&g, grads, 0) == 0 && close_to(mlx_array_data_float32(g), grad_want, 3));

  /* jvp with tangent [1, 1, 1]: sum(2x) = 4 */
  float t[3] = {1, 1, 1};
  mlx_array ta = f32(t, n3, 1);
  mlx_vector_array tangents = mlx_vector_array_new_value(ta);
  CHECK(mlx_jvp(&outs, &grads, f, primals, tangents) == 0);
  CHECK(mlx_vector_array_get(&g, grads, 0) == 0 && mlx_array_item_float32(&val, g) == 0 && val == 4);

  /* value_and_grad with respect to argument 0 */
  mlx_closure_value_and_grad vg = mlx_closure_value_and_grad_new();
  int argnums[1] = {0};
  CHECK(mlx_value_and_grad(&vg, f, argnums, 1) == 0);
  CHECK(mlx_closure_value_and_grad_apply(&outs, &grads, vg, primals) == 0);
  CHECK(mlx_vector_array_get(&v, outs, 0) == 0 && mlx_array_item_float32(&val, v) == 0 && val == 14);
  CHECK(mlx_vector_array_get(&g, grads, 0) == 0 && close_to(mlx_array_data_float32(g), grad_want, 3));

  /* compile: the compiled closure gives the same value, twice (cached) */
  mlx_closure compiled = mlx_closure_new();
  CHECK(mlx_compile(&compiled, f, false) == 0);
  for (int i = 0; i < 2; ++i) {
    CHECK(mlx_closure_apply(&outs, compiled, primals) == 0);
    CHECK(mlx_vector_array_get(&v, outs, 0) == 0 && mlx_array_item_float32(&val, v) == 0 && val == 14);
  }

  /* a closure with a payload, differentiated: d(3x)/dx = 3 */
  float* scale = malloc(sizeof(float));
  *scale = 3.0f;
  mlx_closure h = mlx_closure_new_func_payload(scaled, scale, free_payload);
  mlx_vector_array ones = mlx_vector_array_new_value(ta);
  CHECK(mlx_vjp(&outs, &grads, h, primals, ones) == 0);
  float three[3] = {3, 3, 3};
  CHECK(mlx_vector_array_get(&g, grads, 0) == 0 && close_to(mlx_array_data_float32(g), three, 3));
  mlx_closure_free(h);
  CHECK(payload_freed == 1);
  free(scale);

  /* a closure whose function fails makes the transform fail */
  mlx_set_error_handler(count_errors, NULL, NULL);
  errors_seen = 0;
  mlx_closure bad = mlx_closure_new_func(failing_function);
  CHECK(mlx_vjp(&outs, &grads, bad, primals, cot) != 0);
  CHECK(errors_seen == 1 && strstr(last_error, "returned 3") != NULL);
  mlx_set_error_handler(NULL, NULL, NULL);

  mlx_closure_free(bad);
  mlx_closure_free(f);
  mlx_closure_free(compiled);
  mlx_closure_value_and_grad_free(vg);
  mlx_array_free(xa);
  mlx_array_free(one);
  mlx_array_free(ta);
  mlx_array_free(v);
  mlx_array_free(g);
  mlx_vector_array_free(primals);
  mlx_vector_array_free(cot);
  mlx_vector_array_free(tangents);
  mlx_vector_array_free(ones);
  mlx_vector_array_free(outs);
  mlx_vector_array_free(grads);
}

int main(void) {
  test_array_basics();
  test_ops_values();
  test_errors();
  test_transforms();
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("test_c_api: all checks passed\n");
  return 0;
}
