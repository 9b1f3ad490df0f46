import Foundation
@testable import HarkEngine
import Testing
import TestSupport

/// Each convolution algorithm against a naive NCHW convolution written from the definition, on
/// random shapes: odd sizes (partial Winograd tiles), padding edges, strides 1 and 2, 1×1/3×3/7×7.
@Suite struct ConvolutionAlgorithmTests {
    /// Deterministic values in [-1, 1).
    struct Noise {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
        mutating func values(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    /// Direct definition: out[o][y][x] = b[o] + Σ w[o][c][ky][kx]·in[c][y·s−p+ky][x·s−p+kx].
    static func naive(_ x: [Float], _ s: Shape, _ w: [Float], _ b: [Float], out: Int, k: Int, stride: Int, pad: Int) -> (Shape, [Float]) {
        let o = Shape(channels: out, height: (s.height + 2 * pad - k) / stride + 1, width: (s.width + 2 * pad - k) / stride + 1)
        var y = [Float](repeating: 0, count: o.count)
        for oc in 0..<out {
            for oy in 0..<o.height {
                for ox in 0..<o.width {
                    var acc = Double(b[oc])
                    for c in 0..<s.channels {
                        for ky in 0..<k {
                            let iy = oy * stride - pad + ky
                            if iy < 0 || iy >= s.height { continue }
                            for kx in 0..<k {
                                let ix = ox * stride - pad + kx
                                if ix < 0 || ix >= s.width { continue }
                                acc += Double(w[((oc * s.channels + c) * k + ky) * k + kx]) * Double(x[(c * s.height + iy) * s.width + ix])
                            }
                        }
                    }
                    y[(oc * o.height + oy) * o.width + ox] = Float(acc)
                }
            }
        }
        return (o, y)
    }

    static func toHWC(_ x: [Float], _ s: Shape) -> [Float] {
        var out = [Float](repeating: 0, count: s.count)
        for c in 0..<s.channels { for i in 0..<s.plane { out[i * s.channels + c] = x[c * s.plane + i] } }
        return out
    }

    /// Runs `layer` with `workers` workers; returns NCHW output. `residual` is NCHW.
    static func run(_ layer: ConvLayer, _ x: [Float], _ s: Shape, relu: Bool, residual: [Float]?, workers: Int) -> [Float] {
        let o = layer.outputShape(s)
        let input = toHWC(x, s)
        let res = residual.map { toHWC($0, o) }
        var out = [Float](repeating: .nan, count: o.count)
        var scratch = [Float](repeating: .nan, count: max(1, layer.scratchPerWorker(s)) * workers)
        input.withUnsafeBufferPointer { xi in
            out.withUnsafeMutableBufferPointer { ob in
                scratch.withUnsafeMutableBufferPointer { sb in
                    if let res {
                        res.withUnsafeBufferPointer { rb in
                            layer.forward(xi.baseAddress!, shape: s, output: ob.baseAddress!, scratch: sb.baseAddress!,
                                          epilogue: Epilogue(relu: relu, residual: rb.baseAddress!), workers: workers)
                        }
                    } else {
                        layer.forward(xi.baseAddress!, shape: s, output: ob.baseAddress!, scratch: sb.baseAddress!,
                                      epilogue: Epilogue(relu: relu, residual: nil), workers: workers)
                    }
                }
            }
        }
        return Layout.toCHW(out, shape: o)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var cin: Int, cout: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int
        var testDescription: String { "\(cin)→\(cout) \(h)×\(w) k\(k) s\(stride) p\(pad)" }
    }

    static let cases: [Case] = [
        Case(cin: 4, cout: 8, h: 9, w: 13, k: 3, stride: 1, pad: 1),     // partial tiles on both axes
        Case(cin: 8, cout: 4, h: 4, w: 4, k: 3, stride: 1, pad: 1),      // one F4 tile, all edges
        Case(cin: 12, cout: 16, h: 1, w: 7, k: 3, stride: 1, pad: 1),    // single row
        Case(cin: 16, cout: 8, h: 17, w: 6, k: 3, stride: 1, pad: 1),
        Case(cin: 8, cout: 12, h: 11, w: 10, k: 3, stride: 2, pad: 1),   // block conv1 of a new stage
        Case(cin: 8, cout: 12, h: 11, w: 10, k: 1, stride: 2, pad: 0),   // shortcut
        Case(cin: 8, cout: 12, h: 5, w: 7, k: 1, stride: 1, pad: 0),     // pointwise, no copy
        Case(cin: 1, cout: 8, h: 15, w: 21, k: 3, stride: 2, pad: 1),    // conv3 stem
        Case(cin: 1, cout: 8, h: 15, w: 21, k: 7, stride: 2, pad: 3),    // conv7 stem
        Case(cin: 3, cout: 5, h: 6, w: 9, k: 3, stride: 1, pad: 1),      // channels Winograd cannot take
    ]

    static let policies: [ConvolutionPolicy] = [.automatic, .winograd(.f2), .winograd(.f4), .winograd(.f6), .im2colOnly]

    @Test(arguments: cases, policies)
    func algorithmMatchesNaiveConvolution(c: Case, policy: ConvolutionPolicy) {
        var noise = Noise(state: UInt64(c.cin * 1000 + c.h * 10 + c.k))
        let s = Shape(channels: c.cin, height: c.h, width: c.w)
        let x = noise.values(s.count)
        let w = noise.values(c.cout * c.cin * c.k * c.k).map { $0 * 0.5 }
        let b = noise.values(c.cout)
        let layer = ConvLayer(name: "t", weights: w, bias: b, inChannels: c.cin, outChannels: c.cout, kernel: c.k,
                              stride: c.stride, padding: c.pad, policy: policy)
        let (o, reference) = Self.naive(x, s, w, b, out: c.cout, k: c.k, stride: c.stride, pad: c.pad)
        #expect(layer.outputShape(s) == o)
        let residual = noise.values(o.count)
        let scale = max(1, reference.map(abs).max() ?? 1)
        for relu in [false, true] {
            for res in [nil, residual] {
                var expected = reference
                for i in expected.indices {
                    if let res { expected[i] += res[i] }
                    if relu { expected[i] = max(expected[i], 0) }
                }
                let got = Self.run(layer, x, s, relu: relu, residual: res, workers: 1)
                let d = maxAbsDifference(got, expected)
                #expect(d <= 2e-5 * scale, "\(c.testDescription) \(layer.algorithm) relu \(relu) residual \(res != nil): |Δ| = \(d)")
            }
        }
        // Two workers split blocks differently in time, never in arithmetic: identical results.
        #expect(Self.run(layer, x, s, relu: true, residual: nil, workers: 2) == Self.run(layer, x, s, relu: true, residual: nil, workers: 1))
    }

    @Test func automaticPolicyPicksWinogradF4OnlyWhereItApplies() {
        let p = ConvolutionPolicy.automatic
        #expect(p.algorithm(kernel: 3, stride: 1, padding: 1, inChannels: 32, outChannels: 32) == .winograd(.f4))
        #expect(p.algorithm(kernel: 3, stride: 1, padding: 1, inChannels: 256, outChannels: 256, tiles: 8) == .winograd(.f4))
        // Too few tiles to pay for streaming the 4×-larger transformed filters.
        #expect(p.algorithm(kernel: 3, stride: 1, padding: 1, inChannels: 512, outChannels: 512, tiles: 4) == .im2col)
        #expect(ConvolutionPolicy.winograd(.f4).algorithm(kernel: 3, stride: 1, padding: 1, inChannels: 512, outChannels: 512,
                                                          tiles: 4) == .winograd(.f4))
        #expect(p.algorithm(kernel: 3, stride: 2, padding: 1, inChannels: 32, outChannels: 64) == .im2col)
        #expect(p.algorithm(kernel: 1, stride: 2, padding: 0, inChannels: 32, outChannels: 64) == .im2col)
        #expect(p.algorithm(kernel: 3, stride: 1, padding: 1, inChannels: 3, outChannels: 32) == .im2col)
    }

    /// The shortcut computed from conv1's patch matrix equals the 1×1 stride-2 convolution run alone.
    @Test func sharedPatchMatrixShortcutMatchesSeparateConvolution() {
        var noise = Noise(state: 7)
        let s = Shape(channels: 8, height: 9, width: 14)
        let x = Self.toHWC(noise.values(s.count), s)
        let conv1 = ConvLayer(name: "c1", weights: noise.values(16 * 8 * 9), bias: noise.values(16), inChannels: 8, outChannels: 16,
                              kernel: 3, stride: 2, padding: 1, policy: .automatic)
        let ds = ConvLayer(name: "ds", weights: noise.values(16 * 8), bias: noise.values(16), inChannels: 8, outChannels: 16,
                           kernel: 1, stride: 2, padding: 0, policy: .automatic)
        #expect(conv1.canShare(with: ds))
        let o = conv1.outputShape(s)
        var fused = [Float](repeating: .nan, count: o.count), separate = fused, main = fused, main2 = fused
        var scratch = [Float](repeating: 0, count: max(conv1.scratchPerWorker(s), ds.scratchPerWorker(s)))
        x.withUnsafeBufferPointer { xi in
            scratch.withUnsafeMutableBufferPointer { sb in
                fused.withUnsafeMutableBufferPointer { f in
                    main.withUnsafeMutableBufferPointer { m in
                        conv1.forward(xi.baseAddress!, shape: s, output: m.baseAddress!, scratch: sb.baseAddress!, epilogue: .relu,
                                      workers: 1, shortcut: ds, shortcutOutput: f.baseAddress!)
                    }
                }
                main2.withUnsafeMutableBufferPointer { m in
                    conv1.forward(xi.baseAddress!, shape: s, output: m.baseAddress!, scratch: sb.baseAddress!, epilogue: .relu, workers: 1)
                }
                separate.withUnsafeMutableBufferPointer { f in
                    ds.forward(xi.baseAddress!, shape: s, output: f.baseAddress!, scratch: sb.baseAddress!, epilogue: .none, workers: 1)
                }
            }
        }
        #expect(main == main2)
        #expect(maxAbsDifference(fused, separate) <= 1e-5)
    }

    @Test func maxPoolAndAveragePoolMatchDefinitions() {
        var noise = Noise(state: 11)
        let s = Shape(channels: 6, height: 7, width: 10)
        let x = noise.values(s.count)
        let o = MaxPool.outputShape(s)
        var out = [Float](repeating: .nan, count: o.count)
        let hwc = Self.toHWC(x, s)
        hwc.withUnsafeBufferPointer { xi in
            out.withUnsafeMutableBufferPointer { MaxPool.forward(xi.baseAddress!, shape: s, output: $0.baseAddress!, workers: 2) }
        }
        let chw = Layout.toCHW(out, shape: o)
        for c in 0..<s.channels {
            for oy in 0..<o.height {
                for ox in 0..<o.width {
                    var best = -Float.infinity
                    for y in (oy * 2 - 1)...(oy * 2 + 1) where y >= 0 && y < s.height {
                        for xx in (ox * 2 - 1)...(ox * 2 + 1) where xx >= 0 && xx < s.width {
                            best = max(best, x[(c * s.height + y) * s.width + xx])
                        }
                    }
                    #expect(chw[(c * o.height + oy) * o.width + ox] == best)
                }
            }
        }
        var means = [Float](repeating: 0, count: s.channels)
        hwc.withUnsafeBufferPointer { xi in
            means.withUnsafeMutableBufferPointer { GlobalAveragePool.forward(xi.baseAddress!, shape: s, into: $0.baseAddress!) }
        }
        for c in 0..<s.channels {
            let expected = x[(c * s.plane)..<((c + 1) * s.plane)].reduce(0, +) / Float(s.plane)
            #expect(abs(means[c] - expected) <= 1e-5)
        }
    }
}

extension Layout {
    static func toCHW(_ x: [Float], shape: Shape) -> [Float] {
        x.withUnsafeBufferPointer { toCHW($0.baseAddress!, shape: shape) }
    }
}
