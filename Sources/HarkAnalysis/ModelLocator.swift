import Foundation

/// Finds the model card to load when none is named: `$HARK_MODEL`, then `Models/` in the working
/// directory, beside the executable's install prefix, and in the source tree it was built from.
public enum ModelLocator {
    public static let defaultName = "hark-esc50"

    public struct NotFound: Error, CustomStringConvertible {
        public var searched: [String]
        public var description: String {
            "no model card found; looked in: \(searched.joined(separator: ", ")). Pass --model PATH/TO/NAME.json"
        }
    }

    public static func locate(explicit: String?, executable: String = CommandLine.arguments.first ?? "hark",
                              sourceRoot: String = #filePath) throws -> String {
        if let explicit { return explicit }
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["HARK_MODEL"], !env.isEmpty { candidates.append(env) }
        let file = "\(defaultName).json"
        candidates.append(FileManager.default.currentDirectoryPath + "/Models/" + file)
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("share/hark/Models/\(file)").path)
        // .build/<config>/hark → package root (development builds).
        var dir = exe
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("Models/\(file)").path)
            dir = dir.deletingLastPathComponent()
        }
        // Sources/HarkAnalysis/ModelLocator.swift → package root.
        let root = URL(fileURLWithPath: sourceRoot).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent("Models/\(file)").path)
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw NotFound(searched: candidates)
    }
}
