// Crops on a grid of stream time: which crops a live window is scored on, so that overlapping windows share them.

/// Where a network that scores crops places them in a live window.
public enum CropPlacement: String, Sendable, CaseIterable {
    /// The card's crops, re-placed in every window (as `hark classify` and training's validation):
    /// a window costs `crops.count` passes whatever came before it.
    case window
    /// Crops anchored to the window's end, one hop apart in stream time, each scored once and
    /// shared by every window that holds it: one new crop per window at steady state.
    case stream
}

/// The crops of one live window under `CropPlacement.stream`, for one member's front-end.
///
/// Crop `k` ends `k` hops before the window's end and is keyed by the stream sample where it ends,
/// so the newest crop of one window is crop 1 of the next window a hop later. Crops are slices of a
/// window's log-mel: a crop is sliced from the first window that holds it (as the newest, at steady
/// state), at `k` times the hop rounded down to whole frames (so that no crop starts before the
/// window's first frame). When the anchored crops leave more than a tenth of a crop of the window's
/// start unheard (hop 1 s: half a second), a crop at the window's start is added; it is not shared.
public struct CropGrid: Sendable, Equatable {
    /// One crop of a window.
    public struct Crop: Sendable, Equatable {
        /// The stream sample (at the classifier's rate) where the crop ends; nil for the head crop,
        /// which no other window shares.
        public var key: Int?
        /// First frame of the crop in the window's log-mel.
        public var firstFrame: Int
        /// Seconds from the window's start.
        public var start: Double
        public var end: Double
    }

    public let windowFrames: Int
    public let cropFrames: Int
    /// The hop in the member's frames, rounded down.
    public let hopFrames: Int
    /// The hop in stream samples at the classifier's rate.
    public let hopSamples: Int
    public let sampleRate: Int
    public let windowSeconds: Double
    public let cropSeconds: Double

    /// - Parameters:
    ///   - hopSamples: the live hop at `sampleRate`, the classifier's rate.
    ///   - windowFrames: the member's frames in a window of `windowSeconds` (a crop's frames are
    ///     placed in seconds by their share of the window, as for the card's crops).
    public init(cropFrames: Int, hopSamples: Int, sampleRate: Int, windowFrames: Int, windowSeconds: Double) {
        precondition(cropFrames > 0 && cropFrames <= windowFrames && hopSamples > 0 && sampleRate > 0 && windowSeconds > 0)
        self.windowFrames = windowFrames
        self.cropFrames = cropFrames
        self.hopSamples = hopSamples
        self.sampleRate = sampleRate
        self.windowSeconds = windowSeconds
        cropSeconds = windowSeconds * Double(cropFrames) / Double(windowFrames)
        let windowSamples = max(1, Int((windowSeconds * Double(sampleRate)).rounded()))
        hopFrames = max(1, hopSamples * windowFrames / windowSamples)
    }

    /// The anchored crops a window holds: crop k for k = 0 … while it fits.
    public var anchoredCount: Int { (windowFrames - cropFrames) / hopFrames + 1 }

    /// Frames at the window's start that no anchored crop covers.
    public var unheardFrames: Int { windowFrames - cropFrames - (anchoredCount - 1) * hopFrames }

    /// Whether a window adds a crop at its start: the anchored ones leave more than a tenth of a
    /// crop unheard (always when the hop is longer than the window less one crop).
    public var hasHeadCrop: Bool { unheardFrames * 10 > cropFrames }

    /// The crops of the window ending at stream sample `windowEnd`, earliest first.
    public func crops(windowEnd: Int) -> [Crop] {
        var crops: [Crop] = []
        if hasHeadCrop {
            crops.append(Crop(key: nil, firstFrame: 0, start: 0, end: cropSeconds))
        }
        for k in (0..<anchoredCount).reversed() {
            let end = windowSeconds - Double(k * hopSamples) / Double(sampleRate)
            crops.append(Crop(key: windowEnd - k * hopSamples, firstFrame: windowFrames - cropFrames - k * hopFrames,
                              start: max(0, end - cropSeconds), end: end))
        }
        return crops
    }
}
