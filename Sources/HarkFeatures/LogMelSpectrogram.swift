import CKissFFT
import Foundation

/// Log-mel spectrogram of one window, equal to torchaudio's
/// `AmplitudeToDB(stype="power", top_db)(MelSpectrogram(center=True, pad_mode="reflect")(x))`:
/// periodic Hann window, reflect padding of n_fft/2 on both sides, |STFT|^power, mel filters,
/// 10·log10(max(x, 1e-10)), then values below (window peak − top_db) raised to it.
///
/// Power-of-two n_fft runs the project's own FFT on four frames at a time (`FourLaneRealFFT`,
/// with mel filtering and the logarithm vectorised the same way); other sizes use KissFFT.
///
/// Owns its FFT plan and scratch buffers, reused for every window; not thread-safe (one per task).
public final class LogMelSpectrogram {
    public let parameters: LogMelParameters
    public let filterBank: MelFilterBank

    private let fft: kiss_fftr_cfg
    private let fourLane: FourLaneRealFFT?
    private let fourLanePower: UnsafeMutablePointer<F4>?
    private let window: [Float]          // n_fft long, the Hann window centred and zero-padded
    private var padded: [Float] = []     // the reflect-padded signal
    private var frame: [Float]
    private var spectrum: [kiss_fft_cpx]
    private var power: [Float]

    /// The dB floor: torchaudio's amin.
    static let amin: Float = 1e-10

    public convenience init(parameters: LogMelParameters) throws(FeatureError) {
        try self.init(parameters: parameters, forceKissFFT: false)
    }

    /// `forceKissFFT`: take the KissFFT path even for power-of-two sizes (tests compare the two).
    init(parameters: LogMelParameters, forceKissFFT: Bool) throws(FeatureError) {
        try parameters.validate()
        self.parameters = parameters
        filterBank = MelFilterBank(parameters)
        guard let cfg = kiss_fftr_alloc(Int32(parameters.nFFT), 0, nil, nil) else {
            throw .invalidParameters("KissFFT cannot plan a real FFT of size \(parameters.nFFT)")
        }
        fft = cfg
        if !forceKissFFT, FourLaneRealFFT.supports(parameters.nFFT) {
            fourLane = FourLaneRealFFT(n: parameters.nFFT)
            let p = UnsafeMutablePointer<F4>.allocate(capacity: parameters.frequencyBins)
            p.initialize(repeating: .zero, count: parameters.frequencyBins)
            fourLanePower = p
        } else {
            fourLane = nil
            fourLanePower = nil
        }
        window = Self.hannWindow(length: parameters.winLength, nFFT: parameters.nFFT)
        frame = [Float](repeating: 0, count: parameters.nFFT)
        spectrum = [kiss_fft_cpx](repeating: kiss_fft_cpx(), count: parameters.frequencyBins)
        power = [Float](repeating: 0, count: parameters.frequencyBins)
    }

    /// Whether this instance runs the project's own FFT (power-of-two n_fft) rather than KissFFT.
    public var usesOwnFFT: Bool { fourLane != nil }

    deinit {
        free(UnsafeMutableRawPointer(fft))
        fourLanePower?.deallocate()
    }

    /// Periodic Hann of `length`, centred in `nFFT` with zeros around it (torch.stft's padding).
    static func hannWindow(length: Int, nFFT: Int) -> [Float] {
        var w = [Float](repeating: 0, count: nFFT)
        let offset = (nFFT - length) / 2
        for n in 0..<length {
            w[offset + n] = Float(0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(length)))
        }
        return w
    }

    /// Number of frames for `samples` samples.
    public func frameCount(samples: Int) -> Int { parameters.frameCount(samples: samples) }

    /// [n_mels × frames] row-major dB values for any signal longer than n_fft/2 samples.
    public func compute(_ signal: [Float]) throws(FeatureError) -> [Float] {
        let frames = frameCount(samples: signal.count)
        var out = [Float](repeating: 0, count: parameters.nMels * frames)
        try compute(signal, into: &out)
        return out
    }

    /// Writes [n_mels × frames] dB values into `out` (resized if needed) without other allocations.
    public func compute(_ signal: [Float], into out: inout [Float]) throws(FeatureError) {
        let half = parameters.nFFT / 2
        guard signal.count > half else { throw .wrongLength(expected: half + 1, got: signal.count) }
        let frames = frameCount(samples: signal.count)
        let nMels = parameters.nMels
        if out.count != nMels * frames { out = [Float](repeating: 0, count: nMels * frames) }
        reflectPad(signal, half: half)
        if let fourLane, let fourLanePower {
            computeFourLanes(fourLane, power: fourLanePower, frames: frames, into: &out)
            return
        }

        let nFFT = parameters.nFFT, hop = parameters.hopLength, bins = parameters.frequencyBins
        let usePower = parameters.power == 2
        var peak = -Float.infinity
        padded.withUnsafeBufferPointer { x in
        window.withUnsafeBufferPointer { win in
        frame.withUnsafeMutableBufferPointer { fr in
        spectrum.withUnsafeMutableBufferPointer { spec in
        power.withUnsafeMutableBufferPointer { pw in
        out.withUnsafeMutableBufferPointer { o in
            for t in 0..<frames {
                let start = t * hop
                for n in 0..<nFFT { fr[n] = x[start + n] * win[n] }
                kiss_fftr(fft, fr.baseAddress, spec.baseAddress)
                for k in 0..<bins {
                    let re = spec[k].r, im = spec[k].i
                    let p = re * re + im * im
                    pw[k] = usePower ? p : p.squareRoot()
                }
                for (m, filter) in filterBank.filters.enumerated() {
                    var acc: Float = 0
                    filter.weights.withUnsafeBufferPointer { w in
                        for i in 0..<w.count { acc += w[i] * pw[filter.firstBin + i] }
                    }
                    let db = 10 * log10f(max(acc, Self.amin))
                    o[m * frames + t] = db
                    peak = max(peak, db)
                }
            }
            if let topDB = parameters.topDB {
                let floor = peak - Float(topDB)
                for i in 0..<o.count where o[i] < floor { o[i] = floor }
            }
        }}}}}}
    }

    /// The vectorised path: frames t…t+3 in the four SIMD lanes through FFT, power, mel and dB.
    private func computeFourLanes(_ fft: FourLaneRealFFT, power pw: UnsafeMutablePointer<F4>, frames: Int,
                                  into out: inout [Float]) {
        let h = fft.half, hop = parameters.hopLength
        let usePower = parameters.power == 2
        let amin = F4(repeating: Self.amin)
        let dbPerLn = F4(repeating: Float(10 / log(10.0)))
        let floorDB = F4(repeating: 10 * log10f(Self.amin))
        var peak = F4(repeating: -.infinity)
        padded.withUnsafeBufferPointer { xb in
        window.withUnsafeBufferPointer { wb in
        out.withUnsafeMutableBufferPointer { ob in
            guard let x = xb.baseAddress, let win = wb.baseAddress, let o = ob.baseAddress else { return }
            fft.bitReversed.withUnsafeBufferPointer { rev in
                var t = 0
                while t < frames {
                    let lanes = min(4, frames - t)
                    // Lanes past the last frame repeat it; their results are not stored.
                    let s0 = x + t * hop, s1 = x + (t + min(1, lanes - 1)) * hop
                    let s2 = x + (t + min(2, lanes - 1)) * hop, s3 = x + (t + min(3, lanes - 1)) * hop
                    for j in 0..<h {
                        let n = 2 * j, r = rev[j]
                        fft.re[r] = F4(s0[n], s1[n], s2[n], s3[n]) * win[n]
                        fft.im[r] = F4(s0[n + 1], s1[n + 1], s2[n + 1], s3[n + 1]) * win[n + 1]
                    }
                    fft.transform()
                    fft.spectrum(into: pw, power: usePower)
                    for (m, filter) in filterBank.filters.enumerated() {
                        var acc = F4.zero
                        filter.weights.withUnsafeBufferPointer { w in
                            let p = pw + filter.firstBin
                            for i in 0..<w.count { acc += w[i] * p[i] }
                        }
                        var db = dbPerLn * log4(acc.replacing(with: amin, where: acc .< amin))
                        // At the floor, exactly the scalar path's value (silence is exactly −100 dB).
                        db.replace(with: floorDB, where: acc .<= amin)
                        let dst = o + m * frames + t
                        if lanes == 4 {
                            UnsafeMutableRawPointer(dst).storeBytes(of: db, as: F4.self)
                            peak = peak.replacing(with: db, where: peak .< db)
                        } else {
                            for l in 0..<lanes {
                                dst[l] = db[l]
                                peak[l] = max(peak[l], db[l])
                            }
                        }
                    }
                    t += 4
                }
            }
            if let topDB = parameters.topDB {
                let floor = peak.max() - Float(topDB)
                for i in 0..<ob.count where o[i] < floor { o[i] = floor }
            }
        }}}
    }

    /// torch's reflect padding: x[-i] = x[i], x[n-1+i] = x[n-1-i], without repeating the edge.
    private func reflectPad(_ signal: [Float], half: Int) {
        let n = signal.count
        let total = n + 2 * half
        if padded.count != total { padded = [Float](repeating: 0, count: total) }
        signal.withUnsafeBufferPointer { s in
            padded.withUnsafeMutableBufferPointer { p in
                for i in 0..<half {
                    p[half - 1 - i] = s[min(i + 1, n - 1)]
                    p[half + n + i] = s[max(n - 2 - i, 0)]
                }
                if let dst = p.baseAddress, let src = s.baseAddress { (dst + half).update(from: src, count: n) }
            }
        }
    }
}
