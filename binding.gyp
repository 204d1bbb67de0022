{
  "targets": [
    {
      "target_name": "groundlab_kernels",
      "type": "static_library",
      "sources": ["native/kernels.c", "native/ssd.c", "native/lstm.c", "native/attention.c"],
      "cflags": ["-O3", "-march=native", "-fopenmp", "-ffast-math", "-std=gnu11", "-fPIC"],
      "cflags!": ["-O2", "-O0"]
    },
    {
      "target_name": "groundlab_native",
      "dependencies": ["groundlab_kernels"],
      "sources": ["native/addon.c", "native/gemm.c"],
      "cflags": ["-O3", "-march=native", "-fopenmp", "-std=gnu11"],
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
