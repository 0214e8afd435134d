#pragma once
// vmap (being written).
#include "frontend/trace.h"
