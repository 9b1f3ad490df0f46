import Foundation

/// A float32 tensor read from a safetensors file (float16 and bfloat16 are widened on load).
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    public var count: Int { shape.reduce(1, *) }
}

/// Reader for the safetensors format: an 8-byte little-endian header length, a JSON header
/// mapping names to dtype/shape/byte offsets, then the raw little-endian data.
public enum SafeTensors {
    public static func load(path: String) throws(EngineError) -> [String: Tensor] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw .unreadableFile(path: path, reason: error.localizedDescription)
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String = "<memory>") throws(EngineError) -> [String: Tensor] {
        func fail(_ reason: String) -> EngineError { .malformedSafeTensors(path: path, reason: reason) }
        guard data.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else { throw fail("header length \(headerLength) exceeds the file") }
        let headerEnd = 8 + Int(headerLength)
        let header: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
                throw fail("header is not a JSON object")
            }
            header = object
        } catch let error as EngineError {
            throw error
        } catch {
            throw fail("header is not JSON: \(error.localizedDescription)")
        }
        let payload = data.count - headerEnd
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("entry '\(name)' lacks dtype, shape or data_offsets") }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw fail("tensor '\(name)' has dtype \(dtype); only F32, F16 and BF16 are supported")
            }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] <= payload,
                  offsets[1] - offsets[0] == count * width
            else { throw fail("tensor '\(name)' has offsets \(offsets) that do not fit shape \(shape) or the file") }
            let start = headerEnd + offsets[0]
            var values = [Float](repeating: 0, count: count)
            data.withUnsafeBytes { raw in
                guard let base = raw.baseAddress?.advanced(by: start) else { return }  // count > 0 implies bytes
                for i in 0..<count {
                    switch dtype {
                    case "F32":
                        values[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case "F16":
                        values[i] = halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    default:
                        let bits = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                        values[i] = Float(bitPattern: UInt32(bits) << 16)
                    }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return tensors
    }

    /// IEEE 754 half → single, including subnormals, infinities and NaN.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0 {
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }
}
