import HarkStream
import Testing

/// Detector behaviour on hand-made score sequences (hop 1 s, window 5 s).
@Suite struct EventDetectorTests {
    let labels = ["dog", "rain", "siren"]

    func run(_ config: DetectorConfig, _ scores: [[Float]?]) -> [DetectedEvent] {
        var d = EventDetector(config: config, labels: labels, idPrefix: "t")
        var out: [DetectedEvent] = []
        for (i, p) in scores.enumerated() {
            out += d.update(windowStart: Double(i), windowEnd: Double(i) + 5, probabilities: p)
        }
        return out + d.finish(at: Double(scores.count) + 5)
    }

    func dog(_ s: Float) -> [Float] { [s, 0, 0] }

    @Test func startsAfterNOfMAndEndsAfterTheHold() {
        var c = DetectorConfig()
        c.confirmWindows = 2
        c.confirmOf = 3
        c.holdSeconds = 2
        let events = run(c, [dog(0.1), dog(0.7), dog(0.2), dog(0.8), dog(0.9), dog(0.1), dog(0.1), dog(0.1), dog(0.1)])
        #expect(events.map(\.phase) == [.start, .end])
        let start = events[0], end = events[1]
        #expect(start.label == "dog" && start.id == "t-1" && start.id == end.id)
        #expect(start.streamTime == 8)          // window 3 (ends at 8 s) is the second above 0.5 of three
        #expect(start.start == 1)               // the first window above `on` began at 1 s
        #expect(end.end == 9)                   // last window ≥ off ended at 9 s
        #expect(end.streamTime == 11)           // 11 − 9 ≥ 2 s hold
        #expect(end.peakScore == 0.9)
        #expect(abs(end.meanScore - (0.8 + 0.9 + 0.1 + 0.1) / 4) < 1e-6)
    }

    @Test func hysteresisKeepsAnEventThroughADip() {
        var c = DetectorConfig()
        c.confirmWindows = 1
        c.confirmOf = 1
        c.holdSeconds = 0
        // 0.4 is under `on` but above `off`: the event holds; 0.2 ends it at once (hold 0).
        let events = run(c, [dog(0.6), dog(0.4), dog(0.4), dog(0.2)])
        #expect(events.map(\.phase) == [.start, .end])
        #expect(events[1].end == 7 && events[1].streamTime == 8)
    }

    @Test func isolatedSpikesNeverConfirm() {
        var c = DetectorConfig()
        c.confirmWindows = 2
        c.confirmOf = 3
        #expect(run(c, [dog(0.9), dog(0.1), dog(0.1), dog(0.9), dog(0.1), dog(0.1)]).isEmpty)
    }

    @Test func gatedWindowsCountAsSilence() {
        var c = DetectorConfig()
        c.confirmWindows = 1
        c.confirmOf = 1
        c.holdSeconds = 1
        let events = run(c, [dog(0.9), nil, nil, nil])
        #expect(events.map(\.phase) == [.start, .end])
        #expect(events[1].streamTime == 6)  // the first silent window is 1 s past the last loud one
    }

    @Test func allowDenyAndPerClassThresholds() {
        var c = DetectorConfig()
        c.confirmWindows = 1
        c.confirmOf = 1
        c.deny = ["rain"]
        c.classThresholds["siren"] = .init(on: 0.95, off: 0.5)
        let events = run(c, [[0.6, 0.9, 0.9], [0.6, 0.9, 0.9]])
        #expect(Set(events.map(\.label)) == ["dog"])
        c.deny = []
        c.allow = ["rain"]
        #expect(Set(run(c, [[0.6, 0.9, 0.9]]).map(\.label)) == ["rain"])
    }

    @Test func updatesArriveAtTheInterval() {
        var c = DetectorConfig()
        c.confirmWindows = 1
        c.confirmOf = 1
        c.updateIntervalSeconds = 3
        let events = run(c, Array(repeating: dog(0.9), count: 8))
        #expect(events.map(\.phase) == [.start, .update, .update, .end])
        #expect(events.map(\.streamTime) == [5, 8, 11, 13])
        #expect(events.allSatisfy { $0.id == "t-1" })
    }

    @Test func invalidSettingsAreExplained() {
        var c = DetectorConfig()
        c.thresholds = .init(on: 0.3, off: 0.5)
        #expect(throws: ConfigurationError.self) { try c.validate(labels: labels) }
        c = DetectorConfig()
        c.confirmWindows = 3
        c.confirmOf = 2
        #expect(throws: ConfigurationError.self) { try c.validate(labels: labels) }
        c = DetectorConfig()
        c.allow = ["unicorn"]
        #expect(throws: ConfigurationError.self) { try c.validate(labels: labels) }
    }
}
