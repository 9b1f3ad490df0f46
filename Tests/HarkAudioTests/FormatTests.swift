import Foundation
import HarkAudio
import Testing
import TestSupport

/// Every compressed format Hark promises decodes to the same tone.
@Suite struct FormatTests {
    @Test(arguments: ["flac", "ogg", "opus", "mp3"])
    func decodesToneIn(format: String) throws {
        let path = TestPaths.fixtures.appendingPathComponent("formats/tone-440hz-stereo.\(format)").path
        let audio = try AudioFileDecoder.decode(path: path)
        #expect(audio.channels == 2)
        #expect(audio.sampleRate == 48000)
        #expect(abs(audio.durationSeconds - 1.5) < 0.06, "\(format): \(audio.durationSeconds) s")
        let mono = audio.mono()
        // The middle half: RMS of a 0.5-amplitude sine is 0.354, and it crosses zero 880 times a second.
        let middle = Array(mono[mono.count / 4..<(3 * mono.count / 4)])
        let rms = (middle.reduce(0.0) { $0 + Double($1 * $1) } / Double(middle.count)).squareRoot()
        #expect(abs(rms - 0.3536) < 0.02, "\(format): rms \(rms)")
        let crossings = zip(middle, middle.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        let hz = Double(crossings) / (Double(middle.count) / 48000)
        #expect(abs(hz - 440) < 3, "\(format): \(hz) Hz")
    }
}
