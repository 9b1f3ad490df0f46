import Foundation
import HarkStream
import TOMLKit

/// Reads `hark.toml` (see Config/hark.toml for every key and its default). Unknown keys are
/// errors, so a typo never silently falls back to a default.
public enum ConfigFile {
    /// Where the service looks when no --config is given.
    public static let systemPath = "/etc/hark/hark.toml"

    static let listenKeys: Set<String> = ["source", "model", "threads", "hop_seconds", "top_k", "emit", "max_pending_windows"]
    static let detectorKeys: Set<String> = ["on_threshold", "off_threshold", "confirm_windows", "confirm_of", "hold_seconds",
                                            "energy_gate_dbfs", "update_interval_seconds", "allow", "deny", "thresholds"]
    static let serveKeys: Set<String> = ["bind", "port", "max_upload_mb", "max_upload_seconds", "upload_queue", "allowed_origins",
                                         "maps_member", "client_event_timeout_seconds", "client_telemetry_buffer",
                                         "heartbeat_seconds", "max_clients"]

    public static func load(path: String) throws(ConfigurationError) -> Overrides {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .unreadable(path: path, reason: "cannot read the configuration file")
        }
        do {
            return try parse(text)
        } catch let error as ConfigurationError {
            throw .unreadable(path: path, reason: error.description)
        } catch {
            throw .unreadable(path: path, reason: "not valid TOML: \(error)")
        }
    }

    public static func parse(_ text: String) throws -> Overrides {
        let table = try TOMLTable(string: text)
        for key in table.keys where !["listen", "detector", "serve"].contains(key) {
            throw ConfigurationError.invalid("unknown section or key '\(key)' (expected [listen], [detector] and [serve])")
        }
        var o = ListenOverrides()
        if let listen = table["listen"]?.table {
            try checkKeys(listen, allowed: listenKeys, section: "listen")
            o.source = listen["source"]?.string
            o.model = listen["model"]?.string
            o.threads = try integer(listen, "threads")
            o.hopSeconds = try number(listen, "hop_seconds")
            o.topK = try integer(listen, "top_k")
            o.emit = try strings(listen, "emit")
            o.maxPendingWindows = try integer(listen, "max_pending_windows")
        }
        if let detector = table["detector"]?.table {
            try checkKeys(detector, allowed: detectorKeys, section: "detector")
            o.onThreshold = try number(detector, "on_threshold").map(Float.init)
            o.offThreshold = try number(detector, "off_threshold").map(Float.init)
            o.confirmWindows = try integer(detector, "confirm_windows")
            o.confirmOf = try integer(detector, "confirm_of")
            o.holdSeconds = try number(detector, "hold_seconds")
            o.energyGateDBFS = try number(detector, "energy_gate_dbfs")
            o.updateIntervalSeconds = try number(detector, "update_interval_seconds")
            o.allow = try strings(detector, "allow")
            o.deny = try strings(detector, "deny")
            if let thresholds = detector["thresholds"]?.table {
                for label in thresholds.keys {
                    guard let pair = thresholds[label]?.table, let on = try number(pair, "on") else {
                        throw ConfigurationError.invalid("detector.thresholds.\(label) needs { on = …, off = … }")
                    }
                    let off = try number(pair, "off") ?? on * 0.6
                    o.classThresholds[label] = DetectorConfig.Thresholds(on: Float(on), off: Float(off))
                }
            }
        }
        var serve = ServeOverrides()
        if let table = table["serve"]?.table {
            try checkKeys(table, allowed: serveKeys, section: "serve")
            serve.bind = table["bind"]?.string
            serve.port = try integer(table, "port")
            serve.maxUploadMegabytes = try number(table, "max_upload_mb")
            serve.maxUploadSeconds = try number(table, "max_upload_seconds")
            serve.uploadQueue = try integer(table, "upload_queue")
            serve.allowedOrigins = try strings(table, "allowed_origins")
            serve.mapsMember = table["maps_member"]?.string
            serve.clientEventTimeoutSeconds = try number(table, "client_event_timeout_seconds")
            serve.clientTelemetryBuffer = try integer(table, "client_telemetry_buffer")
            serve.heartbeatSeconds = try number(table, "heartbeat_seconds")
            serve.maxClients = try integer(table, "max_clients")
        }
        return Overrides(listen: o, serve: serve)
    }

    private static func checkKeys(_ table: TOMLTable, allowed: Set<String>, section: String) throws {
        for key in table.keys where !allowed.contains(key) {
            throw ConfigurationError.invalid("unknown key '\(key)' in [\(section)]; known: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    private static func integer(_ table: TOMLTable, _ key: String) throws -> Int? {
        guard let value = table[key] else { return nil }
        guard let i = value.int else { throw ConfigurationError.invalid("\(key) must be a whole number") }
        return i
    }

    /// Accepts 1 or 1.0 alike.
    private static func number(_ table: TOMLTable, _ key: String) throws -> Double? {
        guard let value = table[key] else { return nil }
        if let d = value.double { return d }
        if let i = value.int { return Double(i) }
        throw ConfigurationError.invalid("\(key) must be a number")
    }

    private static func strings(_ table: TOMLTable, _ key: String) throws -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw ConfigurationError.invalid("\(key) must be a list of strings") }
        return try array.map { item in
            guard let s = item.string else { throw ConfigurationError.invalid("\(key) must be a list of strings") }
            return s
        }
    }
}
