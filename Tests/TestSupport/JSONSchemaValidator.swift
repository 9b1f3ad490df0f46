import Foundation

/// Checks JSON values against the subset of JSON Schema (2020-12) our frozen schemas use:
/// type (or type lists), const, enum, required, properties, additionalProperties: false,
/// items, minimum, maximum, oneOf and local $ref. Returns what is wrong, or nothing.
public struct JSONSchemaValidator {
    let root: [String: Any]

    public init(schemaAt url: URL) throws {
        guard let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        self.root = root
    }

    /// Problems with one JSON text (empty when valid).
    public func problems(in text: String) -> [String] {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            return ["not JSON: \(text)"]
        }
        return check(value, root, "$")
    }

    /// A parsed JSON value that keeps booleans, integers and other numbers apart.
    enum JSONValue: Decodable, CustomStringConvertible {
        case null, bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let i = try? c.decode(Int.self) { self = .integer(i) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
            else { self = .object(try c.decode([String: JSONValue].self)) }
        }

        var typeName: String {
            switch self {
            case .null: "null"
            case .bool: "boolean"
            case .integer: "integer"
            case .number: "number"
            case .string: "string"
            case .array: "array"
            case .object: "object"
            }
        }

        var description: String {
            switch self {
            case .null: "null"
            case .bool(let b): "\(b)"
            case .integer(let i): "\(i)"
            case .number(let d): "\(d)"
            case .string(let s): s
            case .array(let a): "\(a)"
            case .object(let o): "\(o)"
            }
        }

        var numeric: Double? {
            switch self {
            case .integer(let i): Double(i)
            case .number(let d): d
            default: nil
            }
        }
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/") else { return schema }
        var node: Any = root
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] as Any }
        return node as? [String: Any] ?? [:]
    }

    private func check(_ value: JSONValue, _ raw: [String: Any], _ path: String) -> [String] {
        let schema = resolve(raw)
        var out: [String] = []
        if let options = schema["oneOf"] as? [[String: Any]] {
            let passing = options.filter { check(value, $0, path).isEmpty }.count
            if passing != 1 { out.append("\(path): matches \(passing) of the oneOf alternatives, expected exactly 1") }
        }
        let actual = value.typeName
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [(type as? String) ?? ""]
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok { return out + ["\(path): is \(actual), expected \(allowed.joined(separator: " or "))"] }
        }
        if let c = schema["const"], "\(c)" != value.description { out.append("\(path): is \(value), expected \(c)") }
        if let e = schema["enum"] as? [Any], !e.contains(where: { "\($0)" == value.description }) {
            out.append("\(path): \(value) is not one of \(e)")
        }
        if let n = value.numeric {
            if let min = (schema["minimum"] as? NSNumber)?.doubleValue, n < min { out.append("\(path): \(n) < \(min)") }
            if let max = (schema["maximum"] as? NSNumber)?.doubleValue, n > max { out.append("\(path): \(n) > \(max)") }
        }
        if case .object(let object) = value {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                out.append("\(path): lacks required '\(key)'")
            }
            for (key, v) in object {
                if let sub = properties[key] as? [String: Any] {
                    out += check(v, sub, "\(path).\(key)")
                } else if (schema["additionalProperties"] as? Bool) == false {
                    out.append("\(path): unexpected key '\(key)'")
                }
            }
        }
        if case .array(let array) = value, let items = schema["items"] as? [String: Any] {
            for (i, v) in array.enumerated() { out += check(v, items, "\(path)[\(i)]") }
        }
        return out
    }
}
