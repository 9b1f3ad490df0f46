/// F(2×2, 3×3): 16 products per 4 outputs (2.25× fewer than direct); exact transforms (±1 only).
enum WinogradF2: WinogradKernel {
    static let m = 2
    static let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]

    @inline(__always) static func bt(_ d0: F4, _ d1: F4, _ d2: F4, _ d3: F4) -> (F4, F4, F4, F4) {
        (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }

    @inline(__always) static func at(_ m0: F4, _ m1: F4, _ m2: F4, _ m3: F4) -> (F4, F4) {
        (m0 + m1 + m2, m1 - m2 - m3)
    }

    static func inputTile(_ d: UnsafePointer<Float>, rowStride rs: Int, colStride cs: Int,
                          _ v: UnsafeMutablePointer<Float>, planeStride ps: Int, channels: Int,
                          tmp: UnsafeMutablePointer<F4>) {
        var c = 0
        while c < channels {
            for j in 0..<4 {
                let p = d + j * cs + c
                let r = bt(load4(p), load4(p + rs), load4(p + 2 * rs), load4(p + 3 * rs))
                tmp[j] = r.0; tmp[4 + j] = r.1; tmp[8 + j] = r.2; tmp[12 + j] = r.3
            }
            for i in 0..<4 {
                let t = tmp + 4 * i
                let r = bt(t[0], t[1], t[2], t[3])
                let o = v + 4 * i * ps + c
                store4(r.0, o); store4(r.1, o + ps); store4(r.2, o + 2 * ps); store4(r.3, o + 3 * ps)
            }
            c += 4
        }
    }

    static func outputTile(_ mm: UnsafePointer<Float>, planeStride ps: Int, channels: Int,
                           _ out: UnsafeMutablePointer<Float>, offset: Int, rowStride: Int, rows: Int, cols: Int,
                           bias: UnsafePointer<Float>, epilogue: Epilogue, tmp: UnsafeMutablePointer<F4>) {
        var c = 0
        while c < channels {
            for j in 0..<4 {
                let p = mm + j * ps + c
                let r = at(load4(p), load4(p + 4 * ps), load4(p + 8 * ps), load4(p + 12 * ps))
                tmp[j] = r.0; tmp[4 + j] = r.1
            }
            let b = load4(bias + c)
            for i in 0..<rows {
                let t = tmp + 4 * i
                let r = at(t[0], t[1], t[2], t[3])
                let o = offset + i * rowStride + c
                store4(epilogue.finish(r.0, bias: b, at: o), out + o)
                if cols > 1 { store4(epilogue.finish(r.1, bias: b, at: o + channels), out + o + channels) }
            }
            c += 4
        }
    }
}
