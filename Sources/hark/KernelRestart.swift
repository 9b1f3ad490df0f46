import Foundation
import HarkEngine

/// OpenBLAS reads OPENBLAS_CORETYPE only as it loads, before `main`, so leaving its generic fallback
/// kernel takes a restart: the same binary, arguments, descriptors and PID (systemd sees the same
/// service process), with the variable set, before anything has been read or written.
enum KernelRestart {
    static func onFasterKernelIfNeeded() {
        guard let kernel = BLASKernel.upgrade(environment: ProcessInfo.processInfo.environment) else { return }
        setenv(BLASKernel.environmentVariable, kernel, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when exec failed (no /proc, say): run on, and the generic-kernel advice says what to set.
        unsetenv(BLASKernel.environmentVariable)
    }
}
