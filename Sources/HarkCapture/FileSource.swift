import Foundation
import HarkAudio

/// Reads an audio file as a live source, block by block, as fast as it is asked (the pipeline
/// paces it to real time when asked to). Ends with `.endOfStream` unless it loops.
public final class FileSource: AudioSource {
    public let path: String
    public let loops: Bool
    public private(set) var format = CaptureFormat(sampleRate: 0, channels: 0)
    public let overruns = 0
    public var name: String { "file:\(path)" }

    private var reader: AudioFileReader?

    public init(path: String, loops: Bool = false) {
        self.path = path
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
        return block
    }

    public func close() { reader = nil }
}
