import Foundation

/// Runs a `ResNet` on windows of one size, reusing every activation buffer between windows.
/// Owns mutable memory: use one session per thread or queue (it is not `Sendable`).
public final class InferenceSession {
    public let model: ResNet
    public let inputShape: Shape

    /// Where each activation lives in the arena, and its shape.
    private struct Slot {
        let offset: Int
        let shape: Shape
    }

    private struct BlockSlots {
        let conv1: Slot
        let conv2: Slot       // pre-add output, only written when its tap is requested
        let shortcut: Slot?
        let output: Slot
    }

    private let arena: UnsafeMutablePointer<Float>
    private let arenaCount: Int
    /// Per-worker scratch (patch matrices, Winograd blocks), `scratchPerWorker` floats each.
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchPerWorker: Int
    private let maxWorkers: Int
    private let input: Slot
    private let stemOut: Slot
    private let pooled: Slot?
    private let blocks: [[BlockSlots]]
    private var pooledFeatures: [Float]

    init(model: ResNet, frames: Int) {
        self.model = model
        let p = model.card.frontend.logMel
        inputShape = Shape(channels: 1, height: p.nMels, width: frames)
        var offset = 0
        func slot(_ shape: Shape) -> Slot {
            // 16-float alignment keeps every activation on its own cache lines.
            defer { offset += (shape.count + 15) / 16 * 16 }
            return Slot(offset: offset, shape: shape)
        }
        var scratchNeeded = 0
        func convSlot(_ conv: ConvLayer, _ input: Shape) -> Slot {
            scratchNeeded = max(scratchNeeded, conv.scratchPerWorker(input))
            return slot(conv.outputShape(input))
        }
        input = slot(inputShape)
        stemOut = convSlot(model.stem, inputShape)
        pooled = model.card.architecture.stem == .conv7MaxPool ? slot(MaxPool.outputShape(stemOut.shape)) : nil
        var current = (pooled ?? stemOut).shape
        var blocks: [[BlockSlots]] = []
        for stage in model.stages {
            var stageSlots: [BlockSlots] = []
            for block in stage {
                let c1 = convSlot(block.conv1, current)
                let c2 = convSlot(block.conv2, c1.shape)
                let sc = block.downsample.map { convSlot($0, current) }
                let out = slot(c2.shape)
                stageSlots.append(BlockSlots(conv1: c1, conv2: c2, shortcut: sc, output: out))
                current = out.shape
            }
            blocks.append(stageSlots)
        }
        self.blocks = blocks
        arenaCount = offset
        arena = Self.allocate(max(offset, 1))
        maxWorkers = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
        scratchPerWorker = (max(scratchNeeded, 1) + 15) / 16 * 16
        scratch = Self.allocate(scratchPerWorker * maxWorkers)
        pooledFeatures = [Float](repeating: 0, count: current.channels)
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: count)
    }

    deinit {
        UnsafeMutableRawPointer(arena).deallocate()
        UnsafeMutableRawPointer(scratch).deallocate()
    }

    /// Bytes held by this session's activations and scratch memory.
    public var bufferBytes: Int { (arenaCount + scratchPerWorker * maxWorkers) * MemoryLayout<Float>.size }

    /// The algorithm each convolution runs with, in execution order (for reports).
    public var convolutionPlan: [(layer: String, algorithm: String)] {
        var plan = [(model.stem.name, model.stem.algorithm.description)]
        for block in model.stages.joined() {
            let shared = block.downsample.map { block.conv1.canShare(with: $0) } ?? false
            plan.append((block.conv1.name, block.conv1.algorithm.description))
            if let ds = block.downsample {
                plan.append((ds.name, shared ? "sgemm on \(block.conv1.name)'s patch matrix" : ds.algorithm.description))
            }
            plan.append((block.conv2.name, block.conv2.algorithm.description + " + residual + ReLU fused"))
        }
        return plan
    }

    /// One forward pass over a log-mel window ([n_mels × frames] dB, as `LogMelSpectrogram` gives),
    /// returning logits and the feature maps of the requested layers.
    public func run(logMel: [Float], taps: Set<String> = []) throws(EngineError) -> Inference {
        guard logMel.count == inputShape.count else {
            throw .wrongInputSize(expected: inputShape.count, got: logMel.count)
        }
        for name in taps where !model.exposedLayers.contains(name) {
            throw .unknownLayer(name: name, available: model.exposedLayers)
        }
        // The engine's own loops use as many workers as BLAS has threads (process-wide setting).
        let workers = min(maxWorkers, max(1, BLASThreads.current))
        let norm = model.card.frontend.normalization
        let inv = 1 / norm.std
        let x = arena + input.offset
        logMel.withUnsafeBufferPointer { src in
            for i in 0..<src.count { x[i] = (src[i] - norm.mean) * inv }
        }
        var maps: [String: FeatureMap] = [:]
        // `layerN` is its last block's output: one copy serves both names (the arrays share storage).
        var copied: [Int: [Float]] = [:]
        func capture(_ name: String, _ slot: Slot) {
            guard taps.contains(name) else { return }
            let values = copied[slot.offset] ?? Layout.toCHW(arena + slot.offset, shape: slot.shape)
            copied[slot.offset] = values
            maps[name] = FeatureMap(layer: name, shape: slot.shape, values: values)
        }

        model.stem.forward(x, shape: inputShape, output: arena + stemOut.offset, scratch: scratch,
                           epilogue: .relu, workers: workers)
        capture("conv1", stemOut)
        var current = stemOut
        if let pooled {
            MaxPool.forward(arena + stemOut.offset, shape: stemOut.shape, output: arena + pooled.offset, workers: workers)
            current = pooled
        }
        for (s, stage) in model.stages.enumerated() {
            for (b, block) in stage.enumerated() {
                let slots = blocks[s][b]
                let inPtr = UnsafePointer(arena + current.offset)
                var identity = inPtr
                if let ds = block.downsample, let sc = slots.shortcut {
                    let scOut = arena + sc.offset
                    if block.conv1.canShare(with: ds) {
                        block.conv1.forward(inPtr, shape: current.shape, output: arena + slots.conv1.offset, scratch: scratch,
                                            epilogue: .relu, workers: workers, shortcut: ds, shortcutOutput: scOut)
                    } else {
                        block.conv1.forward(inPtr, shape: current.shape, output: arena + slots.conv1.offset, scratch: scratch,
                                            epilogue: .relu, workers: workers)
                        ds.forward(inPtr, shape: current.shape, output: scOut, scratch: scratch, epilogue: .none, workers: workers)
                    }
                    identity = UnsafePointer(scOut)
                } else {
                    block.conv1.forward(inPtr, shape: current.shape, output: arena + slots.conv1.offset, scratch: scratch,
                                        epilogue: .relu, workers: workers)
                }
                let out = arena + slots.output.offset
                if taps.contains("\(block.name).conv2") {
                    block.conv2.forward(arena + slots.conv1.offset, shape: slots.conv1.shape, output: arena + slots.conv2.offset,
                                        scratch: scratch, epilogue: .none, workers: workers)
                    let pre = arena + slots.conv2.offset
                    for i in 0..<slots.output.shape.count { out[i] = max(pre[i] + identity[i], 0) }
                    capture("\(block.name).conv2", slots.conv2)
                } else {
                    block.conv2.forward(arena + slots.conv1.offset, shape: slots.conv1.shape, output: out,
                                        scratch: scratch, epilogue: Epilogue(relu: true, residual: identity), workers: workers)
                }
                capture("\(block.name).conv1", slots.conv1)
                capture(block.name, slots.output)
                current = slots.output
            }
            capture("layer\(s + 1)", current)
        }
        // Global average pool, then the linear layer (dropout is the identity at inference).
        pooledFeatures.withUnsafeMutableBufferPointer { f in
            if let base = f.baseAddress { GlobalAveragePool.forward(arena + current.offset, shape: current.shape, into: base) }
        }
        let classes = model.fcBias.count
        let features = pooledFeatures.count
        var logits = model.fcBias
        model.fcWeights.withUnsafeBufferPointer { w in
            pooledFeatures.withUnsafeBufferPointer { f in
                for k in 0..<classes {
                    var s: Float = 0
                    for c in 0..<features { s += w[k * features + c] * f[c] }
                    logits[k] += s
                }
            }
        }
        return Inference(logits: logits, featureMaps: maps)
    }
}
