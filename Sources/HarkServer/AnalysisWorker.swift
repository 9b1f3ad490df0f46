import Foundation
import HarkClassifier
import HarkEngine
import Synchronization

/// Runs uploaded files through the model on a thread of its own, one at a time, with a classifier
/// of its own (the live path's is never shared). At most `queueLimit` uploads wait; more are
/// refused at once (503). The thread runs at a lower priority (nice 10), so on a busy machine the
/// live path keeps the CPU first. A request cancelled while it waits or runs (its connection
/// gone, the server shutting down) is answered with `CancellationError` at once: a waiting job is
/// dropped, a running one finishes on the worker with nobody waiting for it.
final class AnalysisWorker: Sendable {
    struct Busy: Error {}
    struct ShuttingDown: Error {}

    private let queueLimit: Int
    private struct Job {
        var id: Int
        var run: @Sendable () -> Void
        var cancel: @Sendable (any Error) -> Void
    }
    private struct State {
        var jobs: [Job] = []
        var running: Job?
        var nextID = 0
        var stopped = false
    }
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    /// Confined to the worker thread.
    private let classifier: Confined<Classifier>

    init(model: ModelEnsemble, mapsMember: String?, queueLimit: Int) throws {
        classifier = Confined(try Classifier(model: model, mapsMember: mapsMember))
        self.queueLimit = max(0, queueLimit)
        Thread.detachNewThread { [self] in run() }
    }

    /// Runs `body` with the worker's classifier and returns its result; throws `Busy` when too
    /// many uploads already wait, `ShuttingDown` once `stop()` was called.
    func perform<T: Sendable>(_ body: @escaping @Sendable (Classifier) throws -> T) async throws -> T {
        let answer = Answer<T>()
        let id = state.withLock { s in
            defer { s.nextID += 1 }
            return s.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                answer.set(continuation)
                let refusal = state.withLock { s -> (any Error)? in
                    if s.stopped { return ShuttingDown() }
                    guard s.jobs.count < queueLimit || (s.running == nil && s.jobs.isEmpty) else { return Busy() }
                    s.jobs.append(Job(id: id, run: { [classifier] in answer.resume(with: Result { try body(classifier.value) }) },
                                      cancel: { answer.resume(with: .failure($0)) }))
                    return nil
                }
                if let refusal { answer.resume(with: .failure(refusal)) } else { wake.signal() }
            }
        } onCancel: {
            let waiting = state.withLock { s -> Job? in
                guard let index = s.jobs.firstIndex(where: { $0.id == id }) else { return nil }
                return s.jobs.remove(at: index)
            }
            waiting?.cancel(CancellationError())
            // Running (or not yet queued): answer now; the worker's later answer is ignored.
            answer.resume(with: .failure(CancellationError()))
        }
    }

    /// A continuation resumed once, by whichever comes first: the result, a refusal or a cancellation.
    private final class Answer<T: Sendable>: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, early: Result<T, any Error>?)>((nil, nil))

        func set(_ continuation: CheckedContinuation<T, any Error>) {
            let early = state.withLock { s -> Result<T, any Error>? in
                if let early = s.early { return early }
                s.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func resume(with result: Result<T, any Error>) {
            let continuation = state.withLock { s -> CheckedContinuation<T, any Error>? in
                guard let c = s.continuation else {
                    if s.early == nil { s.early = result }  // cancelled before the continuation existed
                    return nil
                }
                s.continuation = nil
                s.early = result
                return c
            }
            continuation?.resume(with: result)
        }
    }

    /// On shutdown: every waiting upload and the running one are answered `ShuttingDown` now (the
    /// running analysis ends on the worker unheard), and new ones are refused the same way.
    func stop() {
        let jobs = state.withLock { s -> [Job] in
            s.stopped = true
            defer { s.jobs = [] }
            return s.jobs + (s.running.map { [$0] } ?? [])
        }
        for job in jobs { job.cancel(ShuttingDown()) }
    }

    /// Whether `stop()` was called: a running analysis checks it between windows and gives up.
    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Blocks until no job runs, at most `timeout` seconds: the process must not exit while the
    /// worker is inside OpenBLAS (its exit handlers free buffers a running call still uses).
    func waitUntilIdle(timeout: Double) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while state.withLock({ $0.running != nil }), DispatchTime.now().uptimeNanoseconds < deadline { usleep(10_000) }
    }

    /// Uploads waiting (not counting the one running).
    var waiting: Int { state.withLock { $0.jobs.count } }

    private func run() {
        // On Linux the nice value is per thread, and `who` 0 is the calling thread.
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        while true {
            wake.wait()
            while let job = state.withLock({ s -> Job? in
                guard !s.jobs.isEmpty else {
                    s.running = nil
                    return nil
                }
                s.running = s.jobs.removeFirst()
                return s.running
            }) {
                job.run()
            }
        }
    }
}

/// A value only one thread touches (the worker's); the compiler cannot see that.
final class Confined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
