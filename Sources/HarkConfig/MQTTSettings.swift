import Foundation
import HarkStream

/// Events to an MQTT broker (`[mqtt]`, `HARK_MQTT_…`, `--mqtt URL`): off unless a URL is set. Every
/// default is defined here once; Config/hark.toml's `[mqtt]` section states them.
public struct MQTTSettings: SectionSettings {
    public static let section = "mqtt"

    /// `mqtt://host[:port]` or `mqtts://host[:port]` (TLS); nil: no MQTT.
    public var url: String?
    /// This node's name in the topics (`PREFIX/NODE/…`); default: the host name.
    public var node: String?
    /// Default: `hark-NODE`.
    public var clientID: String?
    public var username: String?
    public var password: String?
    /// TLS: the CA to trust (default: the system's), and a client certificate and key.
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var topicPrefix = "hark"
    /// QoS of the event and state topics (the level topic is always 0).
    public var qos = 1
    public var keepaliveSeconds = 60
    /// Home Assistant MQTT discovery: a binary sensor per watched label and a level sensor.
    public var discovery = false
    public var discoveryPrefix = "homeassistant"
    /// Publish the sound level (dBFS) on `PREFIX/NODE/level`, at most every `levelIntervalSeconds`.
    public var level = false
    public var levelIntervalSeconds = 10.0
    /// Events (and state changes) kept while the broker is away or has not acknowledged them; the
    /// level is dropped first, then the oldest event (both counted).
    public var outboxEvents = 1000

    public init() {}

    public var enabled: Bool { url != nil }

    /// The node name in force.
    public var resolvedNode: String {
        if let node { return node }
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Self.topicSafe(host.isEmpty ? "hark" : host)
    }

    /// Letters, digits, `-` and `_` only (no `/`, `+`, `#` in a topic level).
    static func topicSafe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// Host, port and TLS of `url`.
    public var broker: (host: String, port: Int, tls: Bool)? {
        guard let url, let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else { return nil }
        let tls = parts.scheme == "mqtts"
        return (host, parts.port ?? (tls ? 8883 : 1883), tls)
    }

    public static let fields: [SettingField<MQTTSettings>] = [
        .string("url") { s, v throws(ConfigurationError) in
            guard let c = URLComponents(string: v), ["mqtt", "mqtts"].contains(c.scheme ?? ""), c.host?.isEmpty == false else {
                throw .invalid("url must be mqtt://host[:port] or mqtts://host[:port], got '\(v)'")
            }
            s.url = v
        },
        .string("node") { s, v throws(ConfigurationError) in
            guard topicSafe(v) == v else { throw .invalid("node may hold letters, digits, - and _ only, got '\(v)'") }
            s.node = v
        },
        .string("client_id") { $0.clientID = $1 },
        .string("username") { $0.username = $1 },
        .string("password") { $0.password = $1 },
        .string("ca_file") { $0.caFile = $1 },
        .string("cert_file") { $0.certFile = $1 },
        .string("key_file") { $0.keyFile = $1 },
        .string("topic_prefix") { s, v throws(ConfigurationError) in
            guard !v.contains("+"), !v.contains("#"), !v.hasPrefix("/"), !v.hasSuffix("/") else {
                throw .invalid("topic_prefix may not hold + or # nor start or end with /, got '\(v)'")
            }
            s.topicPrefix = v
        },
        .integer("qos", 0...2) { $0.qos = $1 },
        .integer("keepalive_seconds", 5...3600) { $0.keepaliveSeconds = $1 },
        .boolean("discovery") { $0.discovery = $1 },
        .string("discovery_prefix") { $0.discoveryPrefix = $1 },
        .boolean("level") { $0.level = $1 },
        .number("level_interval_seconds", 0.25...3600) { $0.levelIntervalSeconds = $1 },
        .integer("outbox_events", 10...1_000_000) { $0.outboxEvents = $1 },
    ]
}

/// `[mqtt]` values a layer sets; unset keys fall through.
public typealias MQTTOverrides = SectionOverrides<MQTTSettings>
