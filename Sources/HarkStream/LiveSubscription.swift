import Foundation

/// One consumer's bounded buffer of the pipeline's output, with its delivery contract.
///
/// - `lossless` (events, history, stdout): when the buffer is full the publisher — the pipeline's
///   output queue — waits. That stalls the model stage, and the scheduler then drops whole windows
///   upstream, counted as `windows_dropped`: a slow consumer costs windows, never events.
/// - `newestWins` (telemetry): when the buffer is full the oldest item is dropped and counted in
///   `droppedCount`; the publisher never waits.
///
/// Threads: the hub offers from the pipeline's output queue; the consumer calls `next()` from a
/// thread of its own (it blocks). State is guarded by `condition`.
public final class LiveSubscription: @unchecked Sendable {
    public enum Delivery: Sendable, Equatable { case lossless, newestWins }

    public let delivery: Delivery
    public let capacity: Int
    private let condition = NSCondition()
    // Guarded by `condition`. Taken and dropped slots are cleared at once (a window result can hold
    // megabytes of feature maps); the array is compacted now and then, not per item.
    private var buffer: [LiveOutput?] = []
    private var head = 0
    private var wants: Interest
    private var dropped = 0
    private var finished = false
    private var cancelled = false

    init(interest: Interest, delivery: Delivery, capacity: Int) {
        wants = interest
        self.delivery = delivery
        self.capacity = max(1, capacity)
    }

    /// What this consumer wants; may change while it runs (a dashboard opens another layer).
    public var interest: Interest {
        get { locked { wants } }
        set { locked { wants = newValue } }
    }

    /// Items dropped oldest-first because the buffer was full (`newestWins` only).
    public var droppedCount: Int { locked { dropped } }

    /// Items waiting.
    public var backlog: Int { locked { buffer.count - head } }

    var isCancelled: Bool { locked { cancelled } }

    /// The next item, oldest first; blocks until there is one. Nil once the pipeline has finished
    /// and everything was taken, or after `cancel()`.
    public func next() -> LiveOutput? {
        condition.lock()
        defer { condition.unlock() }
        while head == buffer.count && !finished && !cancelled { condition.wait() }
        if cancelled || head == buffer.count { return nil }
        let item = buffer[head]
        buffer[head] = nil
        head += 1
        compact()
        condition.broadcast()   // a lossless publisher may be waiting for room
        return item
    }

    /// Waits for at least one item, then takes every item already there (at most `maximum`), so a
    /// consumer can handle a burst in one go (one database transaction). Nil as `next()`.
    public func nextBatch(maximum: Int) -> [LiveOutput]? {
        guard let first = next() else { return nil }
        var batch = [first]
        condition.lock()
        while batch.count < maximum, head < buffer.count, let item = buffer[head] {
            buffer[head] = nil
            head += 1
            batch.append(item)
        }
        compact()
        condition.broadcast()
        condition.unlock()
        return batch
    }

    /// The consumer is gone: nothing more is kept for it, and a publisher waiting for room goes on.
    public func cancel() {
        locked {
            cancelled = true
            buffer = []
            head = 0
        }
    }

    /// Called by the hub on the output queue.
    func offer(_ item: LiveOutput) {
        condition.lock()
        defer { condition.unlock() }
        if delivery == .lossless {
            while buffer.count - head >= capacity && !cancelled { condition.wait() }
        } else if buffer.count - head >= capacity {
            buffer[head] = nil
            head += 1
            dropped += 1
            compact()
        }
        guard !cancelled else { return }
        buffer.append(item)
        condition.broadcast()
    }

    private func compact() {
        if head > 64 && head * 2 > buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
    }

    /// No more items will come; `next()` returns what is left, then nil.
    func finish() { locked { finished = true } }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return body()
    }
}
