import Foundation
import HarkAudio

/// Plays an audio file as a live source: at real-time pace (like a microphone) or as fast as the
/// pipeline takes it. Ends with `.endOfStream` unless it loops.
public final class FileSource: AudioSource {
    public let path: String
    public let realTime: Bool
    public let loops: Bool
    public private(set) var format = CaptureFormat(sampleRate: 0, channels: 0)
    public let overruns = 0
    public var name: String { "file:\(path)" }

    private var reader: AudioFileReader?
    private var started: DispatchTime?
    private var framesDelivered = 0

    public init(path: String, realTime: Bool, loops: Bool = false) {
        self.path = path
        self.realTime = realTime
        self.loops = loops
    }

    public func open() throws(CaptureError) {
        do {
            let reader = try AudioFileReader(path: path)
            self.reader = reader
            format = CaptureFormat(sampleRate: reader.sampleRate, channels: reader.channels)
        } catch {
            throw .unreadableInput(source: name, reason: error.description)
        }
        started = nil
        framesDelivered = 0
    }

    public func read() throws(CaptureError) -> [Float] {
        guard let reader else { throw .disconnected(source: name, reason: "not open") }
        let frames = CaptureBlock.frames(rate: format.sampleRate)
        var block: [Float]
        do {
            block = try reader.read(maxFrames: frames)
            if block.isEmpty && loops {
                try open()
                block = try self.reader?.read(maxFrames: frames) ?? []
            }
        } catch let error as AudioDecodingError {
            throw .unreadableInput(source: name, reason: error.description)
        } catch let error as CaptureError {
            throw error
        } catch {
            throw .disconnected(source: name, reason: "\(error)")
        }
        if block.isEmpty { throw .endOfStream(source: name) }
        SampleSanitizer.replaceNonFinite(&block)
        if realTime { pace(deliveringFrames: block.count / max(format.channels, 1)) }
        return block
    }

    public func close() { reader = nil }

    /// Sleeps until the wall clock reaches the end of the block about to be delivered, so the
    /// stream never runs ahead of real time (and never drifts: the target is absolute).
    private func pace(deliveringFrames frames: Int) {
        let start = started ?? DispatchTime.now()
        started = start
        framesDelivered += frames
        let due = start.uptimeNanoseconds + UInt64(Double(framesDelivered) / Double(format.sampleRate) * 1e9)
        let now = DispatchTime.now().uptimeNanoseconds
        if due > now { usleep(UInt32(min((due - now) / 1000, UInt64(UInt32.max)))) }
    }
}
