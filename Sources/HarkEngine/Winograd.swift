import COpenBLAS

/// Winograd minimal filtering F(m×m, 3×3) for 3×3 stride-1 pad-1 convolutions (Lavin & Gray 2015):
/// each (m+2)×(m+2) input tile and each 3×3 filter are transformed once, the channel sums become
/// (m+2)² independent GEMMs, and an output transform yields m×m pixels — (m+2)²/(9m²) of the
/// direct method's multiplications (0.44 for m = 2).
struct WinogradTransform: Sendable {
    let m: Int
    var alpha: Int { m + 2 }
    /// Bᵀ (α×α), G (α×3), Aᵀ (m×α), row-major.
    let bt: [Float]
    let g: [Float]
    let at: [Float]

    /// F(2×2, 3×3): exact in its arithmetic (only ±1 and ½ in the transforms).
    static let f2 = WinogradTransform(
        m: 2,
        bt: [1, 0, -1, 0,
             0, 1, 1, 0,
             0, -1, 1, 0,
             0, 1, 0, -1],
        g: [1, 0, 0,
            0.5, 0.5, 0.5,
            0.5, -0.5, 0.5,
            0, 0, 1],
        at: [1, 1, 1, 0,
             0, 1, -1, -1])
}

/// Filters of one convolution in the Winograd domain: U[ξ][out][in], ξ over the α² tile points.
struct WinogradWeights: Sendable {
    let transform: WinogradTransform
    let outChannels: Int
    let inChannels: Int
    let u: [Float]

    init(weights: [Float], outChannels: Int, inChannels: Int, transform: WinogradTransform = .f2) {
        self.transform = transform
        self.outChannels = outChannels
        self.inChannels = inChannels
        let a = transform.alpha
        var u = [Float](repeating: 0, count: a * a * outChannels * inChannels)
        var tmp = [Float](repeating: 0, count: a * 3)
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                let gk = (o * inChannels + c) * 9
                // tmp = G · g  (α×3)
                for i in 0..<a {
                    for j in 0..<3 {
                        var s: Float = 0
                        for k in 0..<3 { s += transform.g[i * 3 + k] * weights[gk + k * 3 + j] }
                        tmp[i * 3 + j] = s
                    }
                }
                // U = tmp · Gᵀ  (α×α)
                for i in 0..<a {
                    for j in 0..<a {
                        var s: Float = 0
                        for k in 0..<3 { s += tmp[i * 3 + k] * transform.g[j * 3 + k] }
                        u[((i * a + j) * outChannels + o) * inChannels + c] = s
                    }
                }
            }
        }
        self.u = u
    }

    private func tiles(_ shape: Shape) -> (rows: Int, cols: Int) {
        ((shape.height + transform.m - 1) / transform.m, (shape.width + transform.m - 1) / transform.m)
    }

    func scratchCount(_ input: Shape) -> Int {
        let t = tiles(input)
        let a = transform.alpha
        return a * a * (inChannels + outChannels) * t.rows * t.cols + 2 * a * a
    }

    /// Output has the input's height and width (stride 1, padding 1), `outChannels` channels.
    func forward(_ input: UnsafePointer<Float>, shape: Shape, output: UnsafeMutablePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>) {
        let a = transform.alpha, m = transform.m, points = a * a
        let (rows, cols) = tiles(shape)
        let p = rows * cols
        let h = shape.height, w = shape.width
        let v = scratch                                   // [ξ][in][p]
        let mm = scratch + points * inChannels * p        // [ξ][out][p]
        let tile = mm + points * outChannels * p          // α×α
        let tmp = tile + points                           // α×α
        transform.bt.withUnsafeBufferPointer { bt in
            for c in 0..<inChannels {
                let plane = input + c * h * w
                for ty in 0..<rows {
                    for tx in 0..<cols {
                        let y0 = ty * m - 1, x0 = tx * m - 1
                        for i in 0..<a {
                            let y = y0 + i
                            for j in 0..<a {
                                let x = x0 + j
                                tile[i * a + j] = (y >= 0 && y < h && x >= 0 && x < w) ? plane[y * w + x] : 0
                            }
                        }
                        // V = Bᵀ · d · B
                        for i in 0..<a {
                            for j in 0..<a {
                                var s: Float = 0
                                for k in 0..<a { s += bt[i * a + k] * tile[k * a + j] }
                                tmp[i * a + j] = s
                            }
                        }
                        let t = ty * cols + tx
                        for i in 0..<a {
                            for j in 0..<a {
                                var s: Float = 0
                                for k in 0..<a { s += tmp[i * a + k] * bt[j * a + k] }
                                v[((i * a + j) * inChannels + c) * p + t] = s
                            }
                        }
                    }
                }
            }
        }
        u.withUnsafeBufferPointer { u in
            for xi in 0..<points {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(p), Int32(inChannels),
                            1, u.baseAddress! + xi * outChannels * inChannels, Int32(inChannels),
                            v + xi * inChannels * p, Int32(p), 0, mm + xi * outChannels * p, Int32(p))
            }
        }
        transform.at.withUnsafeBufferPointer { at in
            for o in 0..<outChannels {
                let plane = output + o * h * w
                for ty in 0..<rows {
                    for tx in 0..<cols {
                        let t = ty * cols + tx
                        for xi in 0..<points { tile[xi] = mm[(xi * outChannels + o) * p + t] }
                        // Y = Aᵀ · M · A  (m×m)
                        for i in 0..<m {
                            for j in 0..<a {
                                var s: Float = 0
                                for k in 0..<a { s += at[i * a + k] * tile[k * a + j] }
                                tmp[i * a + j] = s
                            }
                        }
                        for i in 0..<m {
                            let y = ty * m + i
                            if y >= h { break }
                            for j in 0..<m {
                                let x = tx * m + j
                                if x >= w { break }
                                var s: Float = 0
                                for k in 0..<a { s += tmp[i * a + k] * at[j * a + k] }
                                plane[y * w + x] = s
                            }
                        }
                    }
                }
            }
        }
    }
}
