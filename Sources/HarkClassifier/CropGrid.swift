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
/// state); one scored afresh (the first window, or after dropped ones) starts `k` hops before the
/// newest, rounded down to a whole frame (V's 0.5 s is 43.1 frames: its sixth crop starts at frame
/// 0, not −1). When the anchored crops leave more than a tenth of a crop of the window's start
/// unheard (hop 1 s: half a second), a crop at the window's start is added; it is not shared.
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
    /// The hop in the member's frames (not a whole number in general).
    public let hopFrames: Double
    /// The hop in stream samples at the classifier's rate.
    public let hopSamples: Int
    public let sampleRate: Int
    public let windowSeconds: Double
    public let cropSeconds: Double
    /// The anchored crops a window holds: crop k for k = 0 … while it fits.
    public private(set) var anchoredCount: Int
    /// Whether a window adds a crop at its start.
    public private(set) var hasHeadCrop: Bool

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
        hopFrames = Double(hopSamples) * Double(windowFrames) / Double(windowSamples)
        let span = windowFrames - cropFrames
        var count = 1
        while Int((Double(count) * hopFrames).rounded(.down)) <= span { count += 1 }
        anchoredCount = count
        hasHeadCrop = false
        hasHeadCrop = unheardFrames * 10 > cropFrames
    }

    /// Frames of crop k's start before the newest crop's.
    private func offset(_ k: Int) -> Int { Int((Double(k) * hopFrames).rounded(.down)) }

    /// Frames at the window's start that no anchored crop covers.
    public var unheardFrames: Int { max(0, windowFrames - cropFrames - offset(anchoredCount - 1)) }

    /// This grid with `reference`'s crops: the same count and head crop, so that members on other
    /// front-ends (whose crops differ by a fraction of a frame) average crop by crop.
    public func matching(_ reference: CropGrid) -> CropGrid {
        var grid = self
        grid.anchoredCount = reference.anchoredCount
        grid.hasHeadCrop = reference.hasHeadCrop
        return grid
    }

    /// The crops of the window ending at stream sample `windowEnd`, earliest first.
    public func crops(windowEnd: Int) -> [Crop] {
        var crops: [Crop] = []
        if hasHeadCrop {
            crops.append(Crop(key: nil, firstFrame: 0, start: 0, end: cropSeconds))
        }
        for k in (0..<anchoredCount).reversed() {
            let end = windowSeconds - Double(k * hopSamples) / Double(sampleRate)
            crops.append(Crop(key: windowEnd - k * hopSamples, firstFrame: max(0, windowFrames - cropFrames - offset(k)),
                              start: max(0, end - cropSeconds), end: end))
        }
        return crops
    }
}
