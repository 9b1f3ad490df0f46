import CKissFFT
import Foundation

/// Log-mel spectrogram of one window, equal to torchaudio's
/// `AmplitudeToDB(stype="power", top_db)(MelSpectrogram(center=True, pad_mode="reflect")(x))`:
/// periodic Hann window, reflect padding of n_fft/2 on both sides, |STFT|^power, mel filters,
/// 10·log10(max(x, 1e-10)), then values below (window peak − top_db) raised to it.
///
/// Owns its FFT plan and scratch buffers, reused for every window; not thread-safe (one per task).
public final class LogMelSpectrogram {
    public let parameters: LogMelParameters
    public let filterBank: MelFilterBank

    private let fft: kiss_fftr_cfg
    private let window: [Float]          // n_fft long, the Hann window centred and zero-padded
    private var padded: [Float] = []     // the reflect-padded signal
    private var frame: [Float]
    private var spectrum: [kiss_fft_cpx]
    private var power: [Float]

    /// The dB floor: torchaudio's amin.
    static let amin: Float = 1e-10

    public init(parameters: LogMelParameters) throws(FeatureError) {
        try parameters.validate()
        self.parameters = parameters
        filterBank = MelFilterBank(parameters)
        guard let cfg = kiss_fftr_alloc(Int32(parameters.nFFT), 0, nil, nil) else {
            throw .invalidParameters("KissFFT cannot plan a real FFT of size \(parameters.nFFT)")
        }
        fft = cfg
        window = Self.hannWindow(length: parameters.winLength, nFFT: parameters.nFFT)
        frame = [Float](repeating: 0, count: parameters.nFFT)
        spectrum = [kiss_fft_cpx](repeating: kiss_fft_cpx(), count: parameters.frequencyBins)
        power = [Float](repeating: 0, count: parameters.frequencyBins)
    }

    deinit { free(UnsafeMutableRawPointer(fft)) }

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
                p.baseAddress!.advanced(by: half).update(from: s.baseAddress!, count: n)
            }
        }
    }
}
