import Foundation
import HarkClassifier
import HarkEngine
import HarkLiveProtocol
import HarkStream
import NIOCore

/// One window's telemetry messages, each encoded once however many clients receive it (the bytes
/// are shared), and only when some client asked for it. Used on the broadcaster's telemetry thread.
final class EncodedWindow {
    let result: WindowResult
    private let info: LiveStreamInfo
    private let encoder: JSONEncoder
    private var window: ByteBuffer?
    private var spectrograms: [LiveSubscriptionRequest.Columns: ByteBuffer] = [:]
    private var waveform: ByteBuffer??
    private var layers: [String: String] = [:]
    /// `maps` messages by the sorted layer names they hold (clients asking the same share one).
    private var mapsMessages: [[String]: ByteBuffer] = [:]

    init(_ result: WindowResult, info: LiveStreamInfo, encoder: JSONEncoder) {
        self.result = result
        self.info = info
        self.encoder = encoder
    }

    /// The messages for a client that asked for `request`, in a fixed order.
    func messages(for request: LiveSubscriptionRequest) -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        if request.kinds.contains(.window) { out.append(windowMessage()) }
        if request.kinds.contains(.spectrogram), let s = spectrogram(request.columns) { out.append(s) }
        if request.kinds.contains(.waveform), let w = waveformMessage() { out.append(w) }
        if request.kinds.contains(.maps), !request.layers.isEmpty, let m = maps(request.layers) { out.append(m) }
        return out
    }

    private func json(_ value: some Encodable) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private func windowMessage() -> ByteBuffer {
        if let window { return window }
        let text = LiveSocketWire.frame(LiveSocketWire.Window(result), encoder: encoder)
        window = text
        return text
    }

    /// The log-mel's new columns (those the last hop added) or all of them.
    private func spectrogram(_ columns: LiveSubscriptionRequest.Columns) -> ByteBuffer? {
        if let cached = spectrograms[columns] { return cached }
        guard let mel = result.logMel else { return nil }
        let p = info.logMel
        let frames = p.frames, mels = p.nMels
        guard frames > 0, mels > 0, mel.count == mels * frames else { return nil }
        let frameSeconds = Double(p.hopLength) / Double(p.sampleRate)
        let count = columns == .window ? frames
            : Swift.min(frames, Swift.max(1, Int((info.hopSeconds / frameSeconds).rounded())))
        var values = [Float](repeating: 0, count: mels * count)
        for m in 0..<mels {
            for t in 0..<count { values[m * count + t] = mel[m * frames + frames - count + t] }
        }
        let (lo, hi, data) = ByteGrid.encode(values)
        let message = LiveSocketWire.Spectrogram(
            sequence: result.sequence, start: (result.end - Double(count) * frameSeconds).rounded3, end: result.end.rounded3,
            mels: mels, frames: count, frameSeconds: frameSeconds, dbMin: lo, dbMax: hi, data: data)
        let text = LiveSocketWire.frame(message, encoder: encoder)
        spectrograms[columns] = text
        return text
    }

    /// Min/max pairs (at most `LiveSocketWire.waveformPoints`) over the audio the hop added.
    private func waveformMessage() -> ByteBuffer? {
        if let waveform { return waveform }
        guard let samples = result.samples else {
            waveform = .some(nil)
            return nil
        }
        let added = Swift.min(samples.count, Swift.max(1, Int((info.hopSeconds * Double(info.sampleRate)).rounded())))
        let tail = samples[(samples.count - added)...]
        let points = Swift.min(Self.waveformPoints, added)
        var lows = [Float](), highs = [Float]()
        lows.reserveCapacity(points)
        highs.reserveCapacity(points)
        for i in 0..<points {
            let from = tail.startIndex + i * added / points, to = tail.startIndex + (i + 1) * added / points
            var lo = Float.infinity, hi = -Float.infinity
            for s in tail[from..<Swift.max(to, from + 1)] {
                lo = Swift.min(lo, s)
                hi = Swift.max(hi, s)
            }
            lows.append(lo.rounded4)
            highs.append(hi.rounded4)
        }
        let message = LiveSocketWire.Waveform(sequence: result.sequence,
                                              start: (result.end - Double(added) / Double(info.sampleRate)).rounded3,
                                              end: result.end.rounded3, points: points, min: lows, max: highs)
        let text = LiveSocketWire.frame(message, encoder: encoder)
        waveform = .some(text)
        return text
    }

    static let waveformPoints = 1000

    /// A `maps` message with the client's layers (each layer's part encoded once).
    private func maps(_ names: Set<String>) -> ByteBuffer? {
        let key = names.sorted()
        if let cached = mapsMessages[key] { return cached }
        let parts = key.compactMap { layer($0) }
        guard !parts.isEmpty else { return nil }
        let text = #"{"end":\#(result.end.rounded3),"layers":[\#(parts.joined(separator: ","))],"sequence":\#(result.sequence),"#
            + #""start":\#(result.start.rounded3),"type":"maps"}"#
        let message = ByteBuffer(string: text)
        mapsMessages[key] = message
        return message
    }

    private func layer(_ name: String) -> String? {
        if let cached = layers[name] { return cached }
        guard let map = result.featureMaps[name] else { return nil }
        let (lo, hi, data) = ByteGrid.encode(map.channelMean())
        let text = json(LiveSocketWire.LayerMap(name: name, shape: [map.shape.channels, map.shape.height, map.shape.width],
                                                height: map.shape.height, width: map.shape.width, min: lo, max: hi, data: data))
        layers[name] = text
        return text
    }
}
