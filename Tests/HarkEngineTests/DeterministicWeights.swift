import Foundation
import HarkEngine

/// Swift twin of Training/hark_train/deterministic.py: the seed-size ResNet's weights, derived from
/// each tensor's name so the 85 MB of weights need not be stored as a fixture.
enum DeterministicWeights {
    static func fnv1a64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    static func uniform(_ name: String, _ i: Int) -> Double {
        var z = fnv1a64(name) &+ UInt64(i) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z = z ^ (z >> 31)
        return Double(z >> 40) / Double(1 << 24)
    }

    static func values(_ name: String, _ shape: [Int]) -> [Float] {
        let count = shape.reduce(1, *)
        return (0..<count).map { i -> Float in
            let u = uniform(name, i)
            let v: Double
            if name.hasSuffix("running_var") {
                v = 0.5 + u
            } else if name.hasSuffix("running_mean") {
                v = (u - 0.5) * 0.4
            } else if name == "fc.weight" {
                v = (2 * u - 1) * (1.0 / Double(shape[1])).squareRoot()
            } else if name == "fc.bias" {
                v = (u - 0.5) * 0.2
            } else if shape.count == 4 {
                v = (2 * u - 1) * (6.0 / Double(shape[1] * shape[2] * shape[3])).squareRoot()
            } else if name.hasSuffix(".weight") {
                v = (name.contains(".bn2.") || name.contains("downsample.1")) ? 0.1 + 0.4 * u : 0.5 + u
            } else {
                v = (u - 0.5) * 0.2
            }
            return Float(v)
        }
    }

    static func tensors(for arch: ModelCard.Architecture) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, shape) in ResNet.expectedTensors(arch) { out[name] = Tensor(shape: shape, values: values(name, shape)) }
        return out
    }
}
