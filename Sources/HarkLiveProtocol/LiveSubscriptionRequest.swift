import Foundation
import HarkStream

/// What a live-socket client asks for: message kinds, the layers whose maps it wants, a maximum
/// telemetry rate and the spectrogram's columns. Given in the query string when it connects
/// (`/v1/live?kinds=event,maps&layers=layer1,layer4&max_rate=2`) and/or as a `subscribe` message,
/// which it may send again at any time to change it.
public struct LiveSubscriptionRequest: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case event, window, spectrogram, waveform, maps, status
    }
    public enum Columns: String, Sendable, Codable {
        /// Only the columns the hop added (a scrolling view).
        case new
        /// The whole window's columns.
        case window
    }

    public var kinds: Set<Kind> = [.event, .window, .status]
    public var layers: Set<String> = []
    /// Telemetry (window, spectrogram, waveform, maps) at most this many windows a second; nil: every window.
    public var maxRate: Double?
    public var columns: Columns = .new

    /// What the pipeline must compute for this client.
    public var interest: Interest {
        Interest(windows: !kinds.isDisjoint(with: [.window, .spectrogram, .waveform, .maps]),
                 layers: kinds.contains(.maps) ? layers : [], logMel: kinds.contains(.spectrogram),
                 audio: kinds.contains(.waveform))
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// The subscribe message, as the client sends it.
    public struct Message: Decodable, Sendable {
        var type: String
        var kinds: [String]?
        var layers: [String]?
        var maxRate: Double?
        var spectrogram: String?

        enum CodingKeys: String, CodingKey { case type, kinds, layers, maxRate = "max_rate", spectrogram }
    }

    /// The defaults: events, windows and status.
    public init() {}

    /// From the query string: `kinds`, `layers` (comma separated), `max_rate`, `spectrogram`.
    public init(query: [String: String], layers available: [String]) throws(Invalid) {
        try apply(kinds: query["kinds"].map(Self.list), layers: query["layers"].map(Self.list),
                  maxRate: try query["max_rate"].map { text throws(Invalid) in
                      guard let v = Double(text) else { throw Invalid(description: "max_rate must be a number, got '\(text)'") }
                      return v
                  },
                  columns: query["spectrogram"], available: available)
    }

    /// Applies a `subscribe` message: what it states replaces what was asked before.
    public mutating func apply(_ message: Message, layers available: [String]) throws(Invalid) {
        guard message.type == "subscribe" else {
            throw Invalid(description: "unknown message type '\(message.type)'; clients send {\"type\":\"subscribe\", …}")
        }
        try apply(kinds: message.kinds, layers: message.layers, maxRate: message.maxRate, columns: message.spectrogram,
                  available: available)
    }

    private mutating func apply(kinds: [String]?, layers: [String]?, maxRate: Double?, columns: String?,
                                available: [String]) throws(Invalid) {
        var next = self
        if let kinds {
            next.kinds = []
            for name in kinds {
                guard let kind = Kind(rawValue: name) else {
                    throw Invalid(description: "unknown kind '\(name)'; kinds: \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                next.kinds.insert(kind)
            }
        }
        if let layers {
            for name in layers where !available.contains(name) {
                throw Invalid(description: "unknown layer '\(name)'; layers: \(available.joined(separator: ", "))")
            }
            next.layers = Set(layers)
        }
        if let maxRate {
            guard maxRate >= 0, maxRate.isFinite else { throw Invalid(description: "max_rate must be 0 (no limit) or more") }
            next.maxRate = maxRate == 0 ? nil : maxRate
        }
        if let columns {
            guard let c = Columns(rawValue: columns) else { throw Invalid(description: "spectrogram must be 'new' or 'window'") }
            next.columns = c
        }
        self = next
    }

    private static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// As echoed to the client in `hello` and in a `subscribed` reply.
    public var echo: Echo {
        Echo(kinds: kinds.map(\.rawValue).sorted(), layers: layers.sorted(), maxRate: maxRate, spectrogram: columns.rawValue)
    }

    public struct Echo: Encodable, Sendable {
        var kinds: [String]
        var layers: [String]
        var maxRate: Double?
        var spectrogram: String
        enum CodingKeys: String, CodingKey { case kinds, layers, maxRate = "max_rate", spectrogram }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kinds, forKey: .kinds)
            try c.encode(layers, forKey: .layers)
            try c.encode(maxRate, forKey: .maxRate)
            try c.encode(spectrogram, forKey: .spectrogram)
        }
    }
}
