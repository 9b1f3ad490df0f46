import Foundation
import HarkAudio
import Testing
import TestSupport

/// Bad input gets a clear error that names the file, never a crash.
@Suite struct DecodingErrorTests {
    let dir: URL
    init() throws { dir = try TestPaths.temporaryDirectory() }

    @Test func missingFileIsNamed() {
        let path = dir.appendingPathComponent("nope.wav").path
        #expect(throws: AudioDecodingError.fileNotFound(path: path)) { try AudioFileDecoder.decode(path: path) }
    }

    @Test func textFileIsAnUnsupportedFormat() throws {
        let url = dir.appendingPathComponent("notes.wav")
        try Data("this is not audio".utf8).write(to: url)
        do {
            _ = try AudioFileDecoder.decode(path: url.path)
            Issue.record("decoding text should fail")
        } catch {
            guard case .unsupportedFormat(let path, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == url.path)
            #expect(error.description.contains("notes.wav"))
        }
    }

    @Test func directoryIsUnreadable() {
        #expect(throws: AudioDecodingError.unreadable(path: dir.path, reason: "it is a directory")) {
            try AudioFileDecoder.decode(path: dir.path)
        }
    }

    @Test func wavWithoutSamplesIsEmpty() throws {
        let url = try WAVWriter.write([], rate: 16000, to: dir.appendingPathComponent("empty.wav"))
        #expect(throws: AudioDecodingError.empty(path: url.path)) { try AudioFileDecoder.decode(path: url.path) }
    }

    @Test func truncatedOggIsReported() throws {
        let clip = try Data(contentsOf: URL(fileURLWithPath: TestPaths.esc50Clip("1-100032-A-0.ogg")))
        let url = dir.appendingPathComponent("cut.ogg")
        try clip.prefix(clip.count / 2).write(to: url)
        do {
            let audio = try AudioFileDecoder.decode(path: url.path)
            Issue.record("a half OGG decoded to \(audio.frameCount) frames without error")
        } catch {
            guard case .truncated(let path, let expected, let read) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == url.path)
            #expect(read < expected)
        }
    }

    @Test func truncatedWavIsReported() throws {
        let full = WAVWriter.data(WAVWriter.tone(frequency: 440, seconds: 1, rate: 8000), channels: 1, rate: 8000)
        let url = dir.appendingPathComponent("cut.wav")
        try full.prefix(full.count / 2).write(to: url)
        #expect(throws: AudioDecodingError.truncated(path: url.path, expectedFrames: 8000, readFrames: (full.count / 2 - 44) / 2)) {
            try AudioFileDecoder.decode(path: url.path)
        }
    }

    @Test func overlongFileIsRefusedBeforeDecoding() throws {
        let url = try WAVWriter.write(WAVWriter.tone(frequency: 440, seconds: 3, rate: 8000), rate: 8000,
                                      to: dir.appendingPathComponent("long.wav"))
        #expect(throws: AudioDecodingError.tooLong(path: url.path, seconds: 3, limitSeconds: 2)) {
            try AudioFileDecoder.decode(path: url.path, limitSeconds: 2)
        }
    }

    @Test func nonFiniteSamplesBecomeZeroAndAreCounted() throws {
        var samples = WAVWriter.tone(frequency: 440, seconds: 0.1, rate: 8000)
        samples[3] = .nan
        samples[10] = .infinity
        samples[20] = -.infinity
        let url = try WAVWriter.write(samples, rate: 8000, to: dir.appendingPathComponent("nan.wav"), encoding: .float32)
        let audio = try AudioFileDecoder.decode(path: url.path)
        #expect(audio.nonFiniteSamples == 3)
        #expect(audio.samples[3] == 0 && audio.samples[10] == 0 && audio.samples[20] == 0)
        #expect(audio.samples.allSatisfy { $0.isFinite })
        #expect(abs(audio.samples[5] - samples[5]) < 1e-7)
    }

    @Test func stereoMixesDownToTheMean() throws {
        let frames = 100
        var interleaved: [Float] = []
        for i in 0..<frames { interleaved += [Float(i) / 200, -Float(i) / 400] }
        let url = try WAVWriter.write(interleaved, channels: 2, rate: 8000, to: dir.appendingPathComponent("st.wav"),
                                      encoding: .float32)
        let mono = try AudioFileDecoder.decode(path: url.path).mono()
        #expect(mono.count == frames)
        for i in 0..<frames { #expect(abs(mono[i] - Float(i) / 800) < 1e-7) }
    }
}

@Suite struct ResamplerTests {
    @Test func streamingEqualsOneShot() throws {
        let signal = WAVWriter.tone(frequency: 1000, seconds: 1, rate: 48000)
        let whole = try Resampler.resample(signal, from: 48000, to: 22050)
        let streaming = try Resampler(inputRate: 48000, outputRate: 22050)
        var pieces: [Float] = []
        for start in stride(from: 0, to: signal.count, by: 4410) {
            pieces += streaming.process(Array(signal[start..<min(start + 4410, signal.count)]))
        }
        pieces += streaming.flush()
        #expect(pieces.count == whole.count)
        #expect(maxAbsDifference(pieces, whole) < 1e-6)
        #expect(abs(whole.count - 22050) <= 1)
    }

    @Test func toneKeepsItsAmplitude() throws {
        let out = try Resampler.resample(WAVWriter.tone(frequency: 440, seconds: 1, rate: 44100), from: 44100, to: 16000)
        let peak = out[2000..<14000].map(abs).max() ?? 0
        #expect(abs(peak - 0.5) < 0.01)
    }

    @Test func invalidRatesAreRejected() {
        #expect(throws: ResamplerError.self) { try Resampler(inputRate: 0, outputRate: 16000) }
    }
}
