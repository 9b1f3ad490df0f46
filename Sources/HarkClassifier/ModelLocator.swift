import Foundation

/// Finds the model card to load when none is named: `$HARK_MODEL`, else `Models/hark-esc50-hires-nt.json`
/// wherever bundled files live (see `BundledFiles`).
public enum ModelLocator {
    public static let defaultName = "hark-esc50-hires-nt"
    /// Where the default comes from, as the commands' help says it.
    public static let defaultSource = "$HARK_MODEL, else Models/\(defaultName).json"

    public struct NotFound: Error, CustomStringConvertible {
        public var searched: [String]
        public var description: String {
            "no model card found; looked in: \(searched.joined(separator: ", ")). Pass --model PATH/TO/NAME.json"
        }
    }

    public static func locate(explicit: String?) throws -> String {
        if let explicit { return explicit }
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["HARK_MODEL"], !env.isEmpty { candidates.append(env) }
        candidates += BundledFiles.candidates("\(defaultName).json")
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw NotFound(searched: candidates)
    }
}
