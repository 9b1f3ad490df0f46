// How one crop of a window is read: shifted in mel bins and stretched in time (test-time warps).

/// A crop's view, as `hark_train.crops.View` defines it: row m of the crop is the window's row
/// clamp(m + shift, 0, mels − 1), and frame j reads the window at
/// first + F/2 − F·rate/2 + (j + ½)·rate − ½ (F the crop's frames), interpolated linearly between
/// the two frames around it. The plain view (shift 0, rate 1) is the crop itself.
public struct CropView: Codable, Sendable, Equatable {
    /// Mel bins; positive reads higher rows (the sound moved down).
    public var shift: Int
    /// Window frames per crop frame; above 1 reads a longer span (the sound played faster).
    public var rate: Double

    public static let plain = CropView(shift: 0, rate: 1)

    public init(shift: Int = 0, rate: Double = 1) {
        self.shift = shift
        self.rate = rate
    }

    /// How a read beyond the window's frames is answered.
    public enum Edge: Sendable {
        /// Around the window's end, as the card's crops wrap (a clip's window, `hark classify`).
        case wrap
        /// The first or last frame again: a live window's newest crop has no frames after it.
        case clamp
    }

    /// Fills `crop` ([mels × cropFrames], row-major) with the crop of `cropFrames` frames from
    /// `firstFrame` of the [mels × frames] log-mel `mel`, read through this view.
    public func read(_ mel: [Float], mels: Int, frames: Int, firstFrame: Int, cropFrames: Int, edge: Edge,
                     into crop: inout [Float]) {
        precondition(mel.count == mels * frames && frames > 0)
        if crop.count != mels * cropFrames { crop = [Float](repeating: 0, count: mels * cropFrames) }
        func frame(_ i: Int) -> Int {
            switch edge {
            case .wrap: return ((i % frames) + frames) % frames
            case .clamp: return min(max(i, 0), frames - 1)
            }
        }
        let origin = Double(firstFrame) + Double(cropFrames) / 2 - Double(cropFrames) * rate / 2 - 0.5
        for t in 0..<cropFrames {
            // In Double, as the trainer computes positions; the blend in Float, as it blends.
            let position = origin + (Double(t) + 0.5) * rate
            let left = position.rounded(.down)
            let weight = Float(position - left)
            let i0 = frame(Int(left)), i1 = frame(Int(left) + 1)
            for m in 0..<mels {
                let row = min(max(m + shift, 0), mels - 1) * frames
                crop[m * cropFrames + t] = (1 - weight) * mel[row + i0] + weight * mel[row + i1]
            }
        }
    }
}
