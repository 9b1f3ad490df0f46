// No declarations: the target only carries the test binary's load-time set-up (blas_one_thread.c).
