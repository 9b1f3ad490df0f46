import Foundation
import HarkAudio
import HarkFeatures
import Testing
import TestSupport

/// The Swift log-mel against torchaudio's on the parity fixtures: max |Δ| ≤ 0.01 dB.
@Suite struct LogMelParityTests {
    struct FrontEndFile: Decodable { var frontend: LogMelParameters }

    static let fixtureNames = ParityFixture.modelNames + ["seed-resnet-random"]

    @Test(arguments: fixtureNames)
    func filterBankMatchesTorchaudio(name: String) throws {
        let params = try JSONDecoder().decode(FrontEndFile.self, from: try ParityFixture.json(name)).frontend
        let reference = try #require(try FixtureTensors.load(name)["mel_fb"])
        #expect(reference.shape == [params.frequencyBins, params.nMels])
        let dense = MelFilterBank(params).dense()
        let scale = reference.values.map(abs).max() ?? 1
        #expect(maxAbsDifference(dense, reference.values) <= 1e-4 * scale)
    }

    @Test(arguments: fixtureNames)
    func logMelMatchesTorchaudio(name: String) throws {
        let fixture = try ParityFixture.load(name)
        let params = try JSONDecoder().decode(FrontEndFile.self, from: try ParityFixture.json(name)).frontend
        let tensors = try FixtureTensors.load(name)
        let logMel = try LogMelSpectrogram(parameters: params)
        for (i, clip) in fixture.clips.enumerated() {
            let audio = try AudioFileDecoder.decode(path: TestPaths.esc50Clip(clip.file))
            var mono = try Resampler.resample(audio.mono(), from: Double(audio.sampleRate), to: Double(params.sampleRate))
            mono = Array(mono.prefix(params.windowSamples)) + [Float](repeating: 0, count: max(0, params.windowSamples - mono.count))
            let mel = try logMel.compute(mono)
            let reference = try #require(tensors["clip\(i).logmel"])
            #expect(reference.shape == [params.nMels, params.frames])
            let worst = maxAbsDifference(mel, reference.values)
            #expect(worst <= 0.01, "\(name) \(clip.file): max |Δ| = \(worst) dB")
        }
    }

    @Test func invalidParametersAreRejected() {
        var p = LogMelParameters(sampleRate: 16000, nFFT: 512, hopLength: 160, nMels: 64)
        p.fMax = 9000
        #expect(throws: FeatureError.self) { try LogMelSpectrogram(parameters: p) }
        #expect(throws: FeatureError.self) {
            try LogMelSpectrogram(parameters: LogMelParameters(sampleRate: 16000, nFFT: 511, hopLength: 160, nMels: 64))
        }
    }

    @Test func silenceGivesTheFloorEverywhere() throws {
        let p = LogMelParameters(sampleRate: 16000, nFFT: 512, hopLength: 160, nMels: 40, windowSeconds: 1)
        let mel = try LogMelSpectrogram(parameters: p).compute([Float](repeating: 0, count: p.windowSamples))
        #expect(mel.count == 40 * p.frames)
        #expect(mel.allSatisfy { $0 == -100 })
    }

    @Test func toneLightsUpItsMelBand() throws {
        let p = LogMelParameters(sampleRate: 16000, nFFT: 512, hopLength: 160, nMels: 40, windowSeconds: 1)
        let tone = WAVWriter.tone(frequency: 1000, seconds: 1, rate: 16000)
        let mel = try LogMelSpectrogram(parameters: p).compute(tone)
        let frames = p.frames
        let mid = frames / 2
        let column = (0..<40).map { mel[$0 * frames + mid] }
        let loudest = column.indices.max { column[$0] < column[$1] } ?? -1
        // The filter whose centre is nearest 1 kHz on the HTK scale.
        let filters = MelFilterBank(p).filters
        let bin1k = Int((1000.0 / 8000.0 * 256).rounded())
        let expected = filters.indices.max { a, b in
            weight(filters[a], bin1k) < weight(filters[b], bin1k)
        } ?? -2
        #expect(loudest == expected)
    }

    private func weight(_ f: MelFilterBank.Filter, _ bin: Int) -> Float {
        let i = bin - f.firstBin
        return i >= 0 && i < f.weights.count ? f.weights[i] : 0
    }
}
