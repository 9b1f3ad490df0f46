import Foundation
import HarkStream

/// How `hark serve` serves. Every default is defined here once; `hark serve --help` and
/// Config/hark.toml's `[server]` section state them, and `ServerSettings.fields` says how each is set.
public struct ServerSettings: Sendable, Equatable {
    /// Address to listen on: loopback unless configured otherwise.
    public var bind = "127.0.0.1"
    public var port = 7460
    /// API tokens, as `sha256:HEX` of the token (`hark token new` prints one). When any is set,
    /// every `/v1` route and the live socket need one.
    public var tokens: [String] = []
    /// How long a browser session (a cookie obtained with a token) lasts.
    public var sessionHours = 12.0
    /// Failed token or cookie attempts per address and minute before 429.
    public var authFailuresPerMinute = 5
    /// Largest upload body `POST /v1/classify` accepts (413 above).
    public var maxUploadBytes = 20 * 1024 * 1024
    /// Longest audio an upload may hold, seconds (413 above).
    public var maxUploadSeconds = 600.0
    /// Uploads waiting for the analysis worker beyond the one it runs; more get 503. As many
    /// again may be arriving at once (their bodies in memory), so at most
    /// `2 × (upload_queue + 1)` uploads are in the server; the next gets 503 before its body is read.
    public var uploadQueue = 4
    /// An upload's body must have arrived this long after its request began (408 after); a
    /// connection whose first request head has not arrived this long after it opened, or idle
    /// this long between requests, is closed: a slow sender cannot hold a slot or a descriptor.
    public var requestTimeoutSeconds = 60.0
    /// Browser origins allowed to open the live socket besides the server's own
    /// (`http://host:port` as the page was served from).
    public var allowedOrigins: [String] = []
    /// The network whose feature maps and log-mel are published (card name; default: the first).
    public var mapsMember: String?
    /// Where the history database and event audio live; nil: `$STATE_DIRECTORY`, else
    /// `$XDG_STATE_HOME/hark`, else `~/.local/state/hark`.
    public var stateDirectory: String?
    /// Events (with their audio) and analyses older than this are deleted…
    public var retentionDays = 30.0
    /// …and beyond this many events, the oldest go.
    public var retentionEvents = 100_000
    /// Seconds between retention passes (each ends with a WAL checkpoint).
    public var retentionCheckSeconds = 3600.0
    /// Keep each event's audio (from a second before its start to its end) as FLAC.
    public var eventAudio = true
    /// An event's audio is cut after this many seconds.
    public var eventAudioMaxSeconds = 30.0
    /// `/health` fails when no audio arrived for this long.
    public var healthAudioSeconds = 5.0
    /// A client that cannot take events for this long is closed with a reason (and counted).
    public var clientEventTimeoutSeconds = 10.0
    /// Telemetry messages held per client; beyond, the oldest is dropped (and counted).
    public var clientTelemetryBuffer = 16
    /// Events held per client; a client this far behind is closed (and counted).
    public var clientEventBuffer = 256
    /// Ping every this often; a client that does not answer within the next period is closed.
    public var heartbeatSeconds = 15.0
    /// Largest message a client may send (its subscription), bytes.
    public var maxInboundMessageBytes = 16 * 1024
    /// Status messages to subscribed clients, seconds between them.
    public var statusIntervalSeconds = 1.0
    /// Live-socket clients at once; more are refused (503).
    public var maxClients = 1000

    public init() {}

    /// Uploads in the server at once — arriving, waiting or being analysed (see `uploadQueue`).
    public var maxUploadsInFlight: Int { 2 * (uploadQueue + 1) }

    /// Whether the address is this machine only.
    public var bindsLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(bind) || bind.hasPrefix("127.") }

    /// The state directory this process uses (see `stateDirectory`).
    public func resolvedStateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let stateDirectory { return stateDirectory }
        // systemd's StateDirectory= may list several, colon-separated: the first is ours.
        if let fromSystemd = environment["STATE_DIRECTORY"]?.split(separator: ":").first { return String(fromSystemd) }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/hark" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/hark"
    }

    /// Every `[server]` key, with its range (a bad value names the key and the range).
    public static let fields: [SettingField<ServerSettings>] = [
        .string("bind") { $0.bind = $1 },
        .integer("port", 0...65535) { $0.port = $1 },
        .strings("tokens") { s, tokens throws(ConfigurationError) in
            for t in tokens where !TokenHash.isValidStored(t) {
                throw .invalid("tokens: '\(t)' is not sha256:<64 hex digits>; `hark token new` prints one")
            }
            s.tokens = tokens
        },
        .number("session_hours", 0.0001...8760) { $0.sessionHours = $1 },
        .integer("auth_failures_per_minute", 1...10_000) { $0.authFailuresPerMinute = $1 },
        .number("max_upload_mb", 0.001...4096) { $0.maxUploadBytes = Int($1 * 1024 * 1024) },
        .number("max_upload_seconds", 1...86_400) { $0.maxUploadSeconds = $1 },
        .integer("upload_queue", 0...1000) { $0.uploadQueue = $1 },
        .number("request_timeout_seconds", 1...3600) { $0.requestTimeoutSeconds = $1 },
        .strings("allowed_origins") { $0.allowedOrigins = $1 },
        .string("maps_member") { $0.mapsMember = $1 },
        .string("state_dir") { $0.stateDirectory = $1 },
        .number("retention_days", 0.000_01...36_500) { $0.retentionDays = $1 },
        .integer("retention_events", 1...100_000_000) { $0.retentionEvents = $1 },
        .number("retention_check_seconds", 0.1...86_400) { $0.retentionCheckSeconds = $1 },
        .boolean("event_audio") { $0.eventAudio = $1 },
        .number("event_audio_max_seconds", 1...600) { $0.eventAudioMaxSeconds = $1 },
        .number("health_audio_seconds", 0.5...3600) { $0.healthAudioSeconds = $1 },
        .number("client_event_timeout_seconds", 0.1...3600) { $0.clientEventTimeoutSeconds = $1 },
        .integer("client_telemetry_buffer", 1...10_000) { $0.clientTelemetryBuffer = $1 },
        .integer("client_event_buffer", 1...100_000) { $0.clientEventBuffer = $1 },
        .number("heartbeat_seconds", 0.5...3600) { $0.heartbeatSeconds = $1 },
        .integer("max_clients", 1...100_000) { $0.maxClients = $1 },
    ]
}

extension ServerSettings: SectionSettings {
    public static let section = "server"
}

/// `[server]` values a layer (the file, the environment, the flags) sets; unset keys fall through.
public typealias ServerOverrides = SectionOverrides<ServerSettings>

/// Every section's layer: what one source of settings (the file, the environment, the flags) sets.
public struct Overrides: Sendable, Equatable {
    public var listen = ListenOverrides()
    public var server = ServerOverrides()
    public var mqtt = MQTTOverrides()

    public init(listen: ListenOverrides = ListenOverrides(), server: ServerOverrides = ServerOverrides(),
                mqtt: MQTTOverrides = MQTTOverrides()) {
        self.listen = listen
        self.server = server
        self.mqtt = mqtt
    }

    /// `self` wins where set.
    public func over(_ base: Overrides) -> Overrides {
        Overrides(listen: listen.over(base.listen), server: server.over(base.server), mqtt: mqtt.over(base.mqtt))
    }
}
