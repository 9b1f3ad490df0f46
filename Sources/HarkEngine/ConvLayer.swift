/// A 2-D convolution (no groups, square kernel, zero padding) with its batch norm folded in at
/// load: weight' = weight·γ/√(σ²+ε), bias = β − μ·γ/√(σ²+ε), then packed for the algorithm it
/// runs with. Immutable, shared by all sessions. Activations are NHWC.
struct ConvLayer: Sendable {
    let name: String
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    let bias: [Float]
    let algorithm: ConvAlgorithm
    private let im2col: Im2colConv?
    private let winograd: WinogradConv?

    init(name: String, weight: Tensor, batchNorm bn: BatchNormTensors, stride: Int, padding: Int, eps: Double,
         policy: ConvolutionPolicy = .automatic, input: Shape? = nil) throws(EngineError)
    {
        guard weight.shape.count == 4, weight.shape[2] == weight.shape[3] else {
            throw .wrongShape(name: "\(name).weight", expected: [-1, -1, -1, -1], got: weight.shape)
        }
        let out = weight.shape[0], cin = weight.shape[1], k = weight.shape[2]
        for (key, t) in [("weight", bn.gamma), ("bias", bn.beta), ("running_mean", bn.mean), ("running_var", bn.variance)]
        where t.values.count != out {
            throw .wrongShape(name: "\(bn.name).\(key)", expected: [out], got: t.shape)
        }
        let perOut = cin * k * k
        var w = weight.values
        var b = [Float](repeating: 0, count: out)
        for o in 0..<out {
            let scale = Double(bn.gamma.values[o]) / (Double(bn.variance.values[o]) + eps).squareRoot()
            for i in 0..<perOut { w[o * perOut + i] = Float(Double(w[o * perOut + i]) * scale) }
            b[o] = Float(Double(bn.beta.values[o]) - Double(bn.mean.values[o]) * scale)
        }
        self.init(name: name, weights: w, bias: b, inChannels: cin, outChannels: out, kernel: k,
                  stride: stride, padding: padding, policy: policy, input: input)
    }

    /// From folded weights [out][in][k][k] and bias (also how tests build single layers).
    /// `input`: the activation shape the layer is chosen for (nil: assume large).
    init(name: String, weights w: [Float], bias: [Float], inChannels cin: Int, outChannels out: Int, kernel k: Int,
         stride: Int, padding: Int, policy: ConvolutionPolicy, input: Shape? = nil) {
        self.name = name
        inChannels = cin
        outChannels = out
        kernel = k
        self.stride = stride
        self.padding = padding
        self.bias = bias
        let tiles = input.map { (($0.height + 3) / 4) * (($0.width + 3) / 4) } ?? .max
        algorithm = policy.algorithm(kernel: k, stride: stride, padding: padding, inChannels: cin, outChannels: out,
                                     tiles: tiles)
        switch algorithm {
        case .winograd(let variant):
            winograd = WinogradConv(weights: w, outChannels: out, inChannels: cin, variant: variant)
            im2col = nil
        case .im2col:
            im2col = Im2colConv(weights: w, outChannels: out, inChannels: cin, kernel: k, stride: stride, padding: padding)
            winograd = nil
        }
    }

    func outputShape(_ input: Shape) -> Shape {
        Shape(channels: outChannels,
              height: (input.height + 2 * padding - kernel) / stride + 1,
              width: (input.width + 2 * padding - kernel) / stride + 1)
    }

    /// Floats of scratch memory one worker thread of `forward` needs for this input.
    func scratchPerWorker(_ input: Shape) -> Int {
        winograd?.scratchPerWorker(input) ?? im2col?.scratchPerWorker(input) ?? 0
    }

    /// Whether `shortcut` (a 1×1 convolution of the same input) can read this layer's patch matrix.
    func canShare(with shortcut: ConvLayer) -> Bool {
        guard let im2col, im2col.centreTapOffset != nil, !im2col.isPointwise, shortcut.im2col != nil else { return false }
        return shortcut.kernel == 1 && shortcut.padding == 0 && shortcut.stride == stride && padding < kernel
            && shortcut.inChannels == inChannels && (kernel - 1) == 2 * padding
    }

    /// NHWC in, NHWC out. `shortcut`, when `canShare(with:)` holds, is computed from the same
    /// patch matrix into `shortcutOutput` (with its bias, no ReLU).
    func forward(_ input: UnsafePointer<Float>, shape: Shape, output: UnsafeMutablePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>, epilogue: Epilogue, workers: Int,
                 shortcut: ConvLayer? = nil, shortcutOutput: UnsafeMutablePointer<Float>? = nil) {
        bias.withUnsafeBufferPointer { b in
            guard let bias = b.baseAddress else { return }
            if let winograd {
                winograd.forward(input, shape: shape, output: output, bias: bias, epilogue: epilogue,
                                 scratch: scratch, workers: workers)
            } else if let im2col {
                if let shortcut, let shortcutOutput, let sc = shortcut.im2col, canShare(with: shortcut) {
                    shortcut.bias.withUnsafeBufferPointer { sb in
                        guard let sbias = sb.baseAddress else { return }
                        im2col.forward(input, shape: shape, output: output, bias: bias, epilogue: epilogue,
                                       scratch: scratch, workers: workers,
                                       shortcut: .init(conv: sc, bias: sbias, output: shortcutOutput))
                    }
                } else {
                    im2col.forward(input, shape: shape, output: output, bias: bias, epilogue: epilogue,
                                   scratch: scratch, workers: workers)
                }
            }
        }
    }
}

/// The four batch-norm tensors of one layer, as in the PyTorch state_dict.
struct BatchNormTensors {
    let name: String
    let gamma: Tensor
    let beta: Tensor
    let mean: Tensor
    let variance: Tensor
}
