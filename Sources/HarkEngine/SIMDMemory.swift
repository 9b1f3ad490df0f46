/// Unaligned 4-float loads and stores: activations are plain Float buffers, and SSE's unaligned
/// moves cost the same as aligned ones on current cores.
typealias F4 = SIMD4<Float>

@inline(__always) func load4(_ p: UnsafePointer<Float>) -> F4 {
    UnsafeRawPointer(p).loadUnaligned(as: F4.self)
}

@inline(__always) func store4(_ v: F4, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: F4.self)
}

/// max(v, 0) per lane. The stdlib's generic `pointwiseMax` is not inlined here (a call per vector).
@inline(__always) func relu4(_ v: F4) -> F4 {
    v.replacing(with: 0, where: v .< 0)
}

/// Per-lane maximum, written out for the same reason.
@inline(__always) func max4(_ a: F4, _ b: F4) -> F4 {
    a.replacing(with: b, where: a .< b)
}
