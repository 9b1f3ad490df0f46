import Foundation

/// Locations the tests share: the package root, the parity fixtures, ESC-50, the built binary.
public enum TestPaths {
    /// The package root (this file is Tests/TestSupport/Paths.swift).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static let fixtures = root.appendingPathComponent("Tests/Fixtures")
    public static let models = root.appendingPathComponent("Models")

    /// ESC-50 beside the project (`../shared/datasets/esc50`), or $HARK_ESC50.
    public static var esc50: URL {
        if let env = ProcessInfo.processInfo.environment["HARK_ESC50"] { return URL(fileURLWithPath: env) }
        return root.deletingLastPathComponent().appendingPathComponent("shared/datasets/esc50")
    }

    public static func esc50Clip(_ name: String) -> String {
        esc50.appendingPathComponent("audio").appendingPathComponent(name).path
    }

    /// A fresh private temporary folder.
    public static func temporaryDirectory(_ label: String = "hark-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
