/// NHWC ↔ NCHW, for feature-map taps (FeatureMap is channels × height × width).
enum Layout {
    static func toCHW(_ x: UnsafePointer<Float>, shape: Shape) -> [Float] {
        let c = shape.channels, p = shape.plane
        return [Float](unsafeUninitializedCapacity: shape.count) { buf, n in
            for i in 0..<p {
                for ch in 0..<c { buf[ch * p + i] = x[i * c + ch] }
            }
            n = shape.count
        }
    }
}
