#pragma once
// kiln::nn — modules, layers, activations, initializers and losses, as
// mlx.nn (library kiln::nn, part of kiln::kiln).
#include "kiln/kiln.h"
#include "nn/activations.h"
#include "nn/init.h"
#include "nn/convolution.h"
#include "nn/layers.h"
#include "nn/normalization.h"
#include "nn/transformer.h"
#include "nn/losses.h"
#include "nn/module.h"
