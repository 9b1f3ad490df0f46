import HarkEngine

/// Tunables of the event detector. Defaults are the documented ones (`hark listen --help`,
/// Config/hark.toml); every value has a unit in its name.
public struct DetectorConfig: Sendable, Equatable {
    /// `on`: a class scoring at least this counts towards starting an event; `off`: an active event
    /// holds while it scores at least this (hysteresis: off ≤ on). The model card's type: a card's
    /// fitted thresholds are these.
    public typealias Thresholds = DetectionCalibration.Thresholds

    public static let defaultThresholds = Thresholds(on: 0.5, off: 0.3)

    /// What is compared with the thresholds (a model card's `detection` section may choose).
    public var score = DetectionScore.window
    public var thresholds = DetectorConfig.defaultThresholds
    /// Per-class overrides, by label.
    public var classThresholds: [String: Thresholds] = [:]
    /// N of M confirmation: an event starts when N of the last M windows score ≥ on.
    public var confirmWindows = 2
    public var confirmOf = 3
    /// An event ends once its class has stayed below `off` this long (stream seconds).
    public var holdSeconds = 2.0
    /// Windows quieter than this (RMS dBFS) are not classified; they count as silence.
    public var energyGateDBFS = -60.0
    /// Only these labels raise events (empty: all).
    public var allow: [String] = []
    /// These labels never raise events.
    public var deny: [String] = []
    /// An active event reports an `update` at most this often (stream seconds).
    public var updateIntervalSeconds = 5.0

    public init() {}

    public func thresholds(for label: String) -> Thresholds { classThresholds[label] ?? thresholds }

    public func isAllowed(_ label: String) -> Bool {
        (allow.isEmpty || allow.contains(label)) && !deny.contains(label)
    }

    /// Rejects settings that cannot work, with the reason.
    public func validate(labels: [String]) throws(ConfigurationError) {
        for (name, t) in [("default", thresholds)] + classThresholds.map({ ($0.key, $0.value) }) {
            guard t.on > 0, t.on <= 1, t.off >= 0, t.off <= t.on else {
                throw .invalid("thresholds for \(name): need 0 ≤ off ≤ on ≤ 1 and on > 0 (got on \(t.on), off \(t.off))")
            }
        }
        guard confirmWindows >= 1, confirmOf >= confirmWindows else {
            throw .invalid("confirmation N of M needs 1 ≤ N ≤ M (got \(confirmWindows) of \(confirmOf))")
        }
        guard holdSeconds >= 0, updateIntervalSeconds > 0 else {
            throw .invalid("hold must be ≥ 0 s and the update interval > 0 s")
        }
        let known = Set(labels)
        for label in allow + deny + Array(classThresholds.keys) where !known.contains(label) {
            throw .invalid("unknown label '\(label)'; the model's labels are: \(labels.joined(separator: ", "))")
        }
    }
}

public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let why): return "invalid configuration: \(why)"
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        }
    }
}
