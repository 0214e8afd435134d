/* kiln's mlx-c compatible C API: the one header (as mlx-c's mlx/c/mlx.h).
   A program written against mlx-c v0.6 builds against kiln by including
   <kiln/c/mlx.h> and linking kiln::c, for what kiln implements. */
#ifndef KILN_C_MLX_H
#define KILN_C_MLX_H
#include "kiln/c/array.h"
#include "kiln/c/closure.h"
#include "kiln/c/error.h"
#include "kiln/c/map.h"
#include "kiln/c/ops.h" /* generated from the op headers at build time */
#include "kiln/c/optional.h"
#include "kiln/c/stream.h"
#include "kiln/c/string.h"
#include "kiln/c/transforms.h"
#include "kiln/c/vector.h"
#endif
