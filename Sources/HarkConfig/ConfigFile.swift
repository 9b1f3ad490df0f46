import Foundation
import HarkStream
import TOMLKit

/// Reads `hark.toml` (see Config/hark.toml for every key and its default). Unknown keys are
/// errors, so a typo never silently falls back to a default.
public enum ConfigFile {
    /// Where the service looks when no --config is given.
    public static let systemPath = "/etc/hark/hark.toml"

    typealias Kind = SettingKind
    /// The keys of [listen] and [detector] and what kind of value each takes ([server]'s are `ServerSettings.fields`).
    static let listenKeys: [String: Kind] = [
        "source": .string, "model": .string, "threads": .integer, "hop_seconds": .number, "top_k": .integer,
        "emit": .strings, "max_pending_windows": .integer, "crop_placement": .string,
    ]
    static let detectorKeys: [String: Kind] = [
        "on_threshold": .number, "off_threshold": .number, "confirm_windows": .integer, "confirm_of": .integer,
        "hold_seconds": .number, "energy_gate_dbfs": .number, "update_interval_seconds": .number, "allow": .strings,
        "deny": .strings, "detection_score": .string,
    ]

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
        try parse(TOMLTable(string: text))
    }

    static func parse(_ table: TOMLTable) throws -> Overrides {
        for key in table.keys where !["listen", "detector", "server", "mqtt"].contains(key) {
            throw ConfigurationError.invalid("unknown section or key '\(key)' (expected [listen], [detector], [server] and [mqtt])")
        }
        var o = ListenOverrides()
        if let listen = table["listen"]?.table {
            try checkKeys(listen, allowed: Set(listenKeys.keys), section: "listen")
            o.source = try string(listen, "source")
            o.model = try string(listen, "model")
            o.threads = try integer(listen, "threads")
            o.hopSeconds = try number(listen, "hop_seconds")
            o.topK = try integer(listen, "top_k")
            o.emit = try strings(listen, "emit")
            o.maxPendingWindows = try integer(listen, "max_pending_windows")
            o.cropPlacement = try string(listen, "crop_placement")
        }
        if let detector = table["detector"]?.table {
            try checkKeys(detector, allowed: Set(detectorKeys.keys).union(["thresholds"]), section: "detector")
            o.onThreshold = try number(detector, "on_threshold").map(Float.init)
            o.offThreshold = try number(detector, "off_threshold").map(Float.init)
            o.confirmWindows = try integer(detector, "confirm_windows")
            o.confirmOf = try integer(detector, "confirm_of")
            o.holdSeconds = try number(detector, "hold_seconds")
            o.energyGateDBFS = try number(detector, "energy_gate_dbfs")
            o.updateIntervalSeconds = try number(detector, "update_interval_seconds")
            o.allow = try strings(detector, "allow")
            o.deny = try strings(detector, "deny")
            o.detectionScore = try string(detector, "detection_score")
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
        let server: ServerOverrides = try section(table)
        let mqtt: MQTTOverrides = try section(table)
        return Overrides(listen: o, server: server, mqtt: mqtt)
    }

    private static func checkKeys(_ table: TOMLTable, allowed: Set<String>, section: String) throws {
        for key in table.keys where !allowed.contains(key) {
            throw ConfigurationError.invalid("unknown key '\(key)' in [\(section)]; known: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// A table-driven section (`[server]`, `[mqtt]`), each key checked for kind and range at load time.
    private static func section<S: SectionSettings>(_ table: TOMLTable) throws -> SectionOverrides<S> {
        var o = SectionOverrides<S>()
        guard let section = table[S.section]?.table else { return o }
        for key in section.keys {
            guard let field = S.field(key) else {
                throw ConfigurationError.invalid("unknown key '\(key)' in [\(S.section)]; known: \(S.knownKeys)")
            }
            o[key] = try value(section, key, as: field.kind)
        }
        _ = try o.settings()
        return o
    }

    private static func value(_ table: TOMLTable, _ key: String, as kind: SettingKind) throws -> ConfigValue? {
        switch kind {
        case .integer: return try integer(table, key).map(ConfigValue.integer)
        case .number: return try number(table, key).map(ConfigValue.number)
        case .string: return try string(table, key).map(ConfigValue.string)
        case .strings: return try strings(table, key).map(ConfigValue.strings)
        case .boolean:
            guard let v = table[key] else { return nil }
            guard let b = v.bool else { throw ConfigurationError.invalid("\(key) must be true or false") }
            return .boolean(b)
        }
    }

    private static func string(_ table: TOMLTable, _ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let s = value.string else { throw ConfigurationError.invalid("\(key) must be a string") }
        return s
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

    // MARK: environment

    /// The `HARK_LISTEN_…`, `HARK_DETECTOR_…`, `HARK_SERVER_…` and `HARK_MQTT_…` variables as a layer between the
    /// file and the flags: `HARK_SERVER_PORT=8080`, `HARK_LISTEN_HOP_SECONDS=0.5`,
    /// `HARK_DETECTOR_DENY=rain,wind` (lists comma-separated). Checked like the file.
    public static func environment(_ variables: [String: String] = ProcessInfo.processInfo.environment) throws -> Overrides {
        let table = TOMLTable()
        for (name, text) in variables.sorted(by: { $0.key < $1.key }) {
            for section in ["listen", "detector", "server", "mqtt"] {
                let prefix = "HARK_\(section.uppercased())_"
                guard name.hasPrefix(prefix) else { continue }
                let key = name.dropFirst(prefix.count).lowercased()
                let kinds = section == "listen" ? listenKeys : section == "detector" ? detectorKeys
                    : section == "server" ? Dictionary(uniqueKeysWithValues: ServerSettings.fields.map { ($0.key, $0.kind) })
                    : Dictionary(uniqueKeysWithValues: MQTTSettings.fields.map { ($0.key, $0.kind) })
                guard let kind = kinds[key] else {
                    throw ConfigurationError.invalid("\(name): no [\(section)] key '\(key)'; known: \(kinds.keys.sorted().joined(separator: ", "))")
                }
                if table[section] == nil { table[section] = TOMLTable() }
                table[section]?.table?[key] = try tomlValue(text, kind: kind, variable: name)
            }
        }
        return try parse(table)
    }

    private static func tomlValue(_ text: String, kind: Kind, variable: String) throws -> any TOMLValueConvertible {
        switch kind {
        case .string: return text
        case .strings: return TOMLArray(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        case .integer:
            guard let v = Int(text) else { throw ConfigurationError.invalid("\(variable) must be a whole number, got '\(text)'") }
            return v
        case .number:
            guard let v = Double(text) else { throw ConfigurationError.invalid("\(variable) must be a number, got '\(text)'") }
            return v
        case .boolean:
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigurationError.invalid("\(variable) must be true or false, got '\(text)'")
            }
        }
    }
}
