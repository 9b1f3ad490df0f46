import COpenBLAS

/// Any k×k convolution (stride, zero padding) on NHWC activations as im2col + GEMM, cut into
/// blocks of output pixels so each block's patch matrix stays in L2 instead of a full copy of
/// the unfolded input: [pixels × (ky, kx, in)] · [(ky, kx, in) × out]. A 1×1 stride-1 convolution
/// skips the copy (its input already is the patch matrix).
struct Im2colConv: Sendable {
    let kernel: Int
    let stride: Int
    let padding: Int
    let inChannels: Int
    let outChannels: Int
    /// [(ky·k + kx)·in + c][out], row-major: packed once at load.
    let weights: [Float]

    static let blockBytes = 512 * 1024

    /// `weights`: [out][in][k][k] row-major.
    init(weights w: [Float], outChannels: Int, inChannels: Int, kernel: Int, stride: Int, padding: Int) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.inChannels = inChannels
        self.outChannels = outChannels
        let kk = kernel * kernel
        var packed = [Float](repeating: 0, count: kk * inChannels * outChannels)
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                for t in 0..<kk { packed[(t * inChannels + c) * outChannels + o] = w[(o * inChannels + c) * kk + t] }
            }
        }
        weights = packed
    }

    var patch: Int { kernel * kernel * inChannels }
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    func outputShape(_ s: Shape) -> Shape {
        Shape(channels: outChannels, height: (s.height + 2 * padding - kernel) / stride + 1,
              width: (s.width + 2 * padding - kernel) / stride + 1)
    }

    func blockPixels(_ input: Shape) -> Int {
        let plane = outputShape(input).plane
        return max(1, min(plane, max(64, Self.blockBytes / (patch * MemoryLayout<Float>.size))))
    }

    func scratchPerWorker(_ input: Shape) -> Int {
        isPointwise ? 0 : (blockPixels(input) * patch + 15) / 16 * 16
    }

    /// Column index of the centre tap (ky = kx = padding) in a patch row: where a 1×1 shortcut of
    /// the same stride reads its input, so it can share this convolution's patch matrix.
    var centreTapOffset: Int? {
        padding < kernel ? (padding * kernel + padding) * inChannels : nil
    }

    /// Unfolds output pixels `pixels` into `columns`, one patch row per pixel.
    func fill(_ columns: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, shape: Shape, pixels: Range<Int>) {
        let h = shape.height, w = shape.width, cin = inChannels, k = kernel
        let ow = outputShape(shape).width
        for p in pixels {
            let oy = p / ow, ox = p % ow
            var dst = columns + (p - pixels.lowerBound) * patch
            let ix0 = ox * stride - padding
            // The kernel's columns that land inside the image.
            let kxLo = max(0, -ix0), kxHi = min(k, w - ix0)
            for ky in 0..<k {
                let iy = oy * stride - padding + ky
                if iy < 0 || iy >= h || kxHi <= kxLo {
                    dst.update(repeating: 0, count: k * cin)
                } else {
                    if kxLo > 0 { dst.update(repeating: 0, count: kxLo * cin) }
                    let row = x + (iy * w) * cin
                    if cin == 1 {
                        for kx in kxLo..<kxHi { dst[kx] = row[ix0 + kx] }
                    } else {
                        for kx in kxLo..<kxHi { (dst + kx * cin).update(from: row + (ix0 + kx) * cin, count: cin) }
                    }
                    if kxHi < k { (dst + kxHi * cin).update(repeating: 0, count: (k - kxHi) * cin) }
                }
                dst += k * cin
            }
        }
    }

    /// A 1×1 convolution of the same stride that reads this one's patch matrix (a ResNet shortcut).
    struct Shortcut {
        let conv: Im2colConv
        let bias: UnsafePointer<Float>
        let output: UnsafeMutablePointer<Float>
    }

    func forward(_ input: UnsafePointer<Float>, shape: Shape, output: UnsafeMutablePointer<Float>,
                 bias: UnsafePointer<Float>, epilogue: Epilogue, scratch: UnsafeMutablePointer<Float>, workers: Int,
                 shortcut: Shortcut? = nil) {
        let plane = outputShape(shape).plane
        let block = blockPixels(shape)
        let blocks = (plane + block - 1) / block
        let perWorker = scratchPerWorker(shape)
        weights.withUnsafeBufferPointer { wb in
            guard let w = wb.baseAddress else { return }
            Parallel.ranges(blocks, workers: workers) { worker, range in
                let columns = scratch + worker * perWorker
                for b in range {
                    let p0 = b * block, n = min(block, plane - p0)
                    let a: UnsafePointer<Float>
                    if isPointwise {
                        a = input + p0 * inChannels
                    } else {
                        fill(columns, from: input, shape: shape, pixels: p0..<(p0 + n))
                        a = UnsafePointer(columns)
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(outChannels), Int32(patch),
                                1, a, Int32(patch), w, Int32(outChannels), 0, output + p0 * outChannels, Int32(outChannels))
                    epilogue.apply(output, bias: bias, channels: outChannels, pixels: p0..<(p0 + n))
                    if let shortcut, let centre = centreTapOffset {
                        let sc = shortcut.conv
                        sc.weights.withUnsafeBufferPointer { sw in
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(sc.outChannels),
                                        Int32(inChannels), 1, a + centre, Int32(patch), sw.baseAddress, Int32(sc.outChannels),
                                        0, shortcut.output + p0 * sc.outChannels, Int32(sc.outChannels))
                        }
                        Epilogue.none.apply(shortcut.output, bias: shortcut.bias, channels: sc.outChannels,
                                            pixels: p0..<(p0 + n))
                    }
                }
            }
        }
    }
}
