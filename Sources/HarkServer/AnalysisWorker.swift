import Foundation
import HarkClassifier
import HarkEngine
import Synchronization

/// Runs uploaded files through the model on a thread of its own, one at a time, with a classifier
/// of its own (the live path's is never shared). At most `queueLimit` uploads wait; more are
/// refused at once (503). The thread runs at a lower priority (nice 10), so on a busy machine the
/// live path keeps the CPU first.
final class AnalysisWorker: Sendable {
    struct Busy: Error {}

    private let queueLimit: Int
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var running = false
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
    /// many uploads already wait.
    func perform<T: Sendable>(_ body: @escaping @Sendable (Classifier) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = state.withLock { s -> Bool in
                guard s.jobs.count < queueLimit || (!s.running && s.jobs.isEmpty) else { return false }
                s.jobs.append { [classifier] in continuation.resume(with: Result { try body(classifier.value) }) }
                return true
            }
            if accepted { wake.signal() } else { continuation.resume(throwing: Busy()) }
        }
    }

    /// Uploads waiting (not counting the one running).
    var waiting: Int { state.withLock { $0.jobs.count } }

    private func run() {
        // On Linux the nice value is per thread, and `who` 0 is the calling thread.
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        while true {
            wake.wait()
            while let job = state.withLock({ s -> (@Sendable () -> Void)? in
                guard !s.jobs.isEmpty else {
                    s.running = false
                    return nil
                }
                s.running = true
                return s.jobs.removeFirst()
            }) {
                job()
            }
        }
    }
}

/// A value only one thread touches (the worker's); the compiler cannot see that.
final class Confined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
