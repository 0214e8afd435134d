#pragma once
// vjp, jvp, grad, value_and_grad, custom_vjp, checkpoint (being written).
#include "frontend/trace.h"
