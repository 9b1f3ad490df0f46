/// How the engine runs a convolution.
public enum ConvAlgorithm: Sendable, Equatable, CustomStringConvertible {
    /// Winograd minimal filtering (3×3, stride 1, padding 1, channels a multiple of 4).
    case winograd(WinogradVariant)
    /// Patch matrix in L2-sized pixel blocks + GEMM (any kernel and stride; 1×1 stride 1 without copy).
    case im2col

    public var description: String {
        switch self {
        case .winograd(let v): return "winograd \(v.rawValue)"
        case .im2col: return "im2col+sgemm"
        }
    }
}

/// Which algorithm each convolution of a model gets, decided at load when weights are packed.
public enum ConvolutionPolicy: Sendable, Equatable {
    /// F(4×4, 3×3) Winograd for 3×3 stride-1 convolutions whose output spans at least
    /// `minimumWinogradTiles` 4×4 tiles, im2col + GEMM otherwise. Measured per layer with
    /// `hark bench --probe` (OpenBLAS 0.3.21, Cooperlake kernel, docs/benchmarks.md): F4 takes
    /// 0.4-0.8× the time of im2col down to 8 tiles (the 128-mel development model's 256-channel 8×14 stage), but 2× the
    /// time at 4 tiles (seed ResNet's 512-channel 4×14 stage): there each transformed filter
    /// (4× the bytes of the 3×3 one, 38 MB per layer) is streamed from memory to be used 4 times.
    case automatic
    /// This Winograd variant wherever Winograd applies (for comparisons and tests).
    case winograd(WinogradVariant)
    /// im2col + GEMM everywhere (the reference path).
    case im2colOnly

    static let minimumWinogradTiles = 8

    /// `tiles`: F(4×4) output tiles of the layer's output (⌈h/4⌉·⌈w/4⌉); only `.automatic` reads it.
    func algorithm(kernel: Int, stride: Int, padding: Int, inChannels: Int, outChannels: Int,
                   tiles: Int = .max) -> ConvAlgorithm {
        let winogradOK = WinogradConv.supports(kernel: kernel, stride: stride, padding: padding,
                                               inChannels: inChannels, outChannels: outChannels)
        switch self {
        case .automatic: return winogradOK && tiles >= Self.minimumWinogradTiles ? .winograd(.f4) : .im2col
        case .winograd(let v): return winogradOK ? .winograd(v) : .im2col
        case .im2colOnly: return .im2col
        }
    }
}
