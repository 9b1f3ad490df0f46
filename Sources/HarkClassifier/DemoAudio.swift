/// The bundled demo recording (a minute of fold-5 ESC-50 clips; see Models/demo/ATTRIBUTION.md).
public enum DemoAudio {
    public static let relativePath = "demo/demo.ogg"

    public static func locate() -> String? { BundledFiles.first(relativePath) }
}
