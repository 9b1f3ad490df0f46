import CALSA

/// Negotiates the hardware parameters of a freshly opened capture PCM.
///
/// Hark resamples once itself, so the device's own rate is preferred over plug-layer resampling:
/// the requested rate exactly, else 48000, 44100, or the nearest the device offers.
struct ALSAHardwareSetup {
    var sampleRate: Int?
    var channels: Int?
    var sampleFormat: ALSASampleFormat

    /// A period of about one capture block; a buffer of several, so a busy machine does not overrun.
    static let periodMicroseconds: UInt32 = 100_000
    static let bufferMicroseconds: UInt32 = 1_000_000
    static let preferredRates: [UInt32] = [48_000, 44_100]

    /// Applies the parameters to `pcm` and returns the negotiated format.
    func apply(to pcm: OpaquePointer, source: String) throws(CaptureError) -> CaptureFormat {
        var params: OpaquePointer?
        guard snd_pcm_hw_params_malloc(&params) == 0, let params else {
            throw .openFailed(source: source, reason: "out of memory for hardware parameters")
        }
        defer { snd_pcm_hw_params_free(params) }

        func check(_ code: Int32, _ what: String) throws(CaptureError) {
            if code < 0 { throw .openFailed(source: source, reason: "\(what): \(alsaMessage(code))") }
        }
        try check(snd_pcm_hw_params_any(pcm, params), "no hardware configuration")
        try check(snd_pcm_hw_params_set_access(pcm, params, SND_PCM_ACCESS_RW_INTERLEAVED), "interleaved access unsupported")
        // Only affects `plug` PCMs: expose the hardware's own rates instead of converting.
        _ = snd_pcm_hw_params_set_rate_resample(pcm, params, 0)
        if snd_pcm_hw_params_set_format(pcm, params, sampleFormat.alsaFormat) < 0 {
            throw .invalidConfiguration("\(source) cannot capture \(sampleFormat.rawValue) samples")
        }

        let channelCount = try chooseChannels(pcm, params, source)
        let rate = try chooseRate(pcm, params, source)

        var period = Self.periodMicroseconds, buffer = Self.bufferMicroseconds
        var dir: Int32 = 0
        // Preferences only: a device that cannot do them keeps its own sizes.
        _ = snd_pcm_hw_params_set_period_time_near(pcm, params, &period, &dir)
        _ = snd_pcm_hw_params_set_buffer_time_near(pcm, params, &buffer, &dir)
        try check(snd_pcm_hw_params(pcm, params), "cannot install hardware parameters")
        return CaptureFormat(sampleRate: Int(rate), channels: Int(channelCount))
    }

    private func chooseChannels(_ pcm: OpaquePointer, _ params: OpaquePointer, _ source: String) throws(CaptureError) -> UInt32 {
        if let channels {
            guard channels > 0, let wanted = UInt32(exactly: channels),
                  snd_pcm_hw_params_set_channels(pcm, params, wanted) == 0 else {
                var lo: UInt32 = 0, hi: UInt32 = 0
                _ = snd_pcm_hw_params_get_channels_min(params, &lo)
                _ = snd_pcm_hw_params_get_channels_max(params, &hi)
                throw .invalidConfiguration("\(source) cannot capture \(channels) channels (it offers \(lo)–\(hi))")
            }
            return wanted
        }
        var count: UInt32 = 1
        if snd_pcm_hw_params_test_channels(pcm, params, 1) != 0 {
            _ = snd_pcm_hw_params_get_channels_min(params, &count)
        }
        if snd_pcm_hw_params_set_channels(pcm, params, count) < 0 {
            throw .openFailed(source: source, reason: "cannot set \(count) channels")
        }
        return count
    }

    private func chooseRate(_ pcm: OpaquePointer, _ params: OpaquePointer, _ source: String) throws(CaptureError) -> UInt32 {
        if let sampleRate {
            guard sampleRate > 0, let wanted = UInt32(exactly: sampleRate),
                  snd_pcm_hw_params_set_rate(pcm, params, wanted, 0) == 0 else {
                var lo: UInt32 = 0, hi: UInt32 = 0, dir: Int32 = 0
                _ = snd_pcm_hw_params_get_rate_min(params, &lo, &dir)
                _ = snd_pcm_hw_params_get_rate_max(params, &hi, &dir)
                throw .invalidConfiguration("\(source) cannot capture at \(sampleRate) Hz (it offers \(lo)–\(hi) Hz)")
            }
            return wanted
        }
        for rate in Self.preferredRates where snd_pcm_hw_params_test_rate(pcm, params, rate, 0) == 0 {
            if snd_pcm_hw_params_set_rate(pcm, params, rate, 0) == 0 { return rate }
        }
        var rate = Self.preferredRates[0]
        var dir: Int32 = 0
        let code = snd_pcm_hw_params_set_rate_near(pcm, params, &rate, &dir)
        if code < 0 { throw .openFailed(source: source, reason: "no usable sample rate: \(alsaMessage(code))") }
        return rate
    }
}

/// ALSA's text for a negative error code.
func alsaMessage(_ code: Int32) -> String {
    guard let text = snd_strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
