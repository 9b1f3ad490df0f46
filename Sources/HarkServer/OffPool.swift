import Foundation

/// Runs blocking work (waiting on the pipeline, listing devices) on a thread of its own and awaits
/// it, so that the cooperative pool — two threads on a 2-core machine — never blocks.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
