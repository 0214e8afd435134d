#pragma once
// The one header applications include: arrays, ops, transformations,
// devices and streams, random, linalg, files and memory.
#include "frontend/array.h"
#include "frontend/autodiff.h"
#include "frontend/device.h"
#include "frontend/export.h"
#include "frontend/fast.h"
#include "frontend/linalg.h"
#include "frontend/io.h"
#include "frontend/memory.h"
#include "frontend/fft.h"
#include "frontend/ops.h"
#include "frontend/random.h"
#include "frontend/quantize.h"
#include "frontend/stream.h"
#include "frontend/transforms.h"
#include "frontend/vmap.h"
