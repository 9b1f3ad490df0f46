// Audio lost before it reached Hark, judged by the wall clock: a live source that falls behind by a
// step. A reader stalled past PulseAudio's buffer loses the oldest audio in the server, and the
// ALSA pulse plugin reports no overrun; without this the loss would go uncounted.

/// Follows a live source's lag behind the wall clock (wall time since its first block minus the
/// audio it delivered). Jitter and slow clock drift are absorbed; a step of more than `threshold`
/// seconds that holds for `settle` seconds (the catch-up burst after a stall is over) is a loss.
/// Owned by the capture thread.
struct UpstreamLossDetector {
    var threshold = 2.0
    var settle = 2.0
    /// The floor follows a rising lag with this time constant (sound-card clocks drift ~0.2 s/h).
    var driftSeconds = 600.0

    private var origin: UInt64?
    private var audioSeconds = 0.0
    private var floor: Double?
    private var lastWall = 0.0
    private var candidate: (lag: Double, since: Double)?

    /// A block of `frames` at `rate` arrived at `now` (monotonic ns); returns the seconds lost
    /// when a step has settled.
    mutating func received(frames: Int, rate: Int, now: UInt64) -> Double? {
        let origin = self.origin ?? now
        self.origin = origin
        audioSeconds += Double(frames) / Double(rate)
        let wall = Double(now &- origin) / 1e9
        let lag = wall - audioSeconds
        defer { lastWall = wall }
        guard var floor else {
            self.floor = lag
            return nil
        }
        // Drift shows between blocks that come on time; a long gap between blocks is the stall itself.
        if lag < floor { floor = lag } else { floor += (lag - floor) * min(wall - lastWall, 0.5) / driftSeconds }
        self.floor = floor
        guard lag - floor > threshold else {
            candidate = nil
            return nil
        }
        if let c = candidate, abs(lag - c.lag) < 0.5 {
            guard wall - c.since >= settle else { return nil }
            self.floor = lag
            candidate = nil
            return lag - floor
        }
        candidate = (lag, wall)
        return nil
    }
}
