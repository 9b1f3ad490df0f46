import Dispatch

/// Splits the engine's own loops (transforms, im2col, epilogues) over worker threads, only when
/// the session runs with more than one thread; with one it is a plain loop on the caller's thread.
enum Parallel {
    static func forEach(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
        } else {
            // The workers touch disjoint parts of buffers the caller owns for the whole call.
            withoutActuallyEscaping(body) { body in
                let box = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
            }
        }
    }

    /// Runs `body(worker, range)` over `count` items cut into at most `workers` contiguous ranges.
    static func ranges(_ count: Int, workers: Int, _ body: (Int, Range<Int>) -> Void) {
        let parts = max(1, min(workers, count))
        forEach(parts, workers: parts) { w in
            let lo = count * w / parts, hi = count * (w + 1) / parts
            if hi > lo { body(w, lo..<hi) }
        }
    }
}

private struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
