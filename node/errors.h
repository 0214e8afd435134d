#pragma once
// C++ exceptions as JS exceptions. Every N-API entry point of the addon runs
// its body through guarded(): an exception that kiln throws becomes a JS
// RangeError when it is about an axis or index out of bounds (or is a
// std::out_of_range), a TypeError for TypeMismatch (the binding's own
// checks of argument types), else an Error with the same message; a JS
// exception thrown by a JS callback that kiln called (grad of a JS
// function) passes through unchanged.
#include <stdexcept>
#include <string>

#include <napi.h>

namespace kiln_node {

// A JS value of the wrong type for a parameter: becomes a TypeError.
struct TypeMismatch : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The JS exception for a C++ one.
Napi::Error to_js_error(Napi::Env env, const std::exception& e);

template <typename Body>
Napi::Value guarded(Napi::Env env, Body&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw to_js_error(env, e);
  }
}

}  // namespace kiln_node
