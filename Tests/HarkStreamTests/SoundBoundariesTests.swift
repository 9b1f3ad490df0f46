import HarkClassifier
import HarkStream
import Testing

/// Event boundaries below the window, on hand-made envelopes and crop scores: where the loud
/// blocks are, what a quiet crop may not move, the strongest-crop rule against the window mean.
@Suite struct SoundBoundariesTests {
    /// 100 blocks of 50 ms from stream second 10: background at −50 dBFS, `loud` blocks at −20.
    func envelope(loud: [Range<Int>]) -> EnergyEnvelope {
        var levels = [Double](repeating: -50, count: 100)
        for run in loud { for i in run { levels[i] = -20 } }
        return EnergyEnvelope(start: 10, blockSeconds: 0.05, levels: levels)
    }

    @Test func aCropsFirstAndLastLoudBlocksWidenedThroughTheirRuns() throws {
        // A sound over blocks 20..<41 with a 0.2-s gap (blocks 30..<34) inside; the crop covers 25..<60.
        let e = envelope(loud: [20..<30, 34..<41])
        let crop = CropSpan(start: 11.25, end: 13.0)
        let onset = try #require(SoundBoundaries.onset(crop: crop, envelope: e, floor: -50))
        let offset = try #require(SoundBoundaries.offset(crop: crop, envelope: e, floor: -50))
        #expect(abs(onset - 11.0) < 1e-9)      // block 20 began before the crop did
        #expect(abs(offset - 12.05) < 1e-9)    // block 40 ends at 10 + 41 × 0.05
    }

    @Test func aGapLongerThanTheBridgeSplitsTwoSounds() throws {
        // Two sounds 0.5 s apart (blocks 10..<20 and 30..<40); the crop holds only the second.
        let e = envelope(loud: [10..<20, 30..<40])
        let crop = CropSpan(start: 11.5, end: 12.5)
        #expect(try #require(SoundBoundaries.onset(crop: crop, envelope: e, floor: -50)) == 11.5)
        // A 0.25-s gap is bridged: the first sound's start is the onset.
        let bridged = envelope(loud: [10..<25, 30..<40])
        #expect(abs(try #require(SoundBoundaries.onset(crop: crop, envelope: bridged, floor: -50)) - 10.5) < 1e-9)
    }

    @Test func aRunHeardAsAnotherSoundIsTheSoundBeforeOrAfter() throws {
        // Two sounds 1 s apart, closer than a crop is long: 10.0-11.0 s and 12.0-13.0 s.
        let e = envelope(loud: [0..<20, 40..<60])
        // The crop that reached holds the first one's tail and the second one's head.
        let crop = CropSpan(start: 10.5, end: 12.5)
        #expect(SoundBoundaries.onset(crop: crop, envelope: e, floor: -50) == 10.0)
        // Another class's event heard the first sound: its tail is skipped, the onset is the second sound's.
        let other = CropSpan(start: 10.0, end: 11.0)
        #expect(SoundBoundaries.onset(crop: crop, envelope: e, floor: -50, heardWithout: [other]) == 12.0)
        // An event that heard only part of the tail proves nothing about it.
        #expect(SoundBoundaries.onset(crop: crop, envelope: e, floor: -50, heardWithout: [CropSpan(start: 10.8, end: 12.0)]) == 10.0)
        // A run that begins inside the crop is this sound's head even where another label heard it.
        let head = CropSpan(start: 9.9, end: 12.5)
        #expect(SoundBoundaries.onset(crop: head, envelope: e, floor: -50, heardWithout: [other]) == 10.0)
        // The end, from the other side: a later crop without the class heard the next sound's head.
        #expect(SoundBoundaries.offset(crop: crop, envelope: e, floor: -50) == 13.0)
        let after = CropSpan(start: 11.5, end: 14.0)
        #expect(SoundBoundaries.offset(crop: crop, envelope: e, floor: -50, heardWithout: [after]) == 11.0)
    }

    @Test func aQuietCropPlacesNothingAndNoEnvelopeFallsBackToTheCrop() {
        let e = envelope(loud: [0..<10])
        let crop = CropSpan(start: 12, end: 14)
        #expect(SoundBoundaries.onset(crop: crop, envelope: e, floor: -50) == nil)
        #expect(SoundBoundaries.offset(crop: crop, envelope: e, floor: -50) == nil)
        #expect(SoundBoundaries.onset(crop: crop, envelope: nil, floor: -50) == 12)
        #expect(SoundBoundaries.offset(crop: crop, envelope: nil, floor: -50) == 14)
        // Blocks under floor + riseDB are not loud: at a floor of −25 the −20 blocks are background.
        #expect(SoundBoundaries.onset(crop: CropSpan(start: 10, end: 11), envelope: e, floor: -25) == nil)
    }

    @Test func theBackgroundFloorIsTheQuietestRecentWindowsMedian() {
        var floor = BackgroundFloor()
        let quiet = EnergyEnvelope(start: 0, blockSeconds: 0.05, levels: [Double](repeating: -50, count: 100))
        let loud = EnergyEnvelope(start: 0, blockSeconds: 0.05, levels: [Double](repeating: -20, count: 100))
        #expect(floor.update(quiet, windowEnd: 5) == -50)
        // A sound that fills whole windows is still judged against the background before it…
        #expect(floor.update(loud, windowEnd: 6) == -50)
        #expect(floor.update(loud, windowEnd: 30) == -50)
        // …until the quiet window is older than the memory.
        #expect(floor.update(loud, windowEnd: 5 + BackgroundFloor.memorySeconds + 1) == -20)
    }

    @Test func theEnvelopeOfSamplesIsTheirBlockRMS() {
        // 0.1 s of a 0.1-amplitude square wave, then 0.1 s of silence, at 1 kHz: blocks of 50 samples.
        let samples = (0..<100).map { $0 % 2 == 0 ? Float(0.1) : -0.1 } + [Float](repeating: 0, count: 100)
        let e = EnergyEnvelope(samples: samples, sampleRate: 1000, start: 3)
        #expect(e.levels.count == 4)
        #expect(abs(e.levels[0] - -20) < 1e-6 && abs(e.levels[1] - -20) < 1e-6)
        #expect(e.levels[2] == -120 && e.levels[3] == -120)
        #expect(e.start == 3 && e.blockSeconds == 0.05)
    }
}

/// The detector on windows with crops and envelopes (hop 1 s, window 5 s, 5 crops of 2.5 s).
@Suite struct DetectorEvidenceTests {
    let labels = ["dog", "rain"]

    /// A window [t, t + 5) whose crops score dog at `dog[k]` (rain at 0), with the window mean
    /// `mean`, and an envelope that is loud over `loud` (stream seconds).
    func window(at t: Double, dog: [Float], mean: Float, loud: ClosedRange<Double>?, rule: DetectionScore) -> WindowEvidence {
        let crops = dog.enumerated().map { k, p in
            CropScore(start: t + 0.625 * Double(k), end: t + 0.625 * Double(k) + 2.5, probabilities: [p, 0])
        }
        let levels = (0..<100).map { i -> Double in
            let at = t + 0.05 * Double(i) + 0.025
            return loud.map { $0.contains(at) ? -20.0 : -50.0 } ?? -50
        }
        return WindowEvidence(start: t, end: t + 5, probabilities: [mean, 0], crops: crops,
                              envelope: EnergyEnvelope(start: t, blockSeconds: 0.05, levels: levels), rule: rule)
    }

    func config(_ rule: DetectionScore) -> DetectorConfig {
        var c = DetectorConfig()
        c.score = rule
        c.confirmWindows = 1
        c.confirmOf = 1
        c.holdSeconds = 1
        c.thresholds = .init(on: 0.5, off: 0.3)
        return c
    }

    @Test func aShortSoundInOneCropStartsAnEventOnlyUnderTheStrongestCropRule() {
        // A 0.6-s bark at 13.2 s: the crops that hold it are sure, the window's mean is not.
        let crops: [Float] = [0.05, 0.9, 0.9, 0.9, 0.05]
        for rule in DetectionScore.allCases {
            var d = EventDetector(config: config(rule), labels: labels, idPrefix: "t")
            let out = d.update(window(at: 10, dog: crops, mean: 0.35, loud: 13.2...13.8, rule: rule))
            #expect(out.map(\.phase) == (rule == .strongestCrop ? [.start] : []), "\(rule)")
        }
    }

    @Test func startAndEndComeFromTheEnvelopeNotTheWindow() throws {
        var d = EventDetector(config: config(.strongestCrop), labels: labels, idPrefix: "t")
        let bark = 13.2...13.8
        // Window 10..<15: crops 2-4 (from 11.25, 11.875, 12.5) hold the bark. Window 11..<16: all do, in part.
        var out = d.update(window(at: 10, dog: [0.1, 0.1, 0.9, 0.9, 0.9], mean: 0.5, loud: bark, rule: .strongestCrop))
        out += d.update(window(at: 11, dog: [0.9, 0.9, 0.8, 0.6, 0.1], mean: 0.6, loud: bark, rule: .strongestCrop))
        // Then windows whose crops score the echo of the bark over background only.
        out += d.update(window(at: 12, dog: [0.7, 0.4, 0.35, 0.35, 0.3], mean: 0.4, loud: bark, rule: .strongestCrop))
        out += d.update(window(at: 14, dog: [0.35, 0.35, 0.3, 0.3, 0.3], mean: 0.3, loud: nil, rule: .strongestCrop))
        for t in 15...18 { out += d.update(window(at: Double(t), dog: [0, 0, 0, 0, 0], mean: 0, loud: nil, rule: .strongestCrop)) }
        let start = try #require(out.first { $0.phase == .start })
        let end = try #require(out.first { $0.phase == .end })
        #expect(abs(start.start - 13.2) < 0.051, "start \(start.start)")
        #expect(start.streamTime == 15)
        // The later windows' crops scored ≥ off over background only: they may not stretch the end.
        #expect(abs(try #require(end.end) - 13.8) < 0.051, "end \(String(describing: end.end))")
    }

    @Test func aSoundRightAfterAnotherStartsWhereItBeganNotWhereTheOtherDid() throws {
        // Rain over 10.0-11.3 s, then the dog over 12.4-13.4 s: closer than a crop is long.
        func window(at t: Double, dog: [Float], rain: [Float]) -> WindowEvidence {
            let levels = (0..<100).map { i -> Double in
                let at = t + 0.05 * Double(i) + 0.025
                return (10.0...11.3).contains(at) || (12.4...13.4).contains(at) ? -20 : -50
            }
            let crops = zip(dog, rain).enumerated().map { k, p in
                CropScore(start: t + 0.625 * Double(k), end: t + 0.625 * Double(k) + 2.5, probabilities: [p.0, p.1])
            }
            return WindowEvidence(start: t, end: t + 5, probabilities: [dog.max() ?? 0, rain.max() ?? 0], crops: crops,
                                  envelope: EnergyEnvelope(start: t, blockSeconds: 0.05, levels: levels), rule: .strongestCrop)
        }
        var d = EventDetector(config: config(.strongestCrop), labels: labels, idPrefix: "t")
        // Window 8..<13: the rain's crops (8.0-10.5 … 9.875-12.375) open its event, heard over 10.0-11.3.
        let rain = try #require(d.update(window(at: 8, dog: [0, 0, 0, 0, 0.05], rain: [0.9, 0.9, 0.9, 0.9, 0.1])).first)
        #expect(rain.label == "rain" && abs(rain.start - 10.0) < 0.051)
        // Window 10..<15: the dog's earliest crop to reach (10.625-13.125) holds the rain's tail and the dog's head.
        let dog = try #require(d.update(window(at: 10, dog: [0.05, 0.9, 0.9, 0.9, 0.9], rain: [0.9, 0.6, 0.1, 0, 0])).first { $0.phase == .start })
        #expect(dog.label == "dog")
        #expect(abs(dog.start - 12.4) < 0.051, "start \(dog.start)")
    }

    @Test func withoutCropsTheWindowBoundsStand() {
        // The evidence-free path is the window's own bounds (EventDetectorTests pin the rest).
        var d = EventDetector(config: config(.strongestCrop), labels: labels, idPrefix: "t")
        let out = d.update(WindowEvidence(start: 4, end: 9, probabilities: [0.8, 0], rule: .strongestCrop))
            + d.finish(at: 10)
        #expect(out.map(\.start) == [4, 4])
        #expect(out.last?.end == 9)
    }
}
