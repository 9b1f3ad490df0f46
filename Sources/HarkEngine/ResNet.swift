import Foundation
import HarkFeatures

/// One basic residual block: conv3×3 → BN → ReLU → conv3×3 → BN, plus the identity or a 1×1
/// conv + BN shortcut, then ReLU.
struct ResidualBlock: Sendable {
    let name: String
    let conv1: ConvLayer
    let conv2: ConvLayer
    let downsample: ConvLayer?
}

/// A ResNet built from a model card and its safetensors weights, batch norm folded at load.
/// Immutable and shareable; run it through an `InferenceSession`, which owns the buffers.
public final class ResNet: Sendable {
    public let card: ModelCard
    let stem: ConvLayer
    let stages: [[ResidualBlock]]
    let fcWeights: [Float]   // [classes][features]
    let fcBias: [Float]

    /// Layer names whose feature maps `InferenceSession.run(_:taps:)` can return.
    public let exposedLayers: [String]

    /// How each convolution runs; fixed at load, when its weights are packed.
    public let policy: ConvolutionPolicy

    public init(card: ModelCard, tensors: [String: Tensor], policy: ConvolutionPolicy = .automatic) throws(EngineError) {
        self.card = card
        self.policy = policy
        let arch = card.architecture
        guard arch.family == "resnet" else { throw .unsupported("architecture family '\(arch.family)'") }
        guard arch.blocks.count == arch.widths.count, !arch.blocks.isEmpty else {
            throw .unsupported("blocks \(arch.blocks) and widths \(arch.widths) must have the same, non-zero length")
        }
        let eps = arch.batchNormEps

        func tensor(_ name: String) throws(EngineError) -> Tensor {
            guard let t = tensors[name] else { throw .missingTensor(name: name) }
            return t
        }
        func batchNorm(_ name: String) throws(EngineError) -> BatchNormTensors {
            BatchNormTensors(name: name, gamma: try tensor("\(name).weight"), beta: try tensor("\(name).bias"),
                             mean: try tensor("\(name).running_mean"), variance: try tensor("\(name).running_var"))
        }
        // Algorithms are chosen for the card's window size (sessions of other sizes reuse them).
        var shape = Shape(channels: 1, height: card.frontend.logMel.nMels, width: card.frontend.logMel.frames)
        func conv(_ name: String, bn: String, stride: Int, padding: Int, input: Shape) throws(EngineError) -> ConvLayer {
            try ConvLayer(name: name, weight: try tensor("\(name).weight"), batchNorm: try batchNorm(bn),
                          stride: stride, padding: padding, eps: eps, policy: policy, input: input)
        }

        let stemKernel = arch.stem == .conv7MaxPool ? 7 : 3
        stem = try conv("conv1", bn: "bn1", stride: 2, padding: stemKernel / 2, input: shape)
        shape = stem.outputShape(shape)
        if arch.stem == .conv7MaxPool { shape = MaxPool.outputShape(shape) }
        guard stem.kernel == stemKernel, stem.inChannels == 1, stem.outChannels == arch.stemWidth else {
            throw .wrongShape(name: "conv1.weight", expected: [arch.stemWidth, 1, stemKernel, stemKernel],
                              got: [stem.outChannels, stem.inChannels, stem.kernel, stem.kernel])
        }
        var layers = ["conv1"]
        var stages: [[ResidualBlock]] = []
        var channels = arch.stemWidth
        for (s, (count, width)) in zip(arch.blocks, arch.widths).enumerated() {
            var blocks: [ResidualBlock] = []
            let stage = "layer\(s + 1)"
            layers.append(stage)
            for b in 0..<count {
                let name = "\(stage).\(b)"
                let stride = (b == 0 && s > 0) ? 2 : 1
                let c1 = try conv("\(name).conv1", bn: "\(name).bn1", stride: stride, padding: 1, input: shape)
                let mid = c1.outputShape(shape)
                let c2 = try conv("\(name).conv2", bn: "\(name).bn2", stride: 1, padding: 1, input: mid)
                var shortcut: ConvLayer? = nil
                if stride != 1 || channels != width {
                    shortcut = try conv("\(name).downsample.0", bn: "\(name).downsample.1", stride: stride, padding: 0,
                                        input: shape)
                }
                shape = c2.outputShape(mid)
                guard c1.inChannels == channels, c1.outChannels == width, c2.inChannels == width, c2.outChannels == width else {
                    throw .wrongShape(name: "\(name).conv1.weight", expected: [width, channels, 3, 3],
                                      got: [c1.outChannels, c1.inChannels, c1.kernel, c1.kernel])
                }
                blocks.append(ResidualBlock(name: name, conv1: c1, conv2: c2, downsample: shortcut))
                layers += [name, "\(name).conv1", "\(name).conv2"]
                channels = width
            }
            stages.append(blocks)
        }
        self.stages = stages
        let fcW = try tensor("fc.weight"), fcB = try tensor("fc.bias")
        guard fcW.shape == [arch.numClasses, channels], fcB.values.count == arch.numClasses else {
            throw .wrongShape(name: "fc.weight", expected: [arch.numClasses, channels], got: fcW.shape)
        }
        fcWeights = fcW.values
        fcBias = fcB.values
        exposedLayers = layers
    }

    /// Loads `NAME.json` and the weights file it names (relative to the card's folder).
    public static func load(cardPath: String, policy: ConvolutionPolicy = .automatic) throws(EngineError) -> ResNet {
        let card = try ModelCard.load(path: cardPath)
        let folder = URL(fileURLWithPath: cardPath).deletingLastPathComponent()
        let weightsPath = folder.appendingPathComponent(card.weights.file).path
        return try ResNet(card: card, tensors: try SafeTensors.load(path: weightsPath), policy: policy)
    }

    public var labels: [ModelCard.Label] { card.labels }

    /// A session for windows of `frames` frames (default: the card's window length).
    public func makeSession(frames: Int? = nil) -> InferenceSession {
        InferenceSession(model: self, frames: frames ?? card.frontend.logMel.frames)
    }

    /// Multiply-accumulates of one forward pass at `frames` frames (convolutions and the linear layer).
    public func macs(frames: Int? = nil) -> Int {
        var shape = Shape(channels: 1, height: card.frontend.logMel.nMels, width: frames ?? card.frontend.logMel.frames)
        var total = 0
        func count(_ conv: ConvLayer, _ input: Shape) -> Shape {
            let out = conv.outputShape(input)
            total += out.count * conv.inChannels * conv.kernel * conv.kernel
            return out
        }
        shape = count(stem, shape)
        if card.architecture.stem == .conv7MaxPool { shape = MaxPool.outputShape(shape) }
        for block in stages.joined() {
            let input = shape
            shape = count(block.conv2, count(block.conv1, input))
            if let ds = block.downsample { _ = count(ds, input) }
        }
        return total + fcWeights.count
    }
}

extension ResNet {
    /// Every tensor name and shape a ResNet of this architecture reads, in state_dict order.
    public static func expectedTensors(_ arch: ModelCard.Architecture) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        func bn(_ name: String, _ c: Int) {
            for key in ["weight", "bias", "running_mean", "running_var"] { out.append(("\(name).\(key)", [c])) }
        }
        let k = arch.stem == .conv7MaxPool ? 7 : 3
        out.append(("conv1.weight", [arch.stemWidth, 1, k, k]))
        bn("bn1", arch.stemWidth)
        var cin = arch.stemWidth
        for (s, (count, width)) in zip(arch.blocks, arch.widths).enumerated() {
            for b in 0..<count {
                let name = "layer\(s + 1).\(b)"
                let stride = (b == 0 && s > 0) ? 2 : 1
                out.append(("\(name).conv1.weight", [width, cin, 3, 3]))
                bn("\(name).bn1", width)
                out.append(("\(name).conv2.weight", [width, width, 3, 3]))
                bn("\(name).bn2", width)
                if stride != 1 || cin != width {
                    out.append(("\(name).downsample.0.weight", [width, cin, 1, 1]))
                    bn("\(name).downsample.1", width)
                }
                cin = width
            }
        }
        out.append(("fc.weight", [arch.numClasses, cin]))
        out.append(("fc.bias", [arch.numClasses]))
        return out
    }
}
