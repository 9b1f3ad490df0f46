/// The front-end's parameters, as the model card's `frontend` object states them. They mirror
/// torchaudio's `MelSpectrogram` + `AmplitudeToDB` arguments so the two sides compute the same thing.
public struct LogMelParameters: Codable, Sendable, Equatable {
    public enum MelScale: String, Codable, Sendable { case htk, slaney }
    public enum MelNorm: String, Codable, Sendable { case slaney }

    public var sampleRate: Int
    public var nFFT: Int
    public var winLength: Int
    public var hopLength: Int
    public var nMels: Int
    public var fMin: Double
    public var fMax: Double
    public var melScale: MelScale
    /// nil: triangles peak at 1 (torchaudio's default); slaney: area-normalised.
    public var melNorm: MelNorm?
    /// 2 for power, 1 for magnitude.
    public var power: Double
    /// Values more than this below the window's peak are raised to it; nil disables.
    public var topDB: Double?
    /// Length of the analysis window the model sees, in seconds.
    public var windowSeconds: Double

    public init(sampleRate: Int, nFFT: Int, winLength: Int? = nil, hopLength: Int, nMels: Int,
                fMin: Double = 0, fMax: Double? = nil, melScale: MelScale = .htk, melNorm: MelNorm? = nil,
                power: Double = 2, topDB: Double? = 80, windowSeconds: Double = 5) {
        self.sampleRate = sampleRate
        self.nFFT = nFFT
        self.winLength = winLength ?? nFFT
        self.hopLength = hopLength
        self.nMels = nMels
        self.fMin = fMin
        self.fMax = fMax ?? Double(sampleRate / 2)
        self.melScale = melScale
        self.melNorm = melNorm
        self.power = power
        self.topDB = topDB
        self.windowSeconds = windowSeconds
    }

    enum CodingKeys: String, CodingKey {
        case sampleRate = "sample_rate", nFFT = "n_fft", winLength = "win_length", hopLength = "hop_length"
        case nMels = "n_mels", fMin = "f_min", fMax = "f_max", melScale = "mel_scale", melNorm = "mel_norm"
        case power, topDB = "top_db", windowSeconds = "window_seconds"
    }

    /// Samples in one analysis window at `sampleRate`.
    public var windowSamples: Int { Int((windowSeconds * Double(sampleRate)).rounded()) }
    /// Frames of a window with centred framing: 1 + samples / hop.
    public var frames: Int { frameCount(samples: windowSamples) }
    public var frequencyBins: Int { nFFT / 2 + 1 }

    public func frameCount(samples: Int) -> Int { 1 + samples / hopLength }

    /// Checks the combination before anything is allocated from it.
    public func validate() throws(FeatureError) {
        guard sampleRate > 0, nFFT >= 2, nFFT % 2 == 0 else {
            throw .invalidParameters("sample_rate must be > 0 and n_fft even (got \(sampleRate), \(nFFT))")
        }
        guard winLength > 0, winLength <= nFFT, hopLength > 0 else {
            throw .invalidParameters("need 0 < win_length ≤ n_fft and hop_length > 0")
        }
        guard nMels > 0, fMin >= 0, fMax > fMin, fMax <= Double(sampleRate) / 2 + 1e-6 else {
            throw .invalidParameters("need n_mels > 0 and 0 ≤ f_min < f_max ≤ sample_rate/2")
        }
        guard power == 1 || power == 2 else { throw .invalidParameters("power must be 1 or 2") }
        guard windowSeconds > 0, windowSamples > nFFT / 2 else {
            throw .invalidParameters("window_seconds too short for n_fft \(nFFT)")
        }
    }
}

public enum FeatureError: Error, Equatable, CustomStringConvertible {
    case invalidParameters(String)
    case wrongLength(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .invalidParameters(let why): return "invalid front-end parameters: \(why)"
        case .wrongLength(let e, let g): return "log-mel expects \(e) samples, got \(g)"
        }
    }
}
