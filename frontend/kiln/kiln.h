#pragma once
// The one header applications include: arrays, ops, transformations.
#include "frontend/array.h"
#include "frontend/autodiff.h"
#include "frontend/export.h"
#include "frontend/ops.h"
#include "frontend/transforms.h"
#include "frontend/vmap.h"
