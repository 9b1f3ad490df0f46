import COpenBLAS
import Foundation

/// Which Winograd tile size a 3×3 stride-1 convolution runs with.
public enum WinogradVariant: String, Sendable, CaseIterable {
    case f2 = "F(2x2,3x3)"
    case f4 = "F(4x4,3x3)"
    case f6 = "F(6x6,3x3)"

    var m: Int {
        switch self {
        case .f2: return 2
        case .f4: return 4
        case .f6: return 6
        }
    }
    var alpha: Int { m + 2 }
    var g: [[Double]] {
        switch self {
        case .f2: return WinogradF2.g
        case .f4: return WinogradF4.g
        case .f6: return WinogradF6.g
        }
    }
}

/// A 3×3, stride-1, padding-1 convolution by Winograd minimal filtering on NHWC activations.
/// Filters are transformed once at load into U[ξ][in][out]; per window, tiles are processed in
/// blocks sized to stay in L2: input transform → α² GEMMs (tiles × in) · (in × out) → output
/// transform with bias, residual and ReLU fused, so the product never makes another pass.
struct WinogradConv: Sendable {
    let variant: WinogradVariant
    let inChannels: Int
    let outChannels: Int
    let u: [Float]

    /// Bytes of one block's transformed input and products: both stay in a 1 MB L2 with room to spare.
    /// (256 KB to 16 MB measured within noise of each other once planes stopped aliasing.)
    static let blockBytes = 512 * 1024

    static func supports(kernel: Int, stride: Int, padding: Int, inChannels: Int, outChannels: Int) -> Bool {
        kernel == 3 && stride == 1 && padding == 1 && inChannels % 4 == 0 && outChannels % 4 == 0
    }

    /// `weights`: [out][in][3][3] row-major (batch norm already folded).
    init(weights: [Float], outChannels: Int, inChannels: Int, variant: WinogradVariant) {
        self.variant = variant
        self.inChannels = inChannels
        self.outChannels = outChannels
        let a = variant.alpha, g = variant.g
        var u = [Float](repeating: 0, count: a * a * inChannels * outChannels)
        var gw = [Double](repeating: 0, count: a * 3)
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                let k = (o * inChannels + c) * 9
                // U = G·w·Gᵀ in Double: the filter transform's rounding is then negligible.
                for i in 0..<a {
                    for j in 0..<3 {
                        var s = 0.0
                        for t in 0..<3 { s += g[i][t] * Double(weights[k + t * 3 + j]) }
                        gw[i * 3 + j] = s
                    }
                }
                for i in 0..<a {
                    for j in 0..<a {
                        var s = 0.0
                        for t in 0..<3 { s += gw[i * 3 + t] * g[j][t] }
                        u[((i * a + j) * inChannels + c) * outChannels + o] = Float(s)
                    }
                }
            }
        }
        self.u = u
    }

    func tiles(_ shape: Shape) -> (rows: Int, cols: Int) {
        ((shape.height + variant.m - 1) / variant.m, (shape.width + variant.m - 1) / variant.m)
    }

    /// Tiles per block: as many as fit `blockBytes`, at least 8 so the GEMMs stay worth calling.
    func blockTiles(_ shape: Shape) -> Int {
        let t = tiles(shape)
        let a2 = variant.alpha * variant.alpha
        let fit = Self.blockBytes / (a2 * (inChannels + outChannels) * MemoryLayout<Float>.size)
        return max(1, min(t.rows * t.cols, max(8, fit)))
    }

    /// Distance between two ξ planes of a block: a whole, odd number of cache lines. The transforms
    /// touch all α² planes per tile; at a multiple of 4 KB apart they would all fall in one L1 set
    /// (measured: 2-3× slower transforms at such block sizes).
    static func planeStride(_ floats: Int) -> Int {
        let lines = (floats + 15) / 16
        return (lines | 1) * 16
    }

    /// Floats of scratch one worker needs (16-float aligned).
    func scratchPerWorker(_ shape: Shape) -> Int {
        let a2 = variant.alpha * variant.alpha
        let block = blockTiles(shape)
        return 4 * Self.tmpVectors + (a2 * inChannels + 15) / 16 * 16
            + a2 * (Self.planeStride(block * inChannels) + Self.planeStride(block * outChannels))
    }

    /// SIMD vectors of per-worker transform scratch (F6 uses 64 + 8).
    static let tmpVectors = 72

    func forward(_ input: UnsafePointer<Float>, shape: Shape, output: UnsafeMutablePointer<Float>,
                 bias: UnsafePointer<Float>, epilogue: Epilogue, scratch: UnsafeMutablePointer<Float>, workers: Int) {
        switch variant {
        case .f2: run(WinogradF2.self, input, shape, output, bias, epilogue, scratch, workers)
        case .f4: run(WinogradF4.self, input, shape, output, bias, epilogue, scratch, workers)
        case .f6: run(WinogradF6.self, input, shape, output, bias, epilogue, scratch, workers)
        }
    }

    private func run<K: WinogradKernel>(_ kernel: K.Type, _ input: UnsafePointer<Float>, _ shape: Shape,
                                        _ output: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>,
                                        _ epilogue: Epilogue, _ scratch: UnsafeMutablePointer<Float>, _ workers: Int) {
        let m = K.m, a = m + 2, a2 = a * a
        let h = shape.height, w = shape.width, cin = inChannels, cout = outChannels
        let (tileRows, tileCols) = tiles(shape)
        let total = tileRows * tileCols
        let block = blockTiles(shape)
        let blocks = (total + block - 1) / block
        let perWorker = scratchPerWorker(shape)
        u.withUnsafeBufferPointer { ub in
            guard let u = ub.baseAddress else { return }
            Parallel.ranges(blocks, workers: workers) { worker, range in
                let base = scratch + worker * perWorker
                let tmp = UnsafeMutableRawPointer(base).bindMemory(to: F4.self, capacity: Self.tmpVectors)
                let edge = base + 4 * Self.tmpVectors
                let v = edge + (a2 * cin + 15) / 16 * 16
                let vStride = Self.planeStride(block * cin), mStride = Self.planeStride(block * cout)
                let mm = v + a2 * vStride
                for b in range {
                    let t0 = b * block, n = min(block, total - t0)
                    for t in t0..<(t0 + n) {
                        let y0 = (t / tileCols) * m - 1, x0 = (t % tileCols) * m - 1
                        let dst = v + (t - t0) * cin
                        if y0 >= 0, x0 >= 0, y0 + a <= h, x0 + a <= w {
                            kernel.inputTile(input + (y0 * w + x0) * cin, rowStride: w * cin, colStride: cin,
                                             dst, planeStride: vStride, channels: cin, tmp: tmp)
                        } else {
                            // Tile overhangs the padding: gather it with zeros, then the same transform.
                            for i in 0..<a {
                                for j in 0..<a {
                                    let y = y0 + i, x = x0 + j
                                    let e = edge + (i * a + j) * cin
                                    if y >= 0, y < h, x >= 0, x < w {
                                        e.update(from: input + (y * w + x) * cin, count: cin)
                                    } else {
                                        e.update(repeating: 0, count: cin)
                                    }
                                }
                            }
                            kernel.inputTile(edge, rowStride: a * cin, colStride: cin,
                                             dst, planeStride: vStride, channels: cin, tmp: tmp)
                        }
                    }
                    for xi in 0..<a2 {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(cout), Int32(cin),
                                    1, v + xi * vStride, Int32(cin), u + xi * cin * cout, Int32(cout),
                                    0, mm + xi * mStride, Int32(cout))
                    }
                    for t in t0..<(t0 + n) {
                        let oy = (t / tileCols) * m, ox = (t % tileCols) * m
                        kernel.outputTile(mm + (t - t0) * cout, planeStride: mStride, channels: cout,
                                          output, offset: (oy * w + ox) * cout, rowStride: w * cout,
                                          rows: min(m, h - oy), cols: min(m, w - ox),
                                          bias: bias, epilogue: epilogue, tmp: tmp)
                    }
                }
            }
        }
    }
}
