/// 3×3 stride-2 max-pool with padding 1 (padding never wins: it counts as −∞), NHWC.
enum MaxPool {
    static func outputShape(_ s: Shape) -> Shape {
        Shape(channels: s.channels, height: (s.height + 2 - 3) / 2 + 1, width: (s.width + 2 - 3) / 2 + 1)
    }

    static func forward(_ x: UnsafePointer<Float>, shape: Shape, output: UnsafeMutablePointer<Float>, workers: Int = 1) {
        let out = outputShape(shape)
        let c = shape.channels
        Parallel.ranges(out.height, workers: workers) { _, rows in
            for oy in rows {
                let y0 = max(oy * 2 - 1, 0), y1 = min(oy * 2 + 1, shape.height - 1)
                for ox in 0..<out.width {
                    let x0 = max(ox * 2 - 1, 0), x1 = min(ox * 2 + 1, shape.width - 1)
                    let dst = output + (oy * out.width + ox) * c
                    var ch = 0
                    while ch + 4 <= c {
                        var best = F4(repeating: -.infinity)
                        for y in y0...y1 {
                            for xx in x0...x1 { best = max4(best, load4(x + (y * shape.width + xx) * c + ch)) }
                        }
                        store4(best, dst + ch)
                        ch += 4
                    }
                    while ch < c {
                        var best = -Float.infinity
                        for y in y0...y1 {
                            for xx in x0...x1 { best = max(best, x[(y * shape.width + xx) * c + ch]) }
                        }
                        dst[ch] = best
                        ch += 1
                    }
                }
            }
        }
    }
}

/// Global average pool of an NHWC activation: one mean per channel.
enum GlobalAveragePool {
    static func forward(_ x: UnsafePointer<Float>, shape: Shape, into out: UnsafeMutablePointer<Float>) {
        let c = shape.channels
        out.update(repeating: 0, count: c)
        // Sum in Double per channel block: 100+ pixels of float32 sums drift at the 1e-6 level.
        var acc = [Double](repeating: 0, count: c)
        for p in 0..<shape.plane {
            let row = x + p * c
            for ch in 0..<c { acc[ch] += Double(row[ch]) }
        }
        let scale = 1 / Double(shape.plane)
        for ch in 0..<c { out[ch] = Float(acc[ch] * scale) }
    }
}
