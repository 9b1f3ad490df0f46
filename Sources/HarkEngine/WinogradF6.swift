/// F(6×6, 3×3): 64 products per 36 outputs (5.1× fewer than direct). Points 0, ±1, ±2, ±½, ∞;
/// coefficients up to 21/4 (input) and 32 (output), so float32 rounding grows faster than F4's:
/// the parity tests bound it on both model sizes.
enum WinogradF6: WinogradKernel {
    static let m = 6
    static let g: [[Double]] = [[1, 0, 0],
                                [-2.0 / 9, -2.0 / 9, -2.0 / 9],
                                [-2.0 / 9, 2.0 / 9, -2.0 / 9],
                                [1.0 / 90, 1.0 / 45, 2.0 / 45],
                                [1.0 / 90, -1.0 / 45, 2.0 / 45],
                                [32.0 / 45, 16.0 / 45, 8.0 / 45],
                                [32.0 / 45, -16.0 / 45, 8.0 / 45],
                                [0, 0, 1]]

    /// Bᵀ rows, paired by the even/odd split of the points ±p:
    /// [1 0 −21/4 0 21/4 0 −1 0], [0 ±1 1 ∓17/4 −17/4 ±1 1 0], [0 ±½ ¼ ∓5/2 −5/4 ±2 1 0],
    /// [0 ±2 4 ∓5/2 −5 ±½ 1 0], [0 −1 0 21/4 0 −21/4 0 1].
    @inline(__always) static func bt(_ d: UnsafePointer<F4>) -> (F4, F4, F4, F4, F4, F4, F4, F4) {
        let d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5], d6 = d[6], d7 = d[7]
        let c21_4 = F4(repeating: 5.25), c17_4 = F4(repeating: 4.25), c5_4 = F4(repeating: 1.25)
        let c5_2 = F4(repeating: 2.5), quarter = F4(repeating: 0.25), halfV = F4(repeating: 0.5)
        let four = F4(repeating: 4), five = F4(repeating: 5)
        let r0 = d0 - d6 + c21_4 * (d4 - d2)
        let r7 = d7 - d1 + c21_4 * (d3 - d5)
        let e1 = d2 + d6 - c17_4 * d4, o1 = d1 + d5 - c17_4 * d3
        let e2 = d6 + quarter * d2 - c5_4 * d4, o2 = halfV * d1 - c5_2 * d3 + (d5 + d5)
        let e3 = d6 + four * d2 - five * d4, o3 = (d1 + d1) - c5_2 * d3 + halfV * d5
        return (r0, e1 + o1, e1 - o1, e2 + o2, e2 - o2, e3 + o3, e3 - o3, r7)
    }

    /// Aᵀ rows: [1 1 1 1 1 1 1 0] and [0 1 ±1 2ʲ ±2ʲ 2⁻ʲ ±2⁻ʲ 0] for j = 1…5, plus m7 in the last.
    @inline(__always) static func at(_ p: UnsafePointer<F4>) -> (F4, F4, F4, F4, F4, F4) {
        let a1 = p[1] + p[2], s1 = p[1] - p[2]
        let a2 = p[3] + p[4], s2 = p[3] - p[4]
        let a3 = p[5] + p[6], s3 = p[5] - p[6]
        return (p[0] + a1 + a2 + a3,
                s1 + F4(repeating: 2) * s2 + F4(repeating: 0.5) * s3,
                a1 + F4(repeating: 4) * a2 + F4(repeating: 0.25) * a3,
                s1 + F4(repeating: 8) * s2 + F4(repeating: 0.125) * s3,
                a1 + F4(repeating: 16) * a2 + F4(repeating: 0.0625) * a3,
                s1 + F4(repeating: 32) * s2 + F4(repeating: 0.03125) * s3 + p[7])
    }

    static func inputTile(_ d: UnsafePointer<Float>, rowStride rs: Int, colStride cs: Int,
                          _ v: UnsafeMutablePointer<Float>, planeStride ps: Int, channels: Int,
                          tmp: UnsafeMutablePointer<F4>) {
        let column = tmp + 64  // 8 gathered inputs of one column, after the 64-vector 2-D scratch
        var c = 0
        while c < channels {
            for j in 0..<8 {
                let p = d + j * cs + c
                for i in 0..<8 { column[i] = load4(p + i * rs) }
                let r = bt(column)
                tmp[j] = r.0; tmp[8 + j] = r.1; tmp[16 + j] = r.2; tmp[24 + j] = r.3
                tmp[32 + j] = r.4; tmp[40 + j] = r.5; tmp[48 + j] = r.6; tmp[56 + j] = r.7
            }
            for i in 0..<8 {
                let r = bt(tmp + 8 * i)
                let o = v + 8 * i * ps + c
                store4(r.0, o); store4(r.1, o + ps); store4(r.2, o + 2 * ps); store4(r.3, o + 3 * ps)
                store4(r.4, o + 4 * ps); store4(r.5, o + 5 * ps); store4(r.6, o + 6 * ps); store4(r.7, o + 7 * ps)
            }
            c += 4
        }
    }

    static func outputTile(_ mm: UnsafePointer<Float>, planeStride ps: Int, channels: Int,
                           _ out: UnsafeMutablePointer<Float>, offset: Int, rowStride: Int, rows: Int, cols: Int,
                           bias: UnsafePointer<Float>, epilogue: Epilogue, tmp: UnsafeMutablePointer<F4>) {
        let column = tmp + 64  // one column of M, after the 2-D scratch
        var c = 0
        while c < channels {
            for j in 0..<8 {
                let p = mm + j * ps + c
                for i in 0..<8 { column[i] = load4(p + 8 * i * ps) }
                let r = at(column)
                tmp[j] = r.0; tmp[8 + j] = r.1; tmp[16 + j] = r.2; tmp[24 + j] = r.3; tmp[32 + j] = r.4; tmp[40 + j] = r.5
            }
            let b = load4(bias + c)
            for i in 0..<rows {
                let r = at(tmp + 8 * i)
                column[0] = r.0; column[1] = r.1; column[2] = r.2; column[3] = r.3; column[4] = r.4; column[5] = r.5
                let o = offset + i * rowStride + c
                for j in 0..<cols { store4(epilogue.finish(column[j], bias: b, at: o + j * channels), out + o + j * channels) }
            }
            c += 4
        }
    }
}
