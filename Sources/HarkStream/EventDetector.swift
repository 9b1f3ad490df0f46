/// One class's detected sound, as the detector reports its phases.
public struct DetectedEvent: Sendable, Equatable {
    public enum Phase: String, Sendable, Codable { case start, update, end }

    public var phase: Phase
    public var id: String
    public var classIndex: Int
    public var label: String
    /// The score of the window that produced this report.
    public var score: Float
    public var peakScore: Float
    public var meanScore: Float
    /// Stream seconds: the start of the first window that scored ≥ on…
    public var start: Double
    /// …and, on `end`, the end of the last window that scored ≥ off.
    public var end: Double?
    /// Stream seconds of the window end that produced this report.
    public var streamTime: Double
    public var windows: Int
}

/// Turns per-window class probabilities into start/update/end events with per-class
/// hysteresis, N-of-M confirmation, a hold time and allow/deny lists. Pure logic, no clocks:
/// time is the stream time of each window. Not thread-safe; one detector per pipeline.
public struct EventDetector: Sendable {
    public let config: DetectorConfig
    public let labels: [String]
    private let idPrefix: String
    private var nextID = 1
    private var history: [[(start: Double, above: Bool)]]
    private var active: [Int: ActiveEvent] = [:]

    private struct ActiveEvent: Sendable {
        var id: String
        var start: Double
        var lastAboveOff: Double
        var lastReport: Double
        var peak: Float
        var sum: Double
        var windows: Int
    }

    public init(config: DetectorConfig, labels: [String], idPrefix: String) {
        self.config = config
        self.labels = labels
        self.idPrefix = idPrefix
        history = Array(repeating: [], count: labels.count)
    }

    /// Events open right now, by class index.
    public var activeClasses: [Int] { active.keys.sorted() }

    /// Feeds one window ([start, end) in stream seconds). `probabilities` is nil for a window
    /// the energy gate skipped: every class scores 0.
    public mutating func update(windowStart: Double, windowEnd: Double, probabilities: [Float]?) -> [DetectedEvent] {
        var out: [DetectedEvent] = []
        for (c, label) in labels.enumerated() where config.isAllowed(label) {
            let score = probabilities.map { c < $0.count ? $0[c] : 0 } ?? 0
            let t = config.thresholds(for: label)
            history[c].append((windowStart, score >= t.on))
            if history[c].count > config.confirmOf { history[c].removeFirst() }

            if var event = active[c] {
                event.peak = max(event.peak, score)
                event.sum += Double(score)
                event.windows += 1
                if score >= t.off { event.lastAboveOff = windowEnd }
                if score < t.off && windowEnd - event.lastAboveOff >= config.holdSeconds {
                    out.append(report(.end, c, event, score: score, at: windowEnd, end: event.lastAboveOff))
                    active[c] = nil
                    history[c].removeAll()
                    continue
                }
                if windowEnd - event.lastReport >= config.updateIntervalSeconds {
                    event.lastReport = windowEnd
                    out.append(report(.update, c, event, score: score, at: windowEnd, end: nil))
                }
                active[c] = event
            } else if history[c].filter(\.above).count >= config.confirmWindows {
                let first = history[c].first(where: \.above)?.start ?? windowStart
                let event = ActiveEvent(id: "\(idPrefix)-\(nextID)", start: first, lastAboveOff: windowEnd,
                                        lastReport: windowEnd, peak: score, sum: Double(score), windows: 1)
                nextID += 1
                active[c] = event
                out.append(report(.start, c, event, score: score, at: windowEnd, end: nil))
            }
        }
        return out
    }

    /// Ends every open event (shutdown or end of stream), at its last window above `off`.
    public mutating func finish(at streamTime: Double) -> [DetectedEvent] {
        let ended = active.sorted { $0.key < $1.key }.map { c, event in
            report(.end, c, event, score: 0, at: streamTime, end: event.lastAboveOff)
        }
        active.removeAll()
        for c in history.indices { history[c].removeAll() }
        return ended
    }

    private func report(_ phase: DetectedEvent.Phase, _ c: Int, _ e: ActiveEvent, score: Float, at time: Double,
                        end: Double?) -> DetectedEvent {
        DetectedEvent(phase: phase, id: e.id, classIndex: c, label: labels[c], score: score, peakScore: e.peak,
                      meanScore: Float(e.sum / Double(e.windows)), start: e.start, end: end, streamTime: time,
                      windows: e.windows)
    }
}
