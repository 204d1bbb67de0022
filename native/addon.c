/* N-API bindings: thin wrappers that read typed arrays and integers, check sizes (so a bug in
 * the TypeScript layer throws instead of corrupting memory) and call the kernels. */
#include <stdio.h>
#include <string.h>
#include "gl.h"
#include "napi_util.h"

FN(setThreads) { ARGS(1); gl_set_threads((int)LNG(env, argv[0])); return NULL; }
FN(getThreads) { return mknum(env, gl_threads); }
FN(gemmSplit) { ARGS(1); return mknum(env, gl_gemm_split((int)LNG(env, argv[0]))); }
FN(hasOpenBLAS) { napi_value r; napi_get_boolean(env, gl_have_openblas(), &r); return r; }

/* Parses and checks gemm's 16 arguments (ta, tb, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)
 * into g; returns 0, or -1 with a JS exception pending. */
static int parse_gemm(napi_env env, napi_value *argv, GlGemm *g) {
  int ta = (int)LNG(env, argv[0]), tb = (int)LNG(env, argv[1]);
  long M = LNG(env, argv[2]), N = LNG(env, argv[3]), K = LNG(env, argv[4]);
  float alpha = (float)NUM(env, argv[5]), beta = (float)NUM(env, argv[12]);
  size_t la, lb, lc;
  float *A = F32(env, argv[6], &la), *B = F32(env, argv[9], &lb), *C = F32(env, argv[13], &lc);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return -1;
  long ao = LNG(env, argv[7]), lda = LNG(env, argv[8]);
  long bo = LNG(env, argv[10]), ldb = LNG(env, argv[11]);
  long co = LNG(env, argv[14]), ldc = LNG(env, argv[15]);
  long ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  const char *bad = NULL;
  if (!(M >= 0 && N >= 0 && K >= 0 && lda >= ac && ldb >= bc && ldc >= N)) bad = "groundlab native: gemm: bad dimensions";
  else if (!(ar == 0 || ao + (ar - 1) * lda + ac <= (long)la)) bad = "groundlab native: gemm: A too small";
  else if (!(br == 0 || bo + (br - 1) * ldb + bc <= (long)lb)) bad = "groundlab native: gemm: B too small";
  else if (!(M == 0 || co + (M - 1) * ldc + N <= (long)lc)) bad = "groundlab native: gemm: C too small";
  if (bad) {
    napi_throw_range_error(env, NULL, bad);
    return -1;
  }
  *g = (GlGemm){ta, tb, (int)M, (int)N, (int)K, alpha, A + ao, (int)lda, B + bo, (int)ldb, beta, C + co, (int)ldc};
  return 0;
}

/* gemm(ta, tb, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) */
FN(gemm) {
  ARGS(16);
  GlGemm g;
  if (parse_gemm(env, argv, &g)) return NULL;
  gl_gemm(g.ta, g.tb, g.M, g.N, g.K, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
  return NULL;
}

/* gemmPair(...16 arguments of the first gemm, ...16 of the second): two independent products (C's must not overlap). */
FN(gemmPair) {
  ARGS(32);
  GlGemm a, b;
  if (parse_gemm(env, argv, &a) || parse_gemm(env, argv + 16, &b)) return NULL;
  gl_gemm_pair(&a, &b);
  return NULL;
}

/* gemmBatched(batch, ta, tb, M, N, K, alpha, A, aOff, sA, lda, B, bOff, sB, ldb, beta, C, cOff, sC, ldc) */
FN(gemmBatched) {
  ARGS(20);
  long batch = LNG(env, argv[0]);
  int ta = (int)LNG(env, argv[1]), tb = (int)LNG(env, argv[2]);
  long M = LNG(env, argv[3]), N = LNG(env, argv[4]), K = LNG(env, argv[5]);
  float alpha = (float)NUM(env, argv[6]), beta = (float)NUM(env, argv[15]);
  size_t la, lb, lc;
  float *A = F32(env, argv[7], &la), *B = F32(env, argv[11], &lb), *C = F32(env, argv[16], &lc);
  FAILED();
  long ao = LNG(env, argv[8]), sA = LNG(env, argv[9]), lda = LNG(env, argv[10]);
  long bo = LNG(env, argv[12]), sB = LNG(env, argv[13]), ldb = LNG(env, argv[14]);
  long co = LNG(env, argv[17]), sC = LNG(env, argv[18]), ldc = LNG(env, argv[19]);
  long ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  CHECK(batch >= 0 && M >= 0 && N >= 0 && K >= 0 && lda >= ac && ldb >= bc && ldc >= N, "gemmBatched: bad dimensions");
  if (batch > 0) {
    CHECK(ar == 0 || ao + (batch - 1) * sA + (ar - 1) * lda + ac <= (long)la, "gemmBatched: A too small");
    CHECK(br == 0 || bo + (batch - 1) * sB + (br - 1) * ldb + bc <= (long)lb, "gemmBatched: B too small");
    CHECK(M == 0 || co + (batch - 1) * sC + (M - 1) * ldc + N <= (long)lc, "gemmBatched: C too small");
  }
  gl_gemm_batched((int)batch, ta, tb, (int)M, (int)N, (int)K, alpha, A + ao, sA, (int)lda, B + bo, sB, (int)ldb, beta,
                  C + co, sC, (int)ldc);
  return NULL;
}

FN(fill) { ARGS(2); size_t n; float *x = F32(env, argv[0], &n); FAILED(); k_fill(x, (long)n, (float)NUM(env, argv[1])); return NULL; }

FN(copy) {
  ARGS(2);
  size_t ns, nd;
  float *s = F32(env, argv[0], &ns), *d = F32(env, argv[1], &nd);
  FAILED();
  CHECK(nd >= ns, "copy: destination too small");
  k_copy(s, d, (long)ns);
  return NULL;
}

/* binary(op, a, b, out) : b.length divides a.length */
FN(binary) {
  ARGS(4);
  size_t na, nb, no;
  float *a = F32(env, argv[1], &na), *b = F32(env, argv[2], &nb), *o = F32(env, argv[3], &no);
  FAILED();
  CHECK(nb > 0 && na % nb == 0 && no == na, "binary: shapes");
  k_binary((int)LNG(env, argv[0]), a, b, o, (long)na, (long)nb);
  return NULL;
}

/* binaryBwd(op, a, b, dy, da|null, db|null, accA, accB) */
FN(binaryBwd) {
  ARGS(8);
  size_t na, nb, ng, nda, ndb;
  float *a = F32(env, argv[1], &na), *b = F32(env, argv[2], &nb), *dy = F32(env, argv[3], &ng);
  float *da = F32opt(env, argv[4], &nda), *db = F32opt(env, argv[5], &ndb);
  FAILED();
  CHECK(nb > 0 && na % nb == 0 && ng == na && (!da || nda == na) && (!db || ndb == nb), "binaryBwd: shapes");
  k_binary_bwd((int)LNG(env, argv[0]), a, b, dy, da, db, (long)na, (long)nb, (int)LNG(env, argv[6]), (int)LNG(env, argv[7]));
  return NULL;
}

FN(axpby) {
  ARGS(5);
  size_t nx, ny, no;
  float *x = F32(env, argv[0], &nx), *y = F32(env, argv[1], &ny), *o = F32(env, argv[2], &no);
  FAILED();
  CHECK(nx == ny && no == nx, "axpby: shapes");
  k_axpby(x, y, o, (long)nx, (float)NUM(env, argv[3]), (float)NUM(env, argv[4]));
  return NULL;
}

/* affine(x, out, mul, add): out = x*mul + add */
FN(affine) {
  ARGS(4);
  size_t nx, no;
  float *x = F32(env, argv[0], &nx), *o = F32(env, argv[1], &no);
  FAILED();
  CHECK(nx == no, "affine: shapes");
  k_add_scalar(x, o, (long)nx, (float)NUM(env, argv[3]), (float)NUM(env, argv[2]));
  return NULL;
}

FN(unary) {
  ARGS(3);
  size_t nx, ny;
  float *x = F32(env, argv[1], &nx), *y = F32(env, argv[2], &ny);
  FAILED();
  CHECK(nx == ny, "unary: shapes");
  k_unary((int)LNG(env, argv[0]), x, y, (long)nx);
  return NULL;
}

/* unaryBwd(op, x, y, dy, dx, acc) */
FN(unaryBwd) {
  ARGS(6);
  size_t nx, ny, ng, nd;
  float *x = F32(env, argv[1], &nx), *y = F32(env, argv[2], &ny), *dy = F32(env, argv[3], &ng), *dx = F32(env, argv[4], &nd);
  FAILED();
  CHECK(nx == ny && ng == nx && nd == nx, "unaryBwd: shapes");
  k_unary_bwd((int)LNG(env, argv[0]), x, y, dy, dx, (long)nx, (int)LNG(env, argv[5]));
  return NULL;
}

/* softmax(x, y, cols, scale, causalT, causalOff) */
FN(softmax) {
  ARGS(6);
  size_t nx, ny;
  float *x = F32(env, argv[0], &nx), *y = F32(env, argv[1], &ny);
  FAILED();
  long cols = LNG(env, argv[2]);
  CHECK(cols > 0 && nx % cols == 0 && ny == nx, "softmax: shapes");
  k_softmax(x, y, (long)nx / cols, cols, (float)NUM(env, argv[3]), LNG(env, argv[4]), LNG(env, argv[5]));
  return NULL;
}

/* softmaxBwd(y, dy, dx, cols, scale, acc) */
FN(softmaxBwd) {
  ARGS(6);
  size_t ny, ng, nd;
  float *y = F32(env, argv[0], &ny), *dy = F32(env, argv[1], &ng), *dx = F32(env, argv[2], &nd);
  FAILED();
  long cols = LNG(env, argv[3]);
  CHECK(cols > 0 && ny % cols == 0 && ng == ny && nd == ny, "softmaxBwd: shapes");
  k_softmax_bwd(y, dy, dx, (long)ny / cols, cols, (float)NUM(env, argv[4]), (int)LNG(env, argv[5]));
  return NULL;
}

FN(logSoftmax) {
  ARGS(3);
  size_t nx, ny;
  float *x = F32(env, argv[0], &nx), *y = F32(env, argv[1], &ny);
  FAILED();
  long cols = LNG(env, argv[2]);
  CHECK(cols > 0 && nx % cols == 0 && ny == nx, "logSoftmax: shapes");
  k_log_softmax(x, y, (long)nx / cols, cols);
  return NULL;
}

FN(logSoftmaxBwd) {
  ARGS(5);
  size_t ny, ng, nd;
  float *y = F32(env, argv[0], &ny), *dy = F32(env, argv[1], &ng), *dx = F32(env, argv[2], &nd);
  FAILED();
  long cols = LNG(env, argv[3]);
  CHECK(cols > 0 && ny % cols == 0 && ng == ny && nd == ny, "logSoftmaxBwd: shapes");
  k_log_softmax_bwd(y, dy, dx, (long)ny / cols, cols, (int)LNG(env, argv[4]));
  return NULL;
}

/* crossEntropy(logits, targets, losses, dlogits|null, V, gradScale, ignore) -> [sum, count] */
FN(crossEntropy) {
  ARGS(7);
  size_t nl, nt, nloss, nd;
  float *logits = F32(env, argv[0], &nl);
  int32_t *t = I32(env, argv[1], &nt);
  float *losses = F32(env, argv[2], &nloss), *d = F32opt(env, argv[3], &nd);
  FAILED();
  long V = LNG(env, argv[4]);
  CHECK(V > 0 && nl == nt * (size_t)V && nloss == nt && (!d || nd == nl), "crossEntropy: shapes");
  long count = 0;
  double total = k_cross_entropy(logits, t, losses, d, (long)nt, V, (float)NUM(env, argv[5]), (int32_t)LNG(env, argv[6]), &count);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, mknum(env, total));
  napi_set_element(env, arr, 1, mknum(env, (double)count));
  return arr;
}

/* layerNorm(x, g, b, y, mean, rstd, cols, eps) */
FN(layerNorm) {
  ARGS(8);
  size_t nx, ng, nb, ny, nm, nr;
  float *x = F32(env, argv[0], &nx), *g = F32(env, argv[1], &ng), *b = F32(env, argv[2], &nb), *y = F32(env, argv[3], &ny);
  float *m = F32(env, argv[4], &nm), *r = F32(env, argv[5], &nr);
  FAILED();
  long cols = LNG(env, argv[6]);
  CHECK(cols > 0 && nx % cols == 0 && ng == (size_t)cols && nb == (size_t)cols && ny == nx && nm == nx / cols && nr == nm, "layerNorm: shapes");
  k_layernorm(x, g, b, y, m, r, (long)nx / cols, cols, (float)NUM(env, argv[7]));
  return NULL;
}

/* layerNormBwd(x, g, mean, rstd, dy, dx|null, dg|null, db|null, cols, accDx) */
FN(layerNormBwd) {
  ARGS(10);
  size_t nx, ng, nm, nr, ny, ndx, ndg, ndb;
  float *x = F32(env, argv[0], &nx), *g = F32(env, argv[1], &ng), *m = F32(env, argv[2], &nm), *r = F32(env, argv[3], &nr);
  float *dy = F32(env, argv[4], &ny), *dx = F32opt(env, argv[5], &ndx), *dg = F32opt(env, argv[6], &ndg), *db = F32opt(env, argv[7], &ndb);
  FAILED();
  long cols = LNG(env, argv[8]);
  CHECK(cols > 0 && nx % cols == 0 && ng == (size_t)cols && nm == nx / cols && nr == nm && ny == nx && (!dx || ndx == nx) &&
            (!dg || ndg == ng) && (!db || ndb == ng), "layerNormBwd: shapes");
  k_layernorm_bwd(x, g, m, r, dy, dx, dg, db, (long)nx / cols, cols, (int)LNG(env, argv[9]));
  return NULL;
}

/* rmsNorm(x, g, y, rstd, cols, eps) */
FN(rmsNorm) {
  ARGS(6);
  size_t nx, ng, ny, nr;
  float *x = F32(env, argv[0], &nx), *g = F32(env, argv[1], &ng), *y = F32(env, argv[2], &ny), *r = F32(env, argv[3], &nr);
  FAILED();
  long cols = LNG(env, argv[4]);
  CHECK(cols > 0 && nx % cols == 0 && ng == (size_t)cols && ny == nx && nr == nx / cols, "rmsNorm: shapes");
  k_rmsnorm(x, g, y, r, (long)nx / cols, cols, (float)NUM(env, argv[5]));
  return NULL;
}

/* rmsNormBwd(x, g, rstd, dy, dx|null, dg|null, cols, accDx) */
FN(rmsNormBwd) {
  ARGS(8);
  size_t nx, ng, nr, ny, ndx, ndg;
  float *x = F32(env, argv[0], &nx), *g = F32(env, argv[1], &ng), *r = F32(env, argv[2], &nr), *dy = F32(env, argv[3], &ny);
  float *dx = F32opt(env, argv[4], &ndx), *dg = F32opt(env, argv[5], &ndg);
  FAILED();
  long cols = LNG(env, argv[6]);
  CHECK(cols > 0 && nx % cols == 0 && ng == (size_t)cols && nr == nx / cols && ny == nx && (!dx || ndx == nx) && (!dg || ndg == ng), "rmsNormBwd: shapes");
  k_rmsnorm_bwd(x, g, r, dy, dx, dg, (long)nx / cols, cols, (int)LNG(env, argv[7]));
  return NULL;
}

/* embedding(ids, table, out, dim) */
FN(embedding) {
  ARGS(4);
  size_t ni, nt, no;
  int32_t *ids = I32(env, argv[0], &ni);
  float *t = F32(env, argv[1], &nt), *o = F32(env, argv[2], &no);
  FAILED();
  long dim = LNG(env, argv[3]);
  CHECK(dim > 0 && nt % dim == 0 && no == ni * (size_t)dim, "embedding: shapes");
  k_embedding(ids, (long)ni, t, (long)nt / dim, o, dim);
  return NULL;
}

/* embeddingBwd(ids, dout, dtable, dim): dtable += scatter(dout) */
FN(embeddingBwd) {
  ARGS(4);
  size_t ni, ng, nt;
  int32_t *ids = I32(env, argv[0], &ni);
  float *g = F32(env, argv[1], &ng), *t = F32(env, argv[2], &nt);
  FAILED();
  long dim = LNG(env, argv[3]);
  CHECK(dim > 0 && nt % dim == 0 && ng == ni * (size_t)dim, "embeddingBwd: shapes");
  k_embedding_bwd(ids, (long)ni, g, t, (long)nt / dim, dim);
  return NULL;
}

/* stridedCopy(src, srcOff, dst, dstOff, spec Int32Array [nd, shape.., sstride.., dstride..], acc) */
FN(stridedCopy) {
  ARGS(6);
  size_t ns, nd, nspec;
  float *s = F32(env, argv[0], &ns), *d = F32(env, argv[2], &nd);
  int32_t *spec = I32(env, argv[4], &nspec);
  FAILED();
  long so = LNG(env, argv[1]), dof = LNG(env, argv[3]);
  int dims = spec[0];
  CHECK(dims >= 0 && dims <= 8 && nspec >= (size_t)(1 + 3 * dims), "stridedCopy: bad spec");
  long shape[8], ss[8], ds[8];
  long smax = so, dmax = dof;
  for (int i = 0; i < dims; i++) {
    shape[i] = spec[1 + i];
    ss[i] = spec[1 + dims + i];
    ds[i] = spec[1 + 2 * dims + i];
    CHECK(shape[i] >= 0 && ss[i] >= 0 && ds[i] >= 0, "stridedCopy: negative shape or stride");
    if (shape[i] == 0) return NULL;
    smax += (shape[i] - 1) * ss[i];
    dmax += (shape[i] - 1) * ds[i];
  }
  CHECK(so >= 0 && dof >= 0 && smax < (long)ns && dmax < (long)nd, "stridedCopy: out of bounds");
  k_strided_copy(s + so, d + dof, dims, shape, ss, ds, (int)LNG(env, argv[5]));
  return NULL;
}

FN(sum) { ARGS(1); size_t n; float *x = F32(env, argv[0], &n); FAILED(); return mknum(env, k_sum(x, (long)n)); }
FN(sumSquares) { ARGS(1); size_t n; float *x = F32(env, argv[0], &n); FAILED(); return mknum(env, k_sum_squares(x, (long)n)); }
FN(dot) {
  ARGS(2);
  size_t na, nb;
  float *a = F32(env, argv[0], &na), *b = F32(env, argv[1], &nb);
  FAILED();
  CHECK(na == nb, "dot: shapes");
  return mknum(env, k_dot(a, b, (long)na));
}

/* sumOuter(x, out, acc): out[j] (+)= sum_o x[o, j], inner = out.length */
FN(sumOuter) {
  ARGS(3);
  size_t nx, no;
  float *x = F32(env, argv[0], &nx), *o = F32(env, argv[1], &no);
  FAILED();
  CHECK(no > 0 && nx % no == 0, "sumOuter: shapes");
  k_sum_outer(x, o, (long)(nx / no), (long)no, (int)LNG(env, argv[2]));
  return NULL;
}

/* sumInner(x, out, acc): out[o] (+)= sum_j x[o, j], outer = out.length */
FN(sumInner) {
  ARGS(3);
  size_t nx, no;
  float *x = F32(env, argv[0], &nx), *o = F32(env, argv[1], &no);
  FAILED();
  CHECK(no > 0 && nx % no == 0, "sumInner: shapes");
  k_sum_inner(x, o, (long)no, (long)(nx / no), (int)LNG(env, argv[2]));
  return NULL;
}

/* adamw(p, g, m, v, lr, b1, b2, eps, wd, bc1, bc2) */
FN(adamw) {
  ARGS(11);
  size_t np, ng, nm, nv;
  float *p = F32(env, argv[0], &np), *g = F32(env, argv[1], &ng), *m = F32(env, argv[2], &nm), *v = F32(env, argv[3], &nv);
  FAILED();
  CHECK(ng == np && nm == np && nv == np, "adamw: shapes");
  k_adamw(p, g, m, v, (long)np, (float)NUM(env, argv[4]), (float)NUM(env, argv[5]), (float)NUM(env, argv[6]),
          (float)NUM(env, argv[7]), (float)NUM(env, argv[8]), (float)NUM(env, argv[9]), (float)NUM(env, argv[10]));
  return NULL;
}

/* cumsum(x, y, cols, reverse, acc) */
FN(cumsum) {
  ARGS(5);
  size_t nx, ny;
  float *x = F32(env, argv[0], &nx), *y = F32(env, argv[1], &ny);
  FAILED();
  long cols = LNG(env, argv[2]);
  CHECK(cols > 0 && nx % cols == 0 && ny == nx, "cumsum: shapes");
  k_cumsum(x, y, (long)nx / cols, cols, (int)LNG(env, argv[3]), (int)LNG(env, argv[4]));
  return NULL;
}


static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT(setThreads), EXPORT(getThreads), EXPORT(hasOpenBLAS), EXPORT(gemmSplit), EXPORT(gemm), EXPORT(gemmPair), EXPORT(gemmBatched),
      EXPORT(fill), EXPORT(copy), EXPORT(binary), EXPORT(binaryBwd), EXPORT(axpby), EXPORT(affine),
      EXPORT(unary), EXPORT(unaryBwd), EXPORT(softmax), EXPORT(softmaxBwd), EXPORT(logSoftmax),
      EXPORT(logSoftmaxBwd), EXPORT(crossEntropy), EXPORT(layerNorm), EXPORT(layerNormBwd), EXPORT(rmsNorm),
      EXPORT(rmsNormBwd), EXPORT(embedding), EXPORT(embeddingBwd), EXPORT(stridedCopy), EXPORT(sum),
      EXPORT(sumSquares), EXPORT(dot), EXPORT(sumOuter), EXPORT(sumInner), EXPORT(adamw), EXPORT(cumsum),
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  gl_register_ssd(env, exports);
  gl_register_lstm(env, exports);
  gl_register_attention(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
