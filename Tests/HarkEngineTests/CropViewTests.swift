import HarkEngine
import Testing

/// How a crop is read through a view: the same hand-made cases as Training/tests/test_crops.py.
@Suite struct CropViewTests {
    /// A [mels × frames] log-mel whose value is `value(m, t)`.
    func mel(mels: Int, frames: Int, _ value: (Int, Int) -> Float) -> [Float] {
        (0..<mels * frames).map { value($0 / frames, $0 % frames) }
    }

    @Test func plainViewIsTheWrappingCrop() {
        let x = mel(mels: 2, frames: 20) { m, t in Float(m * 100 + t) }
        var crop: [Float] = []
        CropView.plain.read(x, mels: 2, frames: 20, firstFrame: 15, cropFrames: 10, edge: .wrap, into: &crop)
        #expect(Array(crop[0..<10]) == [15, 16, 17, 18, 19, 0, 1, 2, 3, 4])
        #expect(Array(crop[10..<20]) == [115, 116, 117, 118, 119, 100, 101, 102, 103, 104])
    }

    @Test func shiftMovesRowsAndRepeatsTheBorder() {
        let rows = mel(mels: 8, frames: 6) { m, _ in Float(m) }
        var crop: [Float] = []
        CropView(shift: 2).read(rows, mels: 8, frames: 6, firstFrame: 0, cropFrames: 4, edge: .wrap, into: &crop)
        #expect(stride(from: 0, to: 32, by: 4).map { crop[$0] } == [2, 3, 4, 5, 6, 7, 7, 7])
        CropView(shift: -2).read(rows, mels: 8, frames: 6, firstFrame: 0, cropFrames: 4, edge: .wrap, into: &crop)
        #expect(stride(from: 0, to: 32, by: 4).map { crop[$0] } == [0, 0, 0, 1, 2, 3, 4, 5])
    }

    @Test(arguments: [1.25, 0.8]) func stretchReadsTheNamedFrames(rate: Double) {
        let ramp = mel(mels: 1, frames: 200) { _, t in Float(t) }
        var crop: [Float] = []
        CropView(rate: rate).read(ramp, mels: 1, frames: 200, firstFrame: 50, cropFrames: 40, edge: .wrap, into: &crop)
        for j in 0..<40 {
            let expected = 50 + 20 - 20 * rate + (Double(j) + 0.5) * rate - 0.5
            #expect(abs(Double(crop[j]) - expected) < 1e-4, "frame \(j)")
        }
    }

    @Test func readsPastTheEndWrapOrRepeatTheLastFrame() {
        let ramp = mel(mels: 1, frames: 10) { _, t in Float(t) }
        var crop: [Float] = []
        // Rate 2 over the last 4 frames reads frames 4.5 … 10.5: past the end from the fourth frame on.
        CropView(rate: 2).read(ramp, mels: 1, frames: 10, firstFrame: 6, cropFrames: 4, edge: .clamp, into: &crop)
        #expect(crop == [4.5, 6.5, 8.5, 9])
        CropView(rate: 2).read(ramp, mels: 1, frames: 10, firstFrame: 6, cropFrames: 4, edge: .wrap, into: &crop)
        #expect(crop == [4.5, 6.5, 8.5, 0.5])   // frames 10 and 11 are frames 0 and 1 again
    }

    @Test func viewsGoRoundTheCrops() {
        let crops = ModelCard.Crops(count: 8, frames: 108, views: [.plain, CropView(shift: 2), .plain, CropView(shift: -2)])
        #expect((0..<8).map { crops.view(ofCrop: $0).shift } == [0, 2, 0, -2, 0, 2, 0, -2])
        #expect(crops.view(ofCrop: 1_000_001) == CropView(shift: 2))
        #expect(ModelCard.Crops(count: 8, frames: 108).view(ofCrop: 3) == .plain)
    }
}
