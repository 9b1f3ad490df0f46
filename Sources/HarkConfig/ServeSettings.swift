import HarkStream

/// How `hark serve` serves. Every default is defined here once; `hark serve --help` and
/// Config/hark.toml's `[serve]` section state them.
public struct ServeSettings: Sendable, Equatable {
    /// Address to listen on: loopback unless configured otherwise.
    public var bind = "127.0.0.1"
    public var port = 7460
    /// Largest upload body `POST /v1/classify` accepts (413 above).
    public var maxUploadBytes = 20 * 1024 * 1024
    /// Longest audio an upload may hold, seconds (413 above).
    public var maxUploadSeconds = 600.0
    /// Uploads waiting for the analysis worker beyond the one it runs; more get 503.
    public var uploadQueue = 4
    /// Browser origins allowed to open the live socket besides the server's own
    /// (`http://host:port` as the page was served from).
    public var allowedOrigins: [String] = []
    /// The network whose feature maps and log-mel are published (card name; default: the first).
    public var mapsMember: String?
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

    /// Checks the values that have a valid range.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw .invalid("port must be 0-65535, got \(port)") }
        guard maxUploadBytes > 0 else { throw .invalid("max_upload_mb must be positive") }
        guard maxUploadSeconds > 0 else { throw .invalid("max_upload_seconds must be positive") }
        guard uploadQueue >= 0 else { throw .invalid("upload_queue must be 0 or more") }
        guard clientEventTimeoutSeconds > 0 else { throw .invalid("client_event_timeout_seconds must be positive") }
        guard clientTelemetryBuffer >= 1 else { throw .invalid("client_telemetry_buffer must be at least 1") }
        guard heartbeatSeconds > 0 else { throw .invalid("heartbeat_seconds must be positive") }
        guard maxClients >= 1 else { throw .invalid("max_clients must be at least 1") }
    }
}

/// `[serve]` settings a layer (the config file, then flags) may set; unset fields fall through.
public struct ServeOverrides: Sendable, Equatable {
    public var bind: String?
    public var port: Int?
    public var maxUploadMegabytes: Double?
    public var maxUploadSeconds: Double?
    public var uploadQueue: Int?
    public var allowedOrigins: [String]?
    public var mapsMember: String?
    public var clientEventTimeoutSeconds: Double?
    public var clientTelemetryBuffer: Int?
    public var heartbeatSeconds: Double?
    public var maxClients: Int?

    public init() {}

    public func over(_ base: ServeOverrides) -> ServeOverrides {
        var m = ServeOverrides()
        m.bind = bind ?? base.bind
        m.port = port ?? base.port
        m.maxUploadMegabytes = maxUploadMegabytes ?? base.maxUploadMegabytes
        m.maxUploadSeconds = maxUploadSeconds ?? base.maxUploadSeconds
        m.uploadQueue = uploadQueue ?? base.uploadQueue
        m.allowedOrigins = allowedOrigins ?? base.allowedOrigins
        m.mapsMember = mapsMember ?? base.mapsMember
        m.clientEventTimeoutSeconds = clientEventTimeoutSeconds ?? base.clientEventTimeoutSeconds
        m.clientTelemetryBuffer = clientTelemetryBuffer ?? base.clientTelemetryBuffer
        m.heartbeatSeconds = heartbeatSeconds ?? base.heartbeatSeconds
        m.maxClients = maxClients ?? base.maxClients
        return m
    }

    public func settings() throws(ConfigurationError) -> ServeSettings {
        var s = ServeSettings()
        if let v = bind { s.bind = v }
        if let v = port { s.port = v }
        if let v = maxUploadMegabytes { s.maxUploadBytes = Int(v * 1024 * 1024) }
        if let v = maxUploadSeconds { s.maxUploadSeconds = v }
        if let v = uploadQueue { s.uploadQueue = v }
        if let v = allowedOrigins { s.allowedOrigins = v }
        if let v = mapsMember { s.mapsMember = v }
        if let v = clientEventTimeoutSeconds { s.clientEventTimeoutSeconds = v }
        if let v = clientTelemetryBuffer { s.clientTelemetryBuffer = v }
        if let v = heartbeatSeconds { s.heartbeatSeconds = v }
        if let v = maxClients { s.maxClients = v }
        try s.validate()
        return s
    }
}

/// Every section's layer: what one source of settings (the file, the flags) sets.
public struct Overrides: Sendable, Equatable {
    public var listen = ListenOverrides()
    public var serve = ServeOverrides()

    public init(listen: ListenOverrides = ListenOverrides(), serve: ServeOverrides = ServeOverrides()) {
        self.listen = listen
        self.serve = serve
    }

    /// `self` wins where set.
    public func over(_ base: Overrides) -> Overrides {
        Overrides(listen: listen.over(base.listen), serve: serve.over(base.serve))
    }
}
