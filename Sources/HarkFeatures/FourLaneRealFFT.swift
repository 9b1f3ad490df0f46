import Foundation

typealias F4 = SIMD4<Float>

/// Real FFT of a power-of-two length n for four signals at once, one per SIMD lane: every lane
/// runs the same butterflies, so the FFT vectorises without shuffles (the log-mel front-end feeds
/// it four consecutive frames). The n real samples are packed as n/2 complex values
/// z[j] = x[2j] + i·x[2j+1], transformed by an iterative radix-2 decimation-in-time FFT whose
/// input is written in bit-reversed order by the caller, then split into the n/2 + 1 bins of the
/// real spectrum. Twiddles are computed in Double once, at planning.
final class FourLaneRealFFT {
    let n: Int
    /// Complex FFT size, n/2.
    let half: Int
    /// Position of z[j] in the transform's input: bit-reversed j.
    let bitReversed: [Int]
    /// Stage twiddles e^{−2πik/(2m)}, k < m, for m = 4, 8, …, half/2, concatenated at offset m − 4.
    private let twiddleRe: UnsafeMutablePointer<Float>
    private let twiddleIm: UnsafeMutablePointer<Float>
    /// cos and sin of 2πk/n for k ≤ half/2: the real-spectrum split.
    private let splitCos: UnsafeMutablePointer<Float>
    private let splitSin: UnsafeMutablePointer<Float>
    /// The complex working arrays (half each), split into real and imaginary parts.
    let re: UnsafeMutablePointer<F4>
    let im: UnsafeMutablePointer<F4>

    static func supports(_ n: Int) -> Bool { n >= 16 && n & (n - 1) == 0 }

    /// `n` must satisfy `supports`.
    init(n: Int) {
        self.n = n
        half = n / 2
        let bits = half.trailingZeroBitCount
        bitReversed = (0..<half).map { j in
            var r = 0
            for b in 0..<bits where j & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
        let stageCount = max(half - 4, 1)  // Σ m for m = 4, 8, …, half/2
        twiddleRe = .allocate(capacity: stageCount)
        twiddleIm = .allocate(capacity: stageCount)
        twiddleRe.initialize(repeating: 0, count: stageCount)
        twiddleIm.initialize(repeating: 0, count: stageCount)
        var m = 4
        while m < half {
            for k in 0..<m {
                let angle = -2 * Double.pi * Double(k) / Double(2 * m)
                twiddleRe[m - 4 + k] = Float(cos(angle))
                twiddleIm[m - 4 + k] = Float(sin(angle))
            }
            m *= 2
        }
        splitCos = .allocate(capacity: half / 2 + 1)
        splitSin = .allocate(capacity: half / 2 + 1)
        for k in 0...(half / 2) {
            splitCos[k] = Float(cos(2 * Double.pi * Double(k) / Double(n)))
            splitSin[k] = Float(sin(2 * Double.pi * Double(k) / Double(n)))
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 2 * half * MemoryLayout<F4>.stride, alignment: 64)
        re = raw.bindMemory(to: F4.self, capacity: 2 * half)
        re.initialize(repeating: .zero, count: 2 * half)
        im = re + half
    }

    deinit {
        twiddleRe.deallocate()
        twiddleIm.deallocate()
        splitCos.deallocate()
        splitSin.deallocate()
        UnsafeMutableRawPointer(re).deallocate()
    }

    /// In-place complex FFT of `re`/`im`, which hold z in bit-reversed order.
    func transform() {
        let h = half
        // Stages of span 2 and 4 together: twiddles 1 and −i only.
        var g = 0
        while g < h {
            let a0r = re[g] + re[g + 1], a0i = im[g] + im[g + 1]
            let a1r = re[g] - re[g + 1], a1i = im[g] - im[g + 1]
            let b0r = re[g + 2] + re[g + 3], b0i = im[g + 2] + im[g + 3]
            let b1r = re[g + 2] - re[g + 3], b1i = im[g + 2] - im[g + 3]
            re[g] = a0r + b0r; im[g] = a0i + b0i
            re[g + 2] = a0r - b0r; im[g + 2] = a0i - b0i
            // (b1r + i·b1i)·(−i) = b1i − i·b1r
            re[g + 1] = a1r + b1i; im[g + 1] = a1i - b1r
            re[g + 3] = a1r - b1i; im[g + 3] = a1i + b1r
            g += 4
        }
        var m = 4
        while m < h {
            let wr = twiddleRe + (m - 4), wi = twiddleIm + (m - 4)
            var g = 0
            while g < h {
                let ar = re + g, ai = im + g, br = re + g + m, bi = im + g + m
                for k in 0..<m {
                    let c = F4(repeating: wr[k]), s = F4(repeating: wi[k])
                    let xr = br[k], xi = bi[k]
                    let tr = xr * c - xi * s, ti = xr * s + xi * c
                    let yr = ar[k], yi = ai[k]
                    ar[k] = yr + tr; ai[k] = yi + ti
                    br[k] = yr - tr; bi[k] = yi - ti
                }
                g += 2 * m
            }
            m *= 2
        }
    }

    /// |X[k]|² (or |X[k]| when `power` is false) of the real signal, k = 0…half, from the
    /// transformed z: X[k] = E[k] + e^{−2πik/n}·O[k] with E, O the even/odd-sample spectra.
    func spectrum(into out: UnsafeMutablePointer<F4>, power: Bool) {
        let h = half
        let halfV = F4(repeating: 0.5)
        @inline(__always) func finish(_ xr: F4, _ xi: F4) -> F4 {
            let p = xr * xr + xi * xi
            return power ? p : p.squareRoot()
        }
        out[0] = finish(re[0] + im[0], .zero)
        out[h] = finish(re[0] - im[0], .zero)
        // Bins k and h − k share Z[k] and Z[h − k]: compute both from one pair of loads.
        for k in 1...(h / 2) {
            let ar = re[k], ai = im[k], br = re[h - k], bi = im[h - k]
            let er = (ar + br) * halfV, ei = (ai - bi) * halfV     // E[k]
            let orr = (ai + bi) * halfV, oi = (br - ar) * halfV    // O[k]
            let c = F4(repeating: splitCos[k]), s = F4(repeating: splitSin[k])
            // e^{−iθ}·O = (c·Or + s·Oi) + i(c·Oi − s·Or)
            out[k] = finish(er + c * orr + s * oi, ei + c * oi - s * orr)
            // X[h − k] = conj(E[k]) − e^{iθ}·conj(O[k])... written out: E' = conj(E), O' = −conj(O), θ' = π − θ.
            out[h - k] = finish(er - c * orr - s * oi, -ei + c * oi - s * orr)
        }
    }
}
