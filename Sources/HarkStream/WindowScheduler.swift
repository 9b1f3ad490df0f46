/// Decides which windows are due: one window of `windowSamples` ending every `hopSamples` of
/// stream time. Windows are aligned to stream positions, so their times are exact whatever the
/// capture block size.
public struct WindowScheduler: Sendable {
    public let windowSamples: Int
    public let hopSamples: Int
    /// Stream position where the next window ends.
    public private(set) var nextEnd: Int

    public init(windowSamples: Int, hopSamples: Int) {
        precondition(windowSamples > 0 && hopSamples > 0, "window and hop must be positive")
        self.windowSamples = windowSamples
        self.hopSamples = hopSamples
        nextEnd = windowSamples
    }

    /// Window end positions that `position` has reached since the last call, oldest first.
    public mutating func due(upTo position: Int) -> [Int] {
        var ends: [Int] = []
        while nextEnd <= position {
            ends.append(nextEnd)
            nextEnd += hopSamples
        }
        return ends
    }
}
