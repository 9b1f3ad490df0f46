import Foundation

/// The bundled demo recording (a minute of fold-5 ESC-50 clips; see Models/demo/ATTRIBUTION.md).
public enum DemoAudio {
    public static let fileName = "demo.ogg"

    public static func locate(executable: String = CommandLine.arguments.first ?? "hark", sourceRoot: String = #filePath) -> String? {
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [FileManager.default.currentDirectoryPath + "/Models/demo/" + fileName,
                          exe.deletingLastPathComponent().appendingPathComponent("share/hark/Models/demo/\(fileName)").path]
        var dir = exe
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("Models/demo/\(fileName)").path)
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: sourceRoot).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent("Models/demo/\(fileName)").path)
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
