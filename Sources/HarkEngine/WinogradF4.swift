/// F(4×4, 3×3): 36 products per 16 outputs (4× fewer than direct). Interpolation points 0, ±1, ±2, ∞;
/// the largest transform coefficients are 5 (input) and 8 (output), accurate enough in float32.
enum WinogradF4: WinogradKernel {
    static let m = 4
    static let g: [[Double]] = [[1.0 / 4, 0, 0],
                                [-1.0 / 6, -1.0 / 6, -1.0 / 6],
                                [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                [1.0 / 24, 1.0 / 12, 1.0 / 6],
                                [1.0 / 24, -1.0 / 12, 1.0 / 6],
                                [0, 0, 1]]

    /// Rows of Bᵀ: [4 0 −5 0 1 0], [0 −4 −4 1 1 0], [0 4 −4 −1 1 0], [0 −2 −1 2 1 0], [0 2 −1 −2 1 0], [0 4 0 −5 0 1].
    @inline(__always) static func bt(_ d0: F4, _ d1: F4, _ d2: F4, _ d3: F4, _ d4: F4, _ d5: F4)
        -> (F4, F4, F4, F4, F4, F4)
    {
        let four = F4(repeating: 4), five = F4(repeating: 5)
        let a = d4 - four * d2, b = d3 - four * d1
        let c = d4 - d2, e = d3 - d1
        let e2 = e + e
        return (four * d0 - five * d2 + d4, a + b, a - b, c + e2, c - e2, four * d1 - five * d3 + d5)
    }

    /// Rows of Aᵀ: [1 1 1 1 1 0], [0 1 −1 2 −2 0], [0 1 1 4 4 0], [0 1 −1 8 −8 1].
    @inline(__always) static func at(_ m0: F4, _ m1: F4, _ m2: F4, _ m3: F4, _ m4: F4, _ m5: F4)
        -> (F4, F4, F4, F4)
    {
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        return (m0 + s12 + s34, d12 + F4(repeating: 2) * d34, s12 + F4(repeating: 4) * s34,
                d12 + F4(repeating: 8) * d34 + m5)
    }

    static func inputTile(_ d: UnsafePointer<Float>, rowStride rs: Int, colStride cs: Int,
                          _ v: UnsafeMutablePointer<Float>, planeStride ps: Int, channels: Int,
                          tmp: UnsafeMutablePointer<F4>) {
        var c = 0
        while c < channels {
            for j in 0..<6 {
                let p = d + j * cs + c
                let r = bt(load4(p), load4(p + rs), load4(p + 2 * rs), load4(p + 3 * rs), load4(p + 4 * rs), load4(p + 5 * rs))
                tmp[j] = r.0; tmp[6 + j] = r.1; tmp[12 + j] = r.2; tmp[18 + j] = r.3; tmp[24 + j] = r.4; tmp[30 + j] = r.5
            }
            for i in 0..<6 {
                let t = tmp + 6 * i
                let r = bt(t[0], t[1], t[2], t[3], t[4], t[5])
                let o = v + 6 * i * ps + c
                store4(r.0, o); store4(r.1, o + ps); store4(r.2, o + 2 * ps)
                store4(r.3, o + 3 * ps); store4(r.4, o + 4 * ps); store4(r.5, o + 5 * ps)
            }
            c += 4
        }
    }

    static func outputTile(_ mm: UnsafePointer<Float>, planeStride ps: Int, channels: Int,
                           _ out: UnsafeMutablePointer<Float>, offset: Int, rowStride: Int, rows: Int, cols: Int,
                           bias: UnsafePointer<Float>, epilogue: Epilogue, tmp: UnsafeMutablePointer<F4>) {
        var c = 0
        while c < channels {
            for j in 0..<6 {
                let p = mm + j * ps + c
                let r = at(load4(p), load4(p + 6 * ps), load4(p + 12 * ps), load4(p + 18 * ps), load4(p + 24 * ps),
                           load4(p + 30 * ps))
                tmp[j] = r.0; tmp[6 + j] = r.1; tmp[12 + j] = r.2; tmp[18 + j] = r.3
            }
            let b = load4(bias + c)
            for i in 0..<rows {
                let t = tmp + 6 * i
                let r = at(t[0], t[1], t[2], t[3], t[4], t[5])
                let o = offset + i * rowStride + c
                if cols == 4 {
                    store4(epilogue.finish(r.0, bias: b, at: o), out + o)
                    store4(epilogue.finish(r.1, bias: b, at: o + channels), out + o + channels)
                    store4(epilogue.finish(r.2, bias: b, at: o + 2 * channels), out + o + 2 * channels)
                    store4(epilogue.finish(r.3, bias: b, at: o + 3 * channels), out + o + 3 * channels)
                } else {
                    // Edge tile: rows 0..<4 of tmp are read, so 24... is free for the partial row.
                    tmp[24] = r.0; tmp[25] = r.1; tmp[26] = r.2; tmp[27] = r.3
                    for j in 0..<cols { store4(epilogue.finish(tmp[24 + j], bias: b, at: o + j * channels), out + o + j * channels) }
                }
            }
            c += 4
        }
    }
}
