import Foundation

/// One candidate algorithm's time on one convolution shape of a model.
public struct ConvolutionTiming: Sendable, Codable {
    public var layer: String
    public var input: String
    public var kernel: Int
    public var stride: Int
    public var outChannels: Int
    public var algorithm: String
    /// Whether the model's policy runs this layer with this algorithm.
    public var chosen: Bool
    public var p50Milliseconds: Double

    enum CodingKeys: String, CodingKey {
        case layer, input, kernel, stride, outChannels = "out_channels", algorithm, chosen, p50Milliseconds = "p50_ms"
    }
}

extension ResNet {
    /// Times every algorithm that applies to each distinct convolution shape of this model, the
    /// candidates interleaved run by run so a loaded machine slows them alike, in CPU time of the
    /// calling thread (time spent descheduled does not count; `workers` > 1 would escape it, so the
    /// probe runs one). The evidence behind `ConvolutionPolicy.automatic`; weights are random.
    public func probeConvolutions(frames: Int? = nil, runs: Int = 20) -> [ConvolutionTiming] {
        let workers = 1
        var shape = Shape(channels: 1, height: card.frontend.logMel.nMels, width: frames ?? card.frontend.logMel.frames)
        var layers: [(ConvLayer, Shape)] = [(stem, shape)]
        shape = stem.outputShape(shape)
        if card.architecture.stem == .conv7MaxPool { shape = MaxPool.outputShape(shape) }
        for block in stages.joined() {
            layers.append((block.conv1, shape))
            if let ds = block.downsample { layers.append((ds, shape)) }
            let mid = block.conv1.outputShape(shape)
            layers.append((block.conv2, mid))
            shape = block.conv2.outputShape(mid)
        }
        var seen = Set<String>()
        var out: [ConvolutionTiming] = []
        for (layer, input) in layers {
            let key = "\(layer.inChannels) \(layer.outChannels) \(layer.kernel) \(layer.stride) \(layer.padding) \(input)"
            guard seen.insert(key).inserted else { continue }
            out += Self.probe(layer, input: input, runs: runs, workers: workers)
        }
        return out
    }

    private static func probe(_ layer: ConvLayer, input: Shape, runs: Int, workers: Int) -> [ConvolutionTiming] {
        var candidates: [ConvLayer] = []
        for policy in [ConvolutionPolicy.im2colOnly, .winograd(.f2), .winograd(.f4), .winograd(.f6)] {
            let algorithm = policy.algorithm(kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
                                             inChannels: layer.inChannels, outChannels: layer.outChannels)
            if candidates.contains(where: { $0.algorithm == algorithm }) { continue }
            var state: UInt32 = 1
            let weights = (0..<(layer.outChannels * layer.inChannels * layer.kernel * layer.kernel)).map { _ -> Float in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8) / Float(1 << 24) - 0.5
            }
            candidates.append(ConvLayer(name: layer.name, weights: weights, bias: layer.bias, inChannels: layer.inChannels,
                                        outChannels: layer.outChannels, kernel: layer.kernel, stride: layer.stride,
                                        padding: layer.padding, policy: policy))
        }
        let outShape = layer.outputShape(input)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: input.count)
        x.initialize(repeating: 0.5, count: input.count)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: outShape.count)
        y.initialize(repeating: 0, count: outShape.count)
        let scratchCount = max(1, candidates.map { $0.scratchPerWorker(input) }.max() ?? 1) * max(1, workers)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
        scratch.initialize(repeating: 0, count: scratchCount)
        defer { x.deallocate(); y.deallocate(); scratch.deallocate() }
        var samples = [[Double]](repeating: [], count: candidates.count)
        for r in 0..<(runs + 2) {
            for (i, c) in candidates.enumerated() {
                let t0 = threadCPUTime()
                c.forward(x, shape: input, output: y, scratch: scratch, epilogue: .relu, workers: workers)
                if r >= 2 { samples[i].append((threadCPUTime() - t0) * 1e3) }
            }
        }
        return candidates.enumerated().map { i, c in
            let sorted = samples[i].sorted()
            return ConvolutionTiming(layer: layer.name, input: input.description, kernel: layer.kernel, stride: layer.stride,
                                     outChannels: layer.outChannels, algorithm: c.algorithm.description,
                                     chosen: c.algorithm == layer.algorithm, p50Milliseconds: sorted[sorted.count / 2])
        }
    }
}

