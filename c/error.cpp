// The C API's error handler (see kiln/c/error.h for the default's choice).
#include <cstdio>
#include <mutex>

#include "c/private.h"
#include "kiln/c/error.h"

namespace {
struct Handler {
  mlx_error_handler_func fun = nullptr;
  void* data = nullptr;
  void (*dtor)(void*) = nullptr;
};
std::mutex mutex;
Handler handler;
}  // namespace

extern "C" void mlx_set_error_handler(mlx_error_handler_func fun, void* data, void (*dtor)(void*)) {
  std::lock_guard<std::mutex> lock(mutex);
  if (handler.dtor) handler.dtor(handler.data);
  handler = Handler{fun, data, dtor};
}

namespace kiln_c {
int report(const char* msg) {
  Handler h;
  {
    std::lock_guard<std::mutex> lock(mutex);
    h = handler;
  }
  if (h.fun) h.fun(msg, h.data);
  else std::fprintf(stderr, "kiln: %s\n", msg);
  return 1;
}
int report(const std::exception& e) { return report(e.what()); }
}  // namespace kiln_c
