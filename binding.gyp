{
  "targets": [
    {
      "target_name": "groundlab_native",
      "sources": ["native/addon.c", "native/gemm.c", "native/kernels.c"],
      "cflags": ["-O3", "-march=native", "-fopenmp", "-std=gnu11", "-fno-strict-aliasing"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-fopenmp"],
      "conditions": [
        ["'<!(bash native/detect_openblas.sh)'=='yes'", {
          "defines": ["GL_HAVE_OPENBLAS=1"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
