import Foundation

/// Seconds of CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID): on a shared machine
/// it excludes the time other processes held the core, so single-threaded timings stay comparable.
public func threadCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
