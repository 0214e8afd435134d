#pragma once
// The one header applications include: arrays, ops and their dtypes.
#include "frontend/array.h"
#include "frontend/ops.h"
