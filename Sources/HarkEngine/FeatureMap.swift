/// One layer's activation for one window: channels × height × width, row-major.
public struct FeatureMap: Sendable, Equatable {
    public var layer: String
    public var shape: Shape
    public var values: [Float]

    public init(layer: String, shape: Shape, values: [Float]) {
        self.layer = layer
        self.shape = shape
        self.values = values
    }

    /// The mean over channels: a height × width map (what the dashboard draws as a heat map).
    public func channelMean() -> [Float] {
        var out = [Float](repeating: 0, count: shape.plane)
        let scale = 1 / Float(shape.channels)
        values.withUnsafeBufferPointer { v in
            for c in 0..<shape.channels {
                for i in 0..<shape.plane { out[i] += v[c * shape.plane + i] }
            }
        }
        for i in out.indices { out[i] *= scale }
        return out
    }
}

/// The result of one forward pass.
public struct Inference: Sendable {
    public var logits: [Float]
    public var featureMaps: [String: FeatureMap]

    /// Softmax of the logits (computed in Double for stability).
    public var probabilities: [Float] { Softmax.probabilities(logits) }

    /// The k most probable classes, best first.
    public func top(_ k: Int) -> [(index: Int, probability: Float)] {
        Softmax.top(k, of: probabilities)
    }
}

public enum Softmax {
    public static func probabilities(_ logits: [Float]) -> [Float] {
        guard let peak = logits.max() else { return [] }
        let exps = logits.map { Foundation.exp(Double($0 - peak)) }
        let total = exps.reduce(0, +)
        return exps.map { Float($0 / total) }
    }

    /// The k largest of `probabilities` with their indices, best first.
    public static func top(_ k: Int, of probabilities: [Float]) -> [(index: Int, probability: Float)] {
        let p = probabilities
        return p.indices.sorted { p[$0] > p[$1] }.prefix(k).map { ($0, p[$0]) }
    }
}

import Foundation
