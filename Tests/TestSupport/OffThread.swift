import Foundation

/// Runs blocking work (waiting on a process, a pipeline, a long computation) on a thread of its
/// own and awaits it. Swift Testing runs tests on the cooperative pool, which has one thread per
/// core (two here): a test that blocks one starves every other test's `await`, and their timings
/// then measure the starvation, not the code.
public func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Sleeps without holding a pool thread.
public func pause(_ seconds: Double) async throws {
    try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
}
