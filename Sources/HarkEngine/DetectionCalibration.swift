/// A card's `detection` section: the event detector's settings fitted for this model on validation
/// streams (`scripts/detection/fit.py`), used as defaults below the config file, the environment
/// and the flags. Every field is optional: what is absent falls to Hark's built-in default.
public struct DetectionCalibration: Codable, Sendable, Equatable {
    public struct Thresholds: Codable, Sendable, Equatable {
        public var on: Float
        public var off: Float

        public init(on: Float, off: Float) {
            self.on = on
            self.off = off
        }
    }

    /// "window" (the classification's mean over crops) or "strongest_crop".
    public var score: String?
    /// The hop the thresholds and confirmation were fitted at (N-of-M counts windows).
    public var hopSeconds: Double?
    /// Where the crops were placed in the live windows fitted on: "window" or "stream".
    public var cropPlacement: String?
    /// The threshold pair for classes without their own.
    public var defaultThresholds: Thresholds?
    /// Per-class thresholds, by label.
    public var thresholds: [String: Thresholds]?
    public var confirmWindows: Int?
    public var confirmOf: Int?
    public var holdSeconds: Double?
    /// How and on what the values were fitted (free text, for people).
    public var fitted: String?

    public init(score: String? = nil, hopSeconds: Double? = nil, cropPlacement: String? = nil, defaultThresholds: Thresholds? = nil, thresholds: [String: Thresholds]? = nil,
                confirmWindows: Int? = nil, confirmOf: Int? = nil, holdSeconds: Double? = nil, fitted: String? = nil) {
        self.score = score
        self.hopSeconds = hopSeconds
        self.cropPlacement = cropPlacement
        self.defaultThresholds = defaultThresholds
        self.thresholds = thresholds
        self.confirmWindows = confirmWindows
        self.confirmOf = confirmOf
        self.holdSeconds = holdSeconds
        self.fitted = fitted
    }

    enum CodingKeys: String, CodingKey {
        case score, hopSeconds = "hop_seconds", cropPlacement = "crop_placement", defaultThresholds = "default_thresholds", thresholds, confirmWindows = "confirm_windows"
        case confirmOf = "confirm_of", holdSeconds = "hold_seconds", fitted
    }
}
