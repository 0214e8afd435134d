/* An mlx-c style C program built against an installed kiln: only the
   include line and the link line (kiln::c) differ from one built for mlx-c. */
#include <stdio.h>

#include <kiln/c/mlx.h>

int main(void) {
  mlx_stream s = mlx_default_cpu_stream_new();
  float data[4] = {1, 2, 3, 4};
  int shape[2] = {2, 2};
  mlx_array a = mlx_array_new_data(data, shape, 2, MLX_FLOAT32);
  mlx_array r = mlx_array_new();
  float total = 0;
  int rc = mlx_matmul(&r, a, a, s) || mlx_sum(&r, r, false, s) || mlx_array_item_float32(&total, r);
  printf("c_app: %g\n", total); /* [[7, 10], [15, 22]] sums to 54 */
  mlx_array_free(a);
  mlx_array_free(r);
  mlx_stream_free(s);
  return rc || total != 54.0f;
}
