// Crops on a grid of stream time: the geometry by hand, and the shipped ensemble sharing crops between live windows.
import Foundation
import HarkClassifier
import HarkEngine
import Testing
import TestSupport

@Suite struct CropGridTests {
    /// K's and M's front-end: 216 frames of a 5-s window at 22.05 kHz, crops of 108.
    static func kGrid(hopSeconds: Double) -> CropGrid {
        CropGrid(cropFrames: 108, hopSamples: Int(hopSeconds * 22050), sampleRate: 22050, windowFrames: 216, windowSeconds: 5)
    }

    @Test func atHalfASecondSixAnchoredCropsFillTheWindow() {
        let grid = Self.kGrid(hopSeconds: 0.5)
        // 0.5 s is 21.6 frames: crop k starts k × 21.6 frames before the newest, rounded down.
        #expect(abs(grid.hopFrames - 21.6) < 1e-9 && grid.anchoredCount == 6 && grid.unheardFrames == 0 && !grid.hasHeadCrop)
        let crops = grid.crops(windowEnd: 220_500)
        #expect(crops.map(\.firstFrame) == [0, 22, 44, 65, 87, 108])
        #expect(crops.map(\.key) == [165_375, 176_400, 187_425, 198_450, 209_475, 220_500])
        #expect(crops.map(\.start) == [0, 0.5, 1, 1.5, 2, 2.5] && crops.map(\.end) == [2.5, 3, 3.5, 4, 4.5, 5])
    }

    @Test func theNextWindowHoldsAllButTheOldestCropAndAddsOne() {
        let grid = Self.kGrid(hopSeconds: 0.5)
        let now = grid.crops(windowEnd: 220_500).compactMap(\.key)
        let next = grid.crops(windowEnd: 220_500 + 11025).compactMap(\.key)
        #expect(Array(now.dropFirst()) == Array(next.dropLast()))
        #expect(Set(next).subtracting(now) == [231_525])
    }

    @Test func vsFinerFramesFillTheWindowExactly() {
        // V: 431 frames per 5 s, crops of 216; 0.5 s is 43.1 frames, and 5 hops 215.5, rounded down.
        let grid = CropGrid(cropFrames: 216, hopSamples: 11025, sampleRate: 22050, windowFrames: 431, windowSeconds: 5)
        #expect(grid.anchoredCount == 6 && grid.unheardFrames == 0 && !grid.hasHeadCrop)
        #expect(grid.crops(windowEnd: 110_250).map(\.firstFrame) == [0, 43, 86, 129, 172, 215])
        // Its crops fall where K's do (within the 0.05 s the members' crops are averaged at).
        let k = Self.kGrid(hopSeconds: 0.5).crops(windowEnd: 110_250), v = grid.crops(windowEnd: 110_250)
        #expect(zip(k, v).allSatisfy { abs($0.start - $1.start) <= 0.05 && abs($0.end - $1.end) <= 0.05 && $0.key == $1.key })
    }

    @Test func aLongHopAddsAnUnsharedCropAtTheWindowsStart() {
        // 1 s: 43 frames; crops from frames 22, 65, 108 leave 22 frames (half a second) unheard.
        let second = Self.kGrid(hopSeconds: 1)
        #expect(second.anchoredCount == 3 && second.unheardFrames == 22 && second.hasHeadCrop)
        let crops = second.crops(windowEnd: 110_250)
        #expect(crops.map(\.firstFrame) == [0, 22, 65, 108] && crops.first?.key == nil)
        #expect(crops.map(\.start) == [0, 0.5, 1.5, 2.5])
        // A hop as long as the window: the newest crop and the head crop.
        let whole = Self.kGrid(hopSeconds: 5)
        #expect(whole.crops(windowEnd: 110_250).map(\.firstFrame) == [0, 108])
    }

    @Test func membersOnOtherFrontEndsLayAsManyCrops() {
        // A hop of 0.8367 s: three hops fit K's window less a crop (108.4 of 108 frames, rounded
        // down) but not V's (216.4 of 215), so K alone would lay 4 crops and V 3.
        let k = CropGrid(cropFrames: 108, hopSamples: 18448, sampleRate: 22050, windowFrames: 216, windowSeconds: 5)
        let v = CropGrid(cropFrames: 216, hopSamples: 18448, sampleRate: 22050, windowFrames: 431, windowSeconds: 5)
        #expect(k.anchoredCount == 4 && v.anchoredCount == 3 && v.hasHeadCrop)
        let matched = k.matching(v).crops(windowEnd: 110_250), own = v.crops(windowEnd: 110_250)
        #expect(matched.count == 4 && own.count == 4 && matched.first?.key == nil)
        #expect(zip(matched, own).allSatisfy { abs($0.start - $1.start) <= 0.05 && abs($0.end - $1.end) <= 0.05 && $0.key == $1.key })
    }

    /// 12 s of seeded noise with tone bursts: windows that differ from one hop to the next.
    static func signal(sampleRate: Int) -> [Float] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<(12 * sampleRate)).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Float(Int64(bitPattern: state >> 11) % 2000) / 20000
            let t = Double(i) / Double(sampleRate)
            guard Int(t * 1.5) % 3 == 0 else { return noise }
            let frequency: Double = 400 + 150 * t.rounded(.down)
            let tone: Double = 0.4 * sin(2 * Double.pi * frequency * t)
            return noise + Float(tone)
        }
    }

    @Test func liveWindowsOfTheShippedEnsembleShareTheirCropsOnTheStream() throws {
        let model = try ModelEnsemble.load(cardPath: TestPaths.pairCard)
        let members = model.members.count
        #expect(model.members.allSatisfy { $0.card.crops?.count == 8 })
        let rate = model.sampleRate, hop = rate / 2, n = model.windowSamples
        let audio = Self.signal(sampleRate: rate)
        func window(endingAt end: Int) -> [Float] { Array(audio[(end - n)..<end]) }

        let stream = try Classifier(model: model)
        stream.placeCrops(.stream, hopSamples: hop)
        let first = try stream.classify(streamWindow: window(endingAt: n), endingAt: n, start: 0)
        #expect(stream.cropPasses == 6 * members && first.crops.count == 6)
        let second = try stream.classify(streamWindow: window(endingAt: n + hop), endingAt: n + hop, start: 0.5)
        // One new crop per member; the other five are the first window's, exactly.
        #expect(stream.cropPasses == 7 * members)
        #expect(second.crops.dropLast().map(\.probabilities) == first.crops.dropFirst().map(\.probabilities))
        #expect(second.crops.last?.probabilities != first.crops.last?.probabilities)
        // The window's verdict is the mean of its crops.
        for c in second.probabilities.indices {
            let mean = second.crops.map { $0.probabilities[c] }.reduce(0, +) / Float(second.crops.count)
            #expect(abs(second.probabilities[c] - mean) < 1e-6)
        }
        // Two windows dropped: the two crops no window scored are scored from this one.
        _ = try stream.classify(streamWindow: window(endingAt: n + 3 * hop), endingAt: n + 3 * hop, start: 1.5)
        #expect(stream.cropPasses == 9 * members)

        // A crop scored afresh from a later window is not the shared one (frames fall 0.6 apart a hop),
        // so sharing is what made them equal above.
        let fresh = try Classifier(model: model)
        fresh.placeCrops(.stream, hopSamples: hop)
        let alone = try fresh.classify(streamWindow: window(endingAt: n + hop), endingAt: n + hop, start: 0.5)
        #expect(alone.crops[4].probabilities != second.crops[4].probabilities)

        // Placed in the window, a stream window is a window: the card's 8 crops each time.
        let windowed = try Classifier(model: model)
        windowed.placeCrops(.window, hopSamples: hop)
        let live = try windowed.classify(streamWindow: window(endingAt: n + hop), endingAt: n + hop, start: 0.5)
        let plain = try windowed.classify(window: window(endingAt: n + hop), start: 0.5)
        #expect(live.probabilities == plain.probabilities && windowed.cropPasses == 16 * members)
    }

    @Test func liveCropsTakeTheViewOfTheirPlaceOnTheStream() throws {
        let plainModel = try ModelEnsemble.load(cardPath: TestPaths.shippedModelCard)
        let viewedModel = try ModelEnsemble.load(cardPath: try shippedCard(views: [["shift": 0, "rate": 1.0], ["shift": 2, "rate": 1.0]]))
        let rate = plainModel.sampleRate, hop = rate / 2, n = plainModel.windowSamples
        let audio = Self.signal(sampleRate: rate)
        let plain = try Classifier(model: plainModel), viewed = try Classifier(model: viewedModel)
        plain.placeCrops(.stream, hopSamples: hop)
        viewed.placeCrops(.stream, hopSamples: hop)
        for end in [n, n + hop] {
            let window = Array(audio[(end - n)..<end])
            let a = try plain.classify(streamWindow: window, endingAt: end, start: 0)
            let b = try viewed.classify(streamWindow: window, endingAt: end, start: 0)
            #expect(a.crops.count == 6 && b.crops.count == 6)
            // Crop i (earliest first) ends at end − (5 − i) hops: an even multiple of the hop is plain.
            for i in 0..<6 {
                let place = end / hop - (5 - i)
                #expect((a.crops[i].probabilities == b.crops[i].probabilities) == (place % 2 == 0), "crop \(i), place \(place)")
            }
        }
    }
}
