import COpenBLAS

/// A 2-D convolution (no groups, square kernel, zero padding) with its batch norm folded in at
/// load: weight' = weight·γ/√(σ²+ε), bias = β − μ·γ/√(σ²+ε). Immutable, shared by all sessions.
struct ConvLayer: Sendable {
    let name: String
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    /// [out][in·k·k], row-major: the left operand of the GEMM.
    let weights: [Float]
    let bias: [Float]
    /// Pre-transformed weights for 3×3 stride-1 convolutions (Winograd F(2×2, 3×3)).
    let winograd: WinogradWeights?

    init(name: String, weight: Tensor, batchNorm bn: BatchNormTensors, stride: Int, padding: Int, eps: Double)
        throws(EngineError)
    {
        guard weight.shape.count == 4, weight.shape[2] == weight.shape[3] else {
            throw .wrongShape(name: "\(name).weight", expected: [-1, -1, -1, -1], got: weight.shape)
        }
        let out = weight.shape[0], cin = weight.shape[1], k = weight.shape[2]
        for (key, t) in [("weight", bn.gamma), ("bias", bn.beta), ("running_mean", bn.mean), ("running_var", bn.variance)]
        where t.values.count != out {
            throw .wrongShape(name: "\(bn.name).\(key)", expected: [out], got: t.shape)
        }
        self.name = name
        inChannels = cin
        outChannels = out
        kernel = k
        self.stride = stride
        self.padding = padding
        let perOut = cin * k * k
        var w = weight.values
        var b = [Float](repeating: 0, count: out)
        for o in 0..<out {
            let scale = Double(bn.gamma.values[o]) / (Double(bn.variance.values[o]) + eps).squareRoot()
            for i in 0..<perOut { w[o * perOut + i] = Float(Double(w[o * perOut + i]) * scale) }
            b[o] = Float(Double(bn.beta.values[o]) - Double(bn.mean.values[o]) * scale)
        }
        weights = w
        bias = b
        winograd = (k == 3 && stride == 1 && padding == 1) ? WinogradWeights(weights: w, outChannels: out, inChannels: cin) : nil
    }

    func outputShape(_ input: Shape) -> Shape {
        Shape(channels: outChannels,
              height: (input.height + 2 * padding - kernel) / stride + 1,
              width: (input.width + 2 * padding - kernel) / stride + 1)
    }

    /// Floats of scratch memory `forward` needs for this input.
    func scratchCount(_ input: Shape) -> Int {
        if let winograd { return winograd.scratchCount(input) }
        if kernel == 1 && stride == 1 { return 0 }
        return inChannels * kernel * kernel * outputShape(input).plane
    }

    func forward(_ input: UnsafePointer<Float>, shape: Shape, output: UnsafeMutablePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>, epilogue: Epilogue) {
        let outShape = outputShape(shape)
        if let winograd {
            winograd.forward(input, shape: shape, output: output, scratch: scratch)
        } else {
            let columns: UnsafePointer<Float>
            if kernel == 1 && stride == 1 {
                columns = input
            } else {
                im2col(input, shape: shape, out: outShape, columns: scratch)
                columns = UnsafePointer(scratch)
            }
            let k = Int32(inChannels * kernel * kernel)
            let n = Int32(outShape.plane)
            weights.withUnsafeBufferPointer { w in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), n, k,
                            1, w.baseAddress, k, columns, n, 0, output, n)
            }
        }
        bias.withUnsafeBufferPointer { b in
            if let base = b.baseAddress {
                epilogue.apply(output, bias: base, channels: outChannels, plane: outShape.plane)
            }
        }
    }

    /// Unfolds input patches into rows (channel, ky, kx) × columns (output pixels).
    private func im2col(_ x: UnsafePointer<Float>, shape: Shape, out: Shape, columns: UnsafeMutablePointer<Float>) {
        let h = shape.height, w = shape.width, oh = out.height, ow = out.width
        var row = columns
        for c in 0..<inChannels {
            let plane = x + c * h * w
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + ky
                        let dst = row + oy * ow
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * w
                        if stride == 1 {
                            // Contiguous run with zeros where the kernel hangs over an edge.
                            let shift = kx - padding
                            let lo = max(0, -shift), hi = min(ow, w - shift)
                            if lo > 0 { dst.update(repeating: 0, count: lo) }
                            if hi > lo { (dst + lo).update(from: src + lo + shift, count: hi - lo) }
                            if hi < ow { (dst + max(hi, lo)).update(repeating: 0, count: ow - max(hi, lo)) }
                        } else {
                            for ox in 0..<ow {
                                let ix = ox * stride - padding + kx
                                dst[ox] = (ix >= 0 && ix < w) ? src[ix] : 0
                            }
                        }
                    }
                    row += oh * ow
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
