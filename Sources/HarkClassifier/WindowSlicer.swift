/// Cuts a signal into fixed-length analysis windows every `hop` samples.
///
/// A signal shorter than one window gives one window, zero-padded at the end (as in training).
/// When windows do not reach the end, one more window starting a hop later covers the tail,
/// zero-padded, so the last seconds of a file are never ignored.
public struct WindowSlicer: Sendable {
    public let windowSamples: Int
    public let hopSamples: Int

    public init(windowSamples: Int, hopSamples: Int) {
        precondition(windowSamples > 0 && hopSamples > 0, "window and hop must be positive")
        self.windowSamples = windowSamples
        self.hopSamples = hopSamples
    }

    /// Start offsets of the windows over `length` samples.
    public func starts(length: Int) -> [Int] {
        guard length > windowSamples else { return [0] }
        var starts = Array(stride(from: 0, through: length - windowSamples, by: hopSamples))
        if let last = starts.last, last + windowSamples < length { starts.append(last + hopSamples) }
        return starts
    }

    /// The window at `start`, zero-padded past the end of the signal.
    public func window(_ signal: [Float], start: Int) -> [Float] {
        let end = min(start + windowSamples, signal.count)
        var w = start < end ? Array(signal[start..<end]) : []
        if w.count < windowSamples { w += [Float](repeating: 0, count: windowSamples - w.count) }
        return w
    }
}
