/* N-API helpers shared by the binding files (addon.c, ssd.c, lstm.c): argument parsing with
 * type and size checks, so a bug in the TypeScript layer throws instead of corrupting memory. */
#ifndef GL_NAPI_UTIL_H
#define GL_NAPI_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define FN(name) static napi_value name(napi_env env, napi_callback_info info)
#define ARGS(N)                                                   \
  size_t argc = N;                                                \
  napi_value argv[N];                                             \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);           \
  if (argc < N) {                                                 \
    napi_throw_type_error(env, NULL, "groundlab native: too few arguments"); \
    return NULL;                                                  \
  }
#define FAILED() do { bool _p = false; napi_is_exception_pending(env, &_p); if (_p) return NULL; } while (0)
#define CHECK(cond, msg) do { if (!(cond)) { napi_throw_range_error(env, NULL, "groundlab native: " msg); return NULL; } } while (0)

static inline void *typed(napi_env env, napi_value v, napi_typedarray_type want, size_t *len, int allow_null) {
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (allow_null && (vt == napi_null || vt == napi_undefined)) {
    *len = 0;
    return NULL;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) {
    napi_throw_type_error(env, NULL, "groundlab native: expected a typed array");
    return NULL;
  }
  napi_typedarray_type type;
  void *data;
  napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL);
  if (type != want) {
    napi_throw_type_error(env, NULL, want == napi_float32_array ? "groundlab native: expected a Float32Array" : "groundlab native: expected an Int32Array");
    return NULL;
  }
  return data;
}
static inline float *F32(napi_env env, napi_value v, size_t *len) { return typed(env, v, napi_float32_array, len, 0); }
static inline float *F32opt(napi_env env, napi_value v, size_t *len) { return typed(env, v, napi_float32_array, len, 1); }
static inline int32_t *I32(napi_env env, napi_value v, size_t *len) { return typed(env, v, napi_int32_array, len, 0); }
static inline double NUM(napi_env env, napi_value v) { double d = 0; napi_get_value_double(env, v, &d); return d; }
static inline long LNG(napi_env env, napi_value v) { int64_t d = 0; napi_get_value_int64(env, v, &d); return (long)d; }
static inline napi_value mknum(napi_env env, double d) { napi_value r; napi_create_double(env, d, &r); return r; }


#define EXPORT(name) {#name, NULL, name, NULL, NULL, NULL, napi_enumerable, NULL}
#define DEFINE_EXPORTS(env, exports, ...)                                                   \
  do {                                                                                      \
    napi_property_descriptor props_[] = {__VA_ARGS__};                                       \
    napi_define_properties(env, exports, sizeof(props_) / sizeof(props_[0]), props_);      \
  } while (0)

/* Extension modules register their own functions on the addon's exports. */
void gl_register_ssd(napi_env env, napi_value exports);
void gl_register_lstm(napi_env env, napi_value exports);
void gl_register_attention(napi_env env, napi_value exports);

#endif
