/// 3×3 stride-2 max-pool with padding 1 (padding never wins: it counts as −∞).
enum MaxPool {
    static func outputShape(_ s: Shape) -> Shape {
        Shape(channels: s.channels, height: (s.height + 2 - 3) / 2 + 1, width: (s.width + 2 - 3) / 2 + 1)
    }

    static func forward(_ x: UnsafePointer<Float>, shape: Shape, output: UnsafeMutablePointer<Float>) {
        let out = outputShape(shape)
        for c in 0..<shape.channels {
            let src = x + c * shape.plane
            let dst = output + c * out.plane
            for oy in 0..<out.height {
                let y0 = max(oy * 2 - 1, 0), y1 = min(oy * 2 + 1, shape.height - 1)
                for ox in 0..<out.width {
                    let x0 = max(ox * 2 - 1, 0), x1 = min(ox * 2 + 1, shape.width - 1)
                    var best = -Float.infinity
                    for y in y0...y1 {
                        for xx in x0...x1 { best = max(best, src[y * shape.width + xx]) }
                    }
                    dst[oy * out.width + ox] = best
                }
            }
        }
    }
}
