#ifndef HARK_CCPUFEATURES_H
#define HARK_CCPUFEATURES_H

/// The widest vector level this CPU *and* its OS support, as CPUID and XGETBV report it (so it
/// works inside any sandbox, with /proc hidden): 2 = AVX-512 F/CD/BW/DQ/VL, 1 = AVX2 with FMA,
/// 0 = neither, or not x86-64.
int hark_cpu_vector_level(void);

#endif
