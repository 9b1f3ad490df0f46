/// Hand-specialised Winograd F(m×m, 3×3) tile transforms (Lavin & Gray 2015), 4 channels per
/// SIMD vector: activations are NHWC, so one tile's values for 4 channels are one unaligned load.
/// Each 2-D transform is two 1-D passes (columns into `tmp`, then rows), with the transform
/// matrices unrolled into shared sub-expressions instead of multiplied as matrices.
protocol WinogradKernel {
    /// Output tile side.
    static var m: Int { get }
    /// G, α×3 (α = m + 2): the filter transform, applied once at load in Double.
    static var g: [[Double]] { get }

    /// V = Bᵀ·d·B for one α×α tile of `channels` (a multiple of 4) channels: d[i][j] at
    /// `d + i·rowStride + j·colStride`, V[ξ = i·α + j] written at `v + ξ·planeStride`.
    static func inputTile(_ d: UnsafePointer<Float>, rowStride: Int, colStride: Int,
                          _ v: UnsafeMutablePointer<Float>, planeStride: Int, channels: Int,
                          tmp: UnsafeMutablePointer<F4>)
    // `tmp` holds `WinogradConv.tmpVectors` vectors (F6 uses all 72).

    /// Y = Aᵀ·M·A for one tile, M[ξ] at `mm + ξ·planeStride`; writes the top-left `rows`×`cols`
    /// of the m×m result to `out[offset + i·rowStride + j·channels]` after bias/residual/ReLU.
    static func outputTile(_ mm: UnsafePointer<Float>, planeStride: Int, channels: Int,
                           _ out: UnsafeMutablePointer<Float>, offset: Int, rowStride: Int, rows: Int, cols: Int,
                           bias: UnsafePointer<Float>, epilogue: Epilogue, tmp: UnsafeMutablePointer<F4>)
}
