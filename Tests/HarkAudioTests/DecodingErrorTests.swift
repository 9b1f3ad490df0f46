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

    /// Found by fuzzing: a WAV whose data chunk announces 2 GB (1,600 bytes follow) once made the
    /// decoder reserve 4 GB before reading a frame.
    @Test func aLyingDataChunkReservesNothingAndIsTruncated() throws {
        var wav = WAVWriter.data(WAVWriter.tone(frequency: 440, seconds: 0.1, rate: 8000), channels: 1, rate: 8000)
        wav.replaceSubrange(40..<44, with: [0xf0, 0xff, 0xff, 0x7f])
        let url = dir.appendingPathComponent("liar.wav")
        try wav.write(to: url)
        let reader = try AudioFileReader(path: url.path)
        #expect(reader.declaredFrames > 1_000_000_000)
        #expect(!reader.headerLengthIsPlausible)
        #expect(AudioFileDecoder.reservation(reader, limitSeconds: 3600) == 0)
        #expect(throws: AudioDecodingError.self) { try AudioFileDecoder.decode(path: url.path) }
    }

    /// Every input the fuzzers ever crashed or exhausted (Fuzz/regressions/decode) decodes or fails
    /// with a typed error, reserving no more than the decoder's cap.
    @Test func everyFuzzRegressionDecodesOrFailsCleanly() throws {
        let folder = TestPaths.root.appendingPathComponent("Fuzz/regressions/decode")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!inputs.isEmpty)
        for name in inputs {
            let path = folder.appendingPathComponent(name).path
            if let reader = try? AudioFileReader(path: path) {
                #expect(AudioFileDecoder.reservation(reader, limitSeconds: 60) * reader.channels <= 1 << 24, "\(name)")
            }
            do {
                let audio = try AudioFileDecoder.decode(path: path, limitSeconds: 60)
                #expect(audio.samples.allSatisfy { $0.isFinite }, "\(name)")
            } catch {
                #expect(!error.description.isEmpty, "\(name)")
            }
        }
    }

    @Test func blocksNeverPassTheLimitWhateverTheChannels() throws {
        // 8 channels at 192 kHz for 0.5 s against a 0.25-s limit: refused, and no block holds more
        // than the decoder's block size.
        let frames = 96_000
        let interleaved = (0..<(frames * 8)).map { Float(($0 % 97)) / 200 }
        let url = try WAVWriter.write(interleaved, channels: 8, rate: 192_000, to: dir.appendingPathComponent("wide.wav"))
        let reader = try AudioFileReader(path: url.path)
        var largest = 0
        var total = 0
        try AudioFileDecoder.forEachBlock(of: reader, limitSeconds: 1) { block in
            largest = max(largest, block.count)
            total += block.count
        }
        #expect(total == frames * 8)
        #expect(largest <= 1 << 18)
        #expect(throws: AudioDecodingError.tooLong(path: url.path, seconds: 0.5, limitSeconds: 0.25)) {
            try AudioFileDecoder.decode(path: url.path, limitSeconds: 0.25)
        }
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
