import Foundation

/// Loads the float32 tensors of a parity fixture (a minimal safetensors reader, independent of
/// the engine's own loader so a loader bug cannot hide behind itself).
public enum FixtureTensors {
    public static func load(_ name: String) throws -> [String: (shape: [Int], values: [Float])] {
        let data = try Data(contentsOf: ParityFixture.url(name, "safetensors"))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any] ?? [:]
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (key, value) in header where key != "__metadata__" {
            guard let info = value as? [String: Any], let shape = info["shape"] as? [Int],
                  let offsets = info["data_offsets"] as? [Int], info["dtype"] as? String == "F32" else { continue }
            let bytes = data.subdata(in: (8 + n + offsets[0])..<(8 + n + offsets[1]))
            let values = bytes.withUnsafeBytes { raw in
                (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            out[key] = (shape, values)
        }
        return out
    }
}
