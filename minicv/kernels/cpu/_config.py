"""Compile options shared by the Numba kernels.

``PARALLEL`` (False): the kernels are written with ``prange`` over disjoint (n, c) planes,
so they are race-free when parallel, but they run serially.  Measured on the 2-core dev
machine (im2col of 64x32x16x16, 3x3, followed by its GEMM): parallel im2col alone took
2.3 ms vs 4.6 ms serial, but in the im2col -> GEMM pipeline OpenBLAS's worker threads are
still spinning when the Numba/OpenMP team starts, and the pair took 9.5 ms parallel vs
6.4 ms serial.  Every kernel here sits next to a GEMM, so serial wins.
``FASTMATH``: reassociation and contraction only; never 'nnan'/'ninf' (max-pooling relies
on -inf and NaN, reference.md §3).
"""
PARALLEL = False
FASTMATH = {"nsz", "contract", "reassoc"}
