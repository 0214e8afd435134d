/* kiln's mlx-c compatible C API: error reporting (mlx/c/error.h).
   Every entry point catches kiln's exceptions, passes the message to the
   error handler and returns non-zero. The default handler prints
   "kiln: <message>" to stderr and returns: unlike mlx-c's default it does
   not exit, so a caller that checks return codes can recover. */
#ifndef KILN_C_ERROR_H
#define KILN_C_ERROR_H
#ifdef __cplusplus
extern "C" {
#endif

typedef void (*mlx_error_handler_func)(const char* msg, void* data);
/* handler NULL restores the default; dtor (may be NULL) frees data when the
   handler is replaced. */
void mlx_set_error_handler(mlx_error_handler_func handler, void* data, void (*dtor)(void* data));

#ifdef __cplusplus
}
#endif
#endif
