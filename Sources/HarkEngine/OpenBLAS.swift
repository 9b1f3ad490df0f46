import CCPUFeatures
import COpenBLAS

/// Global thread count of the BLAS library (process-wide). Set it before running models, never
/// while another thread may be inside a BLAS call: OpenBLAS resizes its thread pool unguarded.
public enum BLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
    public static var current: Int { Int(openblas_get_num_threads()) }
}

/// The OpenBLAS kernel family that runs the GEMMs. OpenBLAS picks it from the CPU model when it
/// loads; on a CPU it does not recognise (often a virtual machine hiding its model) it falls back
/// to its generic SSE3 kernel, "Prescott", which made the ensemble 1.9-2.6x slower on 2-core
/// AVX-512 VMs. The choice can only be forced before the library loads, through `OPENBLAS_CORETYPE`.
public enum BLASKernel {
    /// The variable OpenBLAS reads once, as it loads, to force a kernel family.
    public static let environmentVariable = "OPENBLAS_CORETYPE"

    /// The kernel family running now (e.g. "SkylakeX", "Haswell", "Prescott").
    public static var current: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// Whether that is the generic fallback kernel.
    public static var isGeneric: Bool { current.lowercased() == "prescott" }

    /// The fastest family this CPU and its OS can run, by CPUID: "SkylakeX" (AVX-512), "Haswell"
    /// (AVX2 + FMA), or nil (neither: the generic kernel is the right one).
    public static var bestForThisCPU: String? {
        switch hark_cpu_vector_level() {
        case 2: "SkylakeX"
        case 1: "Haswell"
        default: nil
        }
    }

    /// The family to restart with: only when OpenBLAS fell back to its generic kernel by itself
    /// (the environment forced none; a forced choice is the user's) and the CPU can run a faster one.
    public static func upgrade(environment: [String: String]) -> String? {
        guard isGeneric, environment[environmentVariable, default: ""].isEmpty else { return nil }
        return bestForThisCPU
    }

    /// Advice when the generic kernel runs although this CPU can run a faster one: the environment
    /// forced it, or hark could not restart itself with a better one.
    public static var genericKernelAdvice: String? {
        guard isGeneric, let better = bestForThisCPU else { return nil }
        return "OpenBLAS is running its generic Prescott (SSE3) kernel, but this CPU can run its \(better) kernel, "
            + "2-3x faster: start hark with \(environmentVariable)=\(better), or without \(environmentVariable) "
            + "to let hark choose (see the README's Performance section)."
    }
}
