// The wall-clock check for audio lost upstream, on hand-made block arrival times.
@testable import HarkStream
import Testing

@Suite struct UpstreamLossDetectorTests {
    /// Feeds 0.1-s blocks of 48 kHz audio; `arrival(i)` is block i's arrival in seconds. Returns every loss reported.
    func losses(blocks: Int, arrival: (Int) -> Double) -> [Double] {
        var detector = UpstreamLossDetector()
        return (0..<blocks).compactMap { detector.received(frames: 4800, rate: 48000, now: UInt64(arrival($0) * 1e9)) }
    }

    @Test func jitterAndBurstsAreNoLoss() {
        // Blocks in bursts of ten every second, each up to 0.4 s late, for an hour.
        let found = losses(blocks: 36_000) { i in Double(i / 10) + 0.1 * Double(i % 10) / 10 + 0.4 * Double((i * 7919) % 13) / 13 }
        #expect(found.isEmpty)
    }

    @Test func aSoundCardClockDriftIsNoLoss() {
        // 200 ppm slow (0.7 s an hour) for a day.
        let found = losses(blocks: 864_000) { i in Double(i) * 0.1 * 1.0002 }
        #expect(found.isEmpty)
    }

    @Test func aStallPastTheServerBufferIsOneLossOfWhatTheServerDropped() {
        // 100 s steady; the reader stops for 60 s while the server keeps the last 43 s; the
        // buffered 43 s arrive in a burst (1 ms a block); steady again for 100 s.
        let found = losses(blocks: 1000 + 430 + 1000) { i in
            if i < 1000 { return Double(i) * 0.1 }
            if i < 1430 { return 160 + Double(i - 1000) * 0.001 }
            return 160.43 + Double(i - 1429) * 0.1
        }
        #expect(found.count == 1)
        #expect(abs((found.first ?? 0) - 17) < 0.6, "\(found)")
    }

    @Test func aFileReadFasterThanRealTimeIsNoLoss() {
        let found = losses(blocks: 10_000) { i in Double(i) * 0.001 }
        #expect(found.isEmpty)
    }
}
