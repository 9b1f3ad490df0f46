import Synchronization

/// A bounded ring of mono samples at the model's rate, addressed by absolute stream position
/// (samples since capture began). The capture thread writes and never waits for readers: the
/// oldest audio is overwritten. Readers copy ranges out; a range already overwritten is gone.
///
/// Thread-safe: one writer and any number of readers, serialised by a short lock.
public final class RingBuffer: Sendable {
    private struct State {
        var storage: [Float]
        var written = 0  // samples written since creation = the stream position of the next sample
    }

    public let capacity: Int
    private let state: Mutex<State>

    public init(capacity: Int) {
        precondition(capacity > 0, "ring capacity must be positive")
        self.capacity = capacity
        state = Mutex(State(storage: [Float](repeating: 0, count: capacity)))
    }

    /// Stream position one past the newest sample.
    public var position: Int { state.withLock { $0.written } }

    /// Oldest position still held.
    public var oldestAvailable: Int { state.withLock { max(0, $0.written - capacity) } }

    public func write(_ samples: [Float]) {
        guard !samples.isEmpty else { return }
        state.withLock { s in
            // Only the last `capacity` samples of an oversized block can survive.
            let keep = samples.suffix(capacity)
            let skipped = samples.count - keep.count
            var index = (s.written + skipped) % capacity
            for v in keep {
                s.storage[index] = v
                index += 1
                if index == capacity { index = 0 }
            }
            s.written += samples.count
        }
    }

    /// Copies [start, end) out, or nil when part of it was overwritten or not written yet.
    public func copy(from start: Int, to end: Int) -> [Float]? {
        state.withLock { s -> [Float]? in
            guard start >= 0, end >= start, end <= s.written, start >= s.written - capacity else { return nil }
            var out = [Float](repeating: 0, count: end - start)
            var index = start % capacity
            for i in out.indices {
                out[i] = s.storage[index]
                index += 1
                if index == capacity { index = 0 }
            }
            return out
        }
    }
}
