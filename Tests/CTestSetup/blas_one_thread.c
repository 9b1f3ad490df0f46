#include "CTestSetup.h"

// The tests run side by side in one process. With OpenBLAS's own threads, every GEMM of every test
// queues behind one library-wide lock, and a model pass in one test waited seconds for another's
// (a pipeline's real-time test took 13.8 s for 8 s of audio). On one thread, OpenBLAS runs each call
// on its caller's thread without that lock. Set once, as the test binary loads, before any test
// runs (OpenBLAS initialises in its own constructor, which runs first, being a library).
// The multi-threaded path is tested through `hark classify --threads 2` in a process of its own.
extern void openblas_set_num_threads(int);

__attribute__((constructor)) static void hark_tests_run_blas_on_one_thread(void) {
    openblas_set_num_threads(1);
}
