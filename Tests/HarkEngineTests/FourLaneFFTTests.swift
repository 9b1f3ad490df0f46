import Foundation
@testable import HarkFeatures
import Testing
import TestSupport

/// The front-end's own FFT and logarithm against their definitions (a Double DFT, Foundation's log),
/// and its two log-mel paths (own FFT, KissFFT) against each other.
@Suite struct FourLaneFFTTests {
    @Test(arguments: [16, 64, 256, 1024, 2048])
    func spectrumMatchesDirectDFT(n: Int) {
        let fft = FourLaneRealFFT(n: n)
        var state: UInt64 = UInt64(n)
        let signals: [[Double]] = (0..<4).map { lane in
            (0..<n).map { i in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Double(Int64(bitPattern: state) >> 40) / Double(1 << 23) + (lane == 2 ? 0.5 : 0)  // one lane with DC
            }
        }
        for j in 0..<(n / 2) {
            let r = fft.bitReversed[j]
            fft.re[r] = SIMD4<Float>((0..<4).map { Float(signals[$0][2 * j]) })
            fft.im[r] = SIMD4<Float>((0..<4).map { Float(signals[$0][2 * j + 1]) })
        }
        fft.transform()
        var power = [SIMD4<Float>](repeating: .zero, count: n / 2 + 1)
        power.withUnsafeMutableBufferPointer { fft.spectrum(into: $0.baseAddress!, power: true) }
        for lane in 0..<4 {
            var expected = [Double](repeating: 0, count: n / 2 + 1)
            for k in 0...(n / 2) {
                var re = 0.0, im = 0.0
                for t in 0..<n {
                    let a = -2 * Double.pi * Double(k * t % n) / Double(n)
                    re += signals[lane][t] * cos(a)
                    im += signals[lane][t] * sin(a)
                }
                expected[k] = re * re + im * im
            }
            let scale = expected.max() ?? 1
            let worst = (0...(n / 2)).map { abs(Double(power[$0][lane]) - expected[$0]) }.max() ?? 0
            #expect(worst <= 1e-5 * scale, "n \(n) lane \(lane): |Δ| = \(worst) of \(scale)")
        }
    }

    @Test func vectorLogMatchesFoundation() {
        var worst: Float = 0
        var x: Float = 1e-10
        while x < 1e12 {
            let v = SIMD4<Float>(x, x * 1.37, x * 2.71, x * 5.9)
            let got = log4(v)
            for l in 0..<4 { worst = max(worst, abs(got[l] - Float(Foundation.log(Double(v[l]))))) }
            x *= 1.113
        }
        #expect(worst <= 4e-6)
    }

    /// Own FFT path vs the KissFFT path on the same signal, at a size that both take (n_fft 512) and
    /// with a frame count that leaves a partial group of four.
    @Test func ownFFTPathMatchesKissFFTPath() throws {
        var p = LogMelParameters(sampleRate: 16000, nFFT: 512, hopLength: 160, nMels: 40, windowSeconds: 1.01)
        p.topDB = 80
        let own = try LogMelSpectrogram(parameters: p)
        #expect(own.usesOwnFFT)
        let signal = WAVWriter.tone(frequency: 440, seconds: 1.01, rate: 16000).enumerated().map { i, s in
            s + 0.01 * Float(sin(Double(i) * 0.37))
        }
        #expect(own.frameCount(samples: signal.count) % 4 != 0)
        let reference = try LogMelSpectrogram(parameters: p, forceKissFFT: true)
        #expect(!reference.usesOwnFFT)
        let a = try own.compute(signal), b = try reference.compute(signal)
        #expect(maxAbsDifference(a, b) <= 2e-3)
    }
}
