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
    /// Stream seconds: where the sound began in the first window that scored ≥ on (placed by its
    /// crops and energy envelope; that window's start without them)…
    public var start: Double
    /// …and, on `end`, where it ended in the windows that scored ≥ off (their end without crops).
    public var end: Double?
    /// Stream seconds of the window end that produced this report.
    public var streamTime: Double
    public var windows: Int
}

/// Turns per-window class scores into start/update/end events with per-class hysteresis, N-of-M
/// confirmation, a hold time and allow/deny lists, and places each event's start and end inside
/// the windows (`WindowEvidence.onset`/`offset`). Pure logic, no clocks: time is the stream time of
/// each window. Not thread-safe; one detector per pipeline, owned by the output queue.
public struct EventDetector: Sendable {
    public let config: DetectorConfig
    public let labels: [String]
    private let idPrefix: String
    private var nextID = 1
    /// Per class, the last `confirmOf` windows: whether each reached `on`, and where its sound began.
    private var history: [[(onset: Double, above: Bool)]]
    private var active: [Int: ActiveEvent] = [:]
    private var background = BackgroundFloor()

    private struct ActiveEvent: Sendable {
        var id: String
        var start: Double
        /// The end of the last window at or above `off` (the hold counts from here)…
        var lastAboveOff: Double
        /// …and the latest place any of those windows heard the sound end.
        var soundEnd: Double
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

    /// Feeds one window ([start, end) in stream seconds) with nothing but its probabilities:
    /// `probabilities` is nil for a window the energy gate skipped (every class scores 0).
    public mutating func update(windowStart: Double, windowEnd: Double, probabilities: [Float]?) -> [DetectedEvent] {
        update(WindowEvidence(start: windowStart, end: windowEnd, probabilities: probabilities, rule: config.score))
    }

    /// Feeds one window's evidence.
    public mutating func update(_ window: WindowEvidence) -> [DetectedEvent] {
        var out: [DetectedEvent] = []
        let floor = window.envelope.map { background.update($0, windowEnd: window.end) } ?? EnergyEnvelope.silenceDBFS
        for (c, label) in labels.enumerated() where config.isAllowed(label) {
            let score = window.scores.map { c < $0.count ? $0[c] : 0 } ?? 0
            let t = config.thresholds(for: label)
            let above = score >= t.on
            let onset = above ? window.onset(of: c, threshold: t.on, floor: floor, otherSounds: otherSounds(than: c)) : window.start
            history[c].append((onset, above))
            if history[c].count > config.confirmOf { history[c].removeFirst() }

            if var event = active[c] {
                event.peak = max(event.peak, score)
                event.sum += Double(score)
                event.windows += 1
                if score >= t.off {
                    event.lastAboveOff = window.end
                    // Only a crop that holds a sound moves the end: a quiet crop's score is an echo of the sound.
                    let heard = window.offset(of: c, threshold: t.off, floor: floor)
                    if heard.placed { event.soundEnd = max(event.soundEnd, heard.time) }
                }
                if score < t.off && window.end - event.lastAboveOff >= config.holdSeconds {
                    out.append(report(.end, c, event, score: score, at: window.end, end: event.soundEnd))
                    active[c] = nil
                    history[c].removeAll()
                    continue
                }
                if window.end - event.lastReport >= config.updateIntervalSeconds {
                    event.lastReport = window.end
                    out.append(report(.update, c, event, score: score, at: window.end, end: nil))
                }
                active[c] = event
            } else if history[c].filter(\.above).count >= config.confirmWindows {
                let first = history[c].first(where: \.above)?.onset ?? window.start
                let soundEnd = max(first, window.offset(of: c, threshold: t.off, floor: floor).time)
                let event = ActiveEvent(id: "\(idPrefix)-\(nextID)", start: first, lastAboveOff: window.end, soundEnd: soundEnd,
                                        lastReport: window.end, peak: score, sum: Double(score), windows: 1)
                nextID += 1
                active[c] = event
                out.append(report(.start, c, event, score: score, at: window.end, end: nil))
            }
        }
        return out
    }

    /// Where other classes' open events heard their sounds (as of this window for the classes
    /// before `c`): a new sound does not begin in their tails (sounds that follow each other closer
    /// than a crop is long share its first crops).
    private func otherSounds(than c: Int) -> [CropSpan] {
        active.compactMap { other, event in other == c ? nil : CropSpan(start: event.start, end: event.soundEnd) }
    }

    /// Ends every open event (shutdown or end of stream), where its sound was last heard.
    public mutating func finish(at streamTime: Double) -> [DetectedEvent] {
        let ended = active.sorted { $0.key < $1.key }.map { c, event in
            report(.end, c, event, score: 0, at: streamTime, end: event.soundEnd)
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
