#pragma once
// Lets MLX C++ code build against kiln by changing its include:
//   #include <kiln/compat/mlx.h>   // instead of "mlx/mlx.h"
#include "../kiln.h"

namespace mlx {
namespace core = ::kiln;
}
