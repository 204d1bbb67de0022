/* Mamba-2 SSD kernels (filled in by the Mamba-2 work). */
#include "gl.h"
#include "napi_util.h"

void gl_register_ssd(napi_env env, napi_value exports) { (void)env; (void)exports; }
