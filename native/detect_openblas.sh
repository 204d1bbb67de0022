#!/usr/bin/env bash
# Prints "yes" when Debian's OpenBLAS development files are installed (cblas.h + libopenblas.so).
hdr=no; lib=no
for f in /usr/include/x86_64-linux-gnu/cblas.h /usr/include/aarch64-linux-gnu/cblas.h /usr/include/cblas.h /usr/include/openblas/cblas.h; do [ -f "$f" ] && hdr=yes; done
for f in /usr/lib/*/libopenblas.so /usr/lib/libopenblas.so; do [ -e "$f" ] && lib=yes; done
if [ $hdr = yes ] && [ $lib = yes ]; then echo yes; exit 0; fi
echo "groundlab: OpenBLAS not found (apt-get install -y libopenblas-dev); building the slower built-in GEMM" >&2
echo no
