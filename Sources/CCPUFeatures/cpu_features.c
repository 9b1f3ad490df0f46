#include "CCPUFeatures.h"

int hark_cpu_vector_level(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    // __builtin_cpu_supports checks the OS saves the wider registers too (XGETBV), not only CPUID.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl")) {
        return 2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return 1;
    }
#endif
    return 0;
}
