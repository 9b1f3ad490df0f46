import HarkClassifier
import HarkEngine
import HarkStream

/// Listen settings that a layer (the config file, then the command line) may set. Unset fields
/// fall through to the layer below and finally to the built-in defaults of `LiveSettings`.
public struct ListenOverrides: Sendable, Equatable {
    public var source: String?
    public var model: String?
    public var threads: Int?
    public var hopSeconds: Double?
    /// `CropPlacement`'s raw value.
    public var cropPlacement: String?
    public var topK: Int?
    public var emit: [String]?
    /// `DetectionScore`'s raw value.
    public var detectionScore: String?
    public var onThreshold: Float?
    public var offThreshold: Float?
    public var classThresholds: [String: DetectorConfig.Thresholds] = [:]
    public var confirmWindows: Int?
    public var confirmOf: Int?
    public var holdSeconds: Double?
    public var energyGateDBFS: Double?
    public var updateIntervalSeconds: Double?
    public var allow: [String]?
    public var deny: [String]?
    public var maxPendingWindows: Int?

    public init() {}

    /// The kinds of line `--emit` accepts.
    public static let emitKinds = ["events", "windows", "scores", "status"]

    /// `self` wins where set; per-class thresholds merge by label.
    public func over(_ base: ListenOverrides) -> ListenOverrides {
        var m = ListenOverrides()
        m.source = source ?? base.source
        m.model = model ?? base.model
        m.threads = threads ?? base.threads
        m.hopSeconds = hopSeconds ?? base.hopSeconds
        m.cropPlacement = cropPlacement ?? base.cropPlacement
        m.topK = topK ?? base.topK
        m.emit = emit ?? base.emit
        m.detectionScore = detectionScore ?? base.detectionScore
        m.onThreshold = onThreshold ?? base.onThreshold
        m.offThreshold = offThreshold ?? base.offThreshold
        m.classThresholds = base.classThresholds.merging(classThresholds) { _, new in new }
        m.confirmWindows = confirmWindows ?? base.confirmWindows
        m.confirmOf = confirmOf ?? base.confirmOf
        m.holdSeconds = holdSeconds ?? base.holdSeconds
        m.energyGateDBFS = energyGateDBFS ?? base.energyGateDBFS
        m.updateIntervalSeconds = updateIntervalSeconds ?? base.updateIntervalSeconds
        m.allow = allow ?? base.allow
        m.deny = deny ?? base.deny
        m.maxPendingWindows = maxPendingWindows ?? base.maxPendingWindows
        return m
    }

    /// These settings over a model card's fitted detection settings, which sit below every other
    /// layer. A global threshold set above (file, environment or flag) also sets aside the card's
    /// per-class thresholds: whoever asks for one threshold gets it for every class.
    public func over(calibration c: DetectionCalibration?) -> ListenOverrides {
        guard let c else { return self }
        var card = ListenOverrides()
        card.detectionScore = c.score
        card.hopSeconds = c.hopSeconds
        card.cropPlacement = c.cropPlacement
        card.onThreshold = c.defaultThresholds?.on
        card.offThreshold = c.defaultThresholds?.off
        if onThreshold == nil && offThreshold == nil {
            card.classThresholds = c.thresholds ?? [:]
        }
        card.confirmWindows = c.confirmWindows
        card.confirmOf = c.confirmOf
        card.holdSeconds = c.holdSeconds
        return over(card)
    }

    /// The resulting live settings (validated later against the model's labels).
    public func settings() throws(ConfigurationError) -> LiveSettings {
        var s = LiveSettings()
        var d = s.detector
        if let v = hopSeconds { s.hopSeconds = v }
        if let v = cropPlacement {
            guard let placement = CropPlacement(rawValue: v) else {
                throw .invalid("crop_placement: '\(v)' is not one of \(CropPlacement.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            s.cropPlacement = placement
        }
        if let v = topK {
            guard v >= 1 else { throw .invalid("top_k must be at least 1") }
            s.topK = v
        }
        for kind in emit ?? [] where !Self.emitKinds.contains(kind) {
            throw .invalid("emit: unknown kind '\(kind)'; use \(Self.emitKinds.joined(separator: ", "))")
        }
        if let v = detectionScore {
            guard let rule = DetectionScore(rawValue: v) else {
                throw .invalid("detection_score: '\(v)' is not one of \(DetectionScore.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            d.score = rule
        }
        if let v = onThreshold { d.thresholds.on = v }
        if let v = offThreshold { d.thresholds.off = v }
        d.classThresholds = classThresholds
        if let v = confirmWindows { d.confirmWindows = v }
        if let v = confirmOf { d.confirmOf = v }
        if let v = holdSeconds { d.holdSeconds = v }
        if let v = energyGateDBFS { d.energyGateDBFS = v }
        if let v = updateIntervalSeconds { d.updateIntervalSeconds = v }
        if let v = allow { d.allow = v }
        if let v = deny { d.deny = v }
        if let v = maxPendingWindows {
            guard v >= 1 else { throw .invalid("max_pending_windows must be at least 1") }
            s.maxPendingWindows = v
        }
        s.detector = d
        return s
    }

    /// Status lines go to stdout only when asked for (`--emit status`).
    public var emitsStatusOnStdout: Bool { (emit ?? []).contains("status") }
    /// Every window's top-k on stdout (`--emit windows`, or `scores`, which adds to them).
    public var emitsWindowsOnStdout: Bool { (emit ?? []).contains("windows") || emitsScoresOnStdout }
    /// Window lines carry every class's detection score (`--emit scores`).
    public var emitsScoresOnStdout: Bool { (emit ?? []).contains("scores") }
}
