import Foundation
import HarkAudio
import Testing
import TestSupport

/// The Swift decoder and resampler against the reference path's checksums (Training/export.py).
@Suite struct DecodingParityTests {
    let fixture: ParityFixture

    init() throws { fixture = try ParityFixture.load(ParityFixture.shippedModelName) }

    @Test func decodedSamplesMatchTheReference() throws {
        for clip in fixture.clips {
            let audio = try AudioFileDecoder.decode(path: TestPaths.esc50Clip(clip.file))
            #expect(audio.sampleRate == clip.decoded.rate)
            #expect(audio.channels == clip.decoded.channels)
            #expect(audio.samples.count == clip.decoded.count)
            let sum = audio.samples.reduce(0.0) { $0 + Double($1) }
            let squares = audio.samples.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(sum - clip.decoded.sum) < 1e-3, "\(clip.file): sum \(sum) vs \(clip.decoded.sum)")
            #expect(abs(squares - clip.decoded.sumSquares) / clip.decoded.sumSquares < 1e-5)
            for (i, v) in clip.decoded.head.enumerated() { #expect(abs(Double(audio.samples[i]) - v) < 1e-6) }
        }
    }

    @Test func resampledSamplesMatchTheReference() throws {
        for clip in fixture.clips {
            let audio = try AudioFileDecoder.decode(path: TestPaths.esc50Clip(clip.file))
            let target = fixture.frontend.sampleRate
            let out = try Resampler.resample(audio.mono(), from: Double(audio.sampleRate), to: Double(target))
            #expect(out.count == clip.resampled.count, "\(clip.file): \(out.count) samples vs \(clip.resampled.count)")
            let squares = out.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(squares - clip.resampled.sumSquares) / clip.resampled.sumSquares < 1e-5)
            for (i, v) in clip.resampled.head.enumerated() { #expect(abs(Double(out[i]) - v) < 1e-5) }
        }
    }
}
