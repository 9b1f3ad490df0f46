/// What happens to a convolution's output after the matrix product, in the same pass over memory:
/// add the folded batch-norm bias, optionally add a residual, optionally clamp at zero.
/// Activations are NHWC (pixel-major, channels contiguous), so the bias is a vector per pixel.
struct Epilogue {
    var relu: Bool
    var residual: UnsafePointer<Float>?

    static var none: Epilogue { Epilogue(relu: false, residual: nil) }
    static var relu: Epilogue { Epilogue(relu: true, residual: nil) }

    /// One output value: `v` at flat index `i` of channel `c`'s bias.
    @inline(__always) func finish(_ v: F4, bias: F4, at i: Int) -> F4 {
        var r = v + bias
        if let residual { r += load4(residual + i) }
        return relu ? relu4(r) : r
    }

    /// Applies bias, residual and ReLU in place to pixels `pixels` of an NHWC [P × channels] buffer.
    func apply(_ out: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, channels: Int, pixels: Range<Int>) {
        if channels % 4 == 0 {
            for p in pixels {
                let row = p * channels
                var c = 0
                while c < channels {
                    store4(finish(load4(out + row + c), bias: load4(bias + c), at: row + c), out + row + c)
                    c += 4
                }
            }
            return
        }
        for p in pixels {
            let row = p * channels
            for c in 0..<channels {
                var v = out[row + c] + bias[c]
                if let residual { v += residual[row + c] }
                out[row + c] = relu ? max(v, 0) : v
            }
        }
    }
}
