import HarkStream
import Testing

@Suite struct RingBufferTests {
    @Test func copiesByAbsolutePositionAcrossTheWrap() {
        let ring = RingBuffer(capacity: 10)
        ring.write((0..<7).map(Float.init))
        ring.write((7..<16).map(Float.init))
        #expect(ring.position == 16)
        #expect(ring.oldestAvailable == 6)
        #expect(ring.copy(from: 6, to: 16) == (6..<16).map(Float.init))
        #expect(ring.copy(from: 9, to: 12) == [9, 10, 11])
    }

    @Test func overwrittenOrFutureRangesAreRefused() {
        let ring = RingBuffer(capacity: 4)
        ring.write([1, 2, 3, 4, 5, 6])
        #expect(ring.copy(from: 1, to: 3) == nil)   // overwritten
        #expect(ring.copy(from: 4, to: 7) == nil)   // not written yet
        #expect(ring.copy(from: 2, to: 6) == [3, 4, 5, 6])
    }

    @Test func anOversizedBlockKeepsItsNewestSamples() {
        let ring = RingBuffer(capacity: 3)
        ring.write([1, 2, 3, 4, 5])
        #expect(ring.position == 5)
        #expect(ring.copy(from: 2, to: 5) == [3, 4, 5])
    }
}

@Suite struct WindowSchedulerTests {
    @Test func windowsEndEveryHopOnceTheFirstIsFull() {
        var s = WindowScheduler(windowSamples: 50, hopSamples: 10)
        #expect(s.due(upTo: 49).isEmpty)
        #expect(s.due(upTo: 50) == [50])
        #expect(s.due(upTo: 79) == [60, 70])
        #expect(s.due(upTo: 79).isEmpty)
        #expect(s.due(upTo: 80) == [80])
    }
}

@Suite struct EnergyGateTests {
    @Test func fullScaleSineIsMinusThreeDBFS() {
        let sine = (0..<48000).map { Float(sin(2 * Double.pi * 1000 * Double($0) / 48000)) }
        #expect(abs(EnergyGate.rmsDBFS(sine) + 3.0103) < 0.01)
        #expect(EnergyGate.rmsDBFS([Float](repeating: 0, count: 10)) == -.infinity)
    }
}

import Foundation
