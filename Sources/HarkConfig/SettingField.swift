import HarkStream
/// Table-driven settings: a section (`[server]`, `[mqtt]`) is a struct of defaults plus a table of
/// fields — each key's name, the kind of value it takes and how a value in range sets it — so that
/// the file, the environment and the flags are read and checked by one piece of code, and a bad
/// value names its key and range.
public protocol SectionSettings: Sendable, Equatable {
    init()
    static var section: String { get }
    static var fields: [SettingField<Self>] { get }
}

extension SectionSettings {
    static func field(_ key: String) -> SettingField<Self>? { fields.first { $0.key == key } }
    static var knownKeys: String { fields.map(\.key).sorted().joined(separator: ", ") }
}

/// A setting's value as a layer (file, environment, flags) gives it.
public enum ConfigValue: Sendable, Equatable {
    case integer(Int), number(Double), boolean(Bool), string(String), strings([String])
}

/// What kind of value a key takes.
public enum SettingKind: Sendable { case integer, number, boolean, string, strings }

/// One key of a section: its name, its kind, and how a value of that kind and in range sets it.
public struct SettingField<Settings>: Sendable {
    public let key: String
    public let kind: SettingKind
    let apply: @Sendable (inout Settings, ConfigValue) throws(ConfigurationError) -> Void

    static func integer(_ key: String, _ range: ClosedRange<Int>, _ set: @escaping @Sendable (inout Settings, Int) -> Void) -> Self {
        .init(key: key, kind: .integer) { s, value throws(ConfigurationError) in
            guard case .integer(let v) = value else { throw .invalid("\(key) must be a whole number") }
            guard range.contains(v) else { throw .invalid("\(key) must be \(range.lowerBound) to \(range.upperBound), got \(v)") }
            set(&s, v)
        }
    }

    static func number(_ key: String, _ range: ClosedRange<Double>, _ set: @escaping @Sendable (inout Settings, Double) -> Void) -> Self {
        .init(key: key, kind: .number) { s, value throws(ConfigurationError) in
            let v: Double
            switch value {
            case .number(let d): v = d
            case .integer(let i): v = Double(i)
            default: throw .invalid("\(key) must be a number")
            }
            guard range.contains(v) else { throw .invalid("\(key) must be \(range.lowerBound) to \(range.upperBound), got \(v)") }
            set(&s, v)
        }
    }

    static func boolean(_ key: String, _ set: @escaping @Sendable (inout Settings, Bool) -> Void) -> Self {
        .init(key: key, kind: .boolean) { s, value throws(ConfigurationError) in
            guard case .boolean(let v) = value else { throw .invalid("\(key) must be true or false") }
            set(&s, v)
        }
    }

    static func string(_ key: String, _ set: @escaping @Sendable (inout Settings, String) throws(ConfigurationError) -> Void) -> Self {
        .init(key: key, kind: .string) { s, value throws(ConfigurationError) in
            guard case .string(let v) = value, !v.isEmpty else { throw .invalid("\(key) must be a non-empty string") }
            try set(&s, v)
        }
    }

    static func strings(_ key: String, _ set: @escaping @Sendable (inout Settings, [String]) throws(ConfigurationError) -> Void) -> Self {
        .init(key: key, kind: .strings) { s, value throws(ConfigurationError) in
            guard case .strings(let v) = value else { throw .invalid("\(key) must be a list of strings") }
            try set(&s, v)
        }
    }
}

/// The values one layer sets in a section; unset keys fall through to the layer below.
public struct SectionOverrides<Settings: SectionSettings>: Sendable, Equatable {
    public var values: [String: ConfigValue] = [:]

    public init() {}

    public subscript(key: String) -> ConfigValue? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// `self` wins where set.
    public func over(_ base: Self) -> Self {
        var m = base
        m.values.merge(values) { _, new in new }
        return m
    }

    /// The settings, each key checked for its kind and range.
    public func settings() throws(ConfigurationError) -> Settings {
        var s = Settings()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let field = Settings.field(key) else {
                throw .invalid("unknown key '\(key)' in [\(Settings.section)]; known: \(Settings.knownKeys)")
            }
            try field.apply(&s, value)
        }
        return s
    }
}
