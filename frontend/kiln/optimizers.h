#pragma once
// kiln::optimizers — optimizers, schedules and clip_grad_norm, as
// mlx.optimizers (library kiln::nn, part of kiln::kiln).
#include "kiln/nn.h"
#include "nn/optimizers.h"
