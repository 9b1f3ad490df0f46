import CSoxr

public enum ResamplerError: Error, CustomStringConvertible {
    case invalidRates(input: Double, output: Double)
    case soxr(String)

    public var description: String {
        switch self {
        case .invalidRates(let i, let o): return "cannot resample from \(i) Hz to \(o) Hz"
        case .soxr(let message): return "libsoxr: \(message)"
        }
    }
}

/// Streaming sample-rate conversion of one mono channel with libsoxr's high-quality recipe
/// (SOXR_HQ, the same as training's `soxr.resample(quality="HQ")`). Not thread-safe: one
/// resampler belongs to one capture or decoding task.
public final class Resampler {
    public let inputRate: Double
    public let outputRate: Double
    private let handle: soxr_t?
    private var outBuffer: [Float] = []

    public init(inputRate: Double, outputRate: Double) throws(ResamplerError) {
        guard inputRate > 0, outputRate > 0 else { throw .invalidRates(input: inputRate, output: outputRate) }
        self.inputRate = inputRate
        self.outputRate = outputRate
        if inputRate == outputRate {
            handle = nil
            return
        }
        var error: soxr_error_t? = nil
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        guard let h = soxr_create(inputRate, outputRate, 1, &error, &io, &quality, nil) else {
            throw .soxr(error.map { String(cString: $0) } ?? "soxr_create failed")
        }
        handle = h
    }

    deinit {
        if let handle { soxr_delete(handle) }
    }

    /// Converts a block; the output may be shorter or longer than the ratio suggests (filter delay).
    public func process(_ input: [Float]) -> [Float] {
        guard let handle else { return input }
        var result: [Float] = []
        result.reserveCapacity(Int(Double(input.count) * outputRate / inputRate) + 64)
        input.withUnsafeBufferPointer { inBuf in
            var offset = 0
            while offset < inBuf.count {
                let before = offset
                let produced = run(handle, input: UnsafeRawPointer(inBuf.baseAddress.map { $0 + offset }),
                                   count: inBuf.count - offset, consumed: &offset)
                result += produced
                if produced.isEmpty && offset == before { break }  // no progress: never spin
            }
        }
        return result
    }

    /// Drains the filter at the end of the input.
    public func flush() -> [Float] {
        guard let handle else { return [] }
        var result: [Float] = []
        var ignored = 0
        while true {
            let produced = run(handle, input: nil, count: 0, consumed: &ignored)
            if produced.isEmpty { break }
            result += produced
        }
        return result
    }

    private func run(_ handle: soxr_t, input: UnsafeRawPointer?, count: Int, consumed: inout Int) -> [Float] {
        let capacity = max(4096, Int(Double(count) * outputRate / inputRate) + 256)
        if outBuffer.count < capacity { outBuffer = [Float](repeating: 0, count: capacity) }
        var idone = 0
        var odone = 0
        outBuffer.withUnsafeMutableBufferPointer { out in
            _ = soxr_process(handle, input, count, &idone, out.baseAddress, capacity, &odone)
        }
        consumed += idone
        return Array(outBuffer[0..<odone])
    }

    /// Converts a whole signal at once.
    public static func resample(_ input: [Float], from inputRate: Double, to outputRate: Double)
        throws(ResamplerError) -> [Float]
    {
        if inputRate == outputRate { return input }
        let resampler = try Resampler(inputRate: inputRate, outputRate: outputRate)
        return resampler.process(input) + resampler.flush()
    }
}
