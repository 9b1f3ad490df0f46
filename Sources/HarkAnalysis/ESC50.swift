import Foundation

/// The ESC-50 dataset layout: `meta/esc50.csv` and `audio/NAME.ogg` (or the original `.wav`).
public struct ESC50Clip: Sendable, Equatable {
    public var path: String
    public var fold: Int
    public var target: Int
    public var category: String
}

public enum ESC50Error: Error, CustomStringConvertible {
    case missingMetadata(path: String)
    case malformedRow(line: Int, text: String)

    public var description: String {
        switch self {
        case .missingMetadata(let path): return "\(path): ESC-50 metadata not found (expected meta/esc50.csv under --data)"
        case .malformedRow(let line, let text): return "esc50.csv line \(line): cannot parse '\(text)'"
        }
    }
}

public enum ESC50 {
    /// Clips of the given folds (all folds when empty), in CSV order. Audio files may be `.ogg`
    /// (the compact copy) or `.wav` (the original release); whichever exists is used.
    public static func clips(root: String, folds: [Int] = []) throws -> [ESC50Clip] {
        let csvPath = URL(fileURLWithPath: root).appendingPathComponent("meta/esc50.csv").path
        guard let text = try? String(contentsOfFile: csvPath, encoding: .utf8) else {
            throw ESC50Error.missingMetadata(path: csvPath)
        }
        var clips: [ESC50Clip] = []
        for (i, line) in text.split(whereSeparator: \.isNewline).enumerated().dropFirst() {
            let cols = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cols.count >= 4, let fold = Int(cols[1]), let target = Int(cols[2]) else {
                throw ESC50Error.malformedRow(line: i + 1, text: String(line))
            }
            if !folds.isEmpty && !folds.contains(fold) { continue }
            let wav = String(cols[0])
            let ogg = wav.replacingOccurrences(of: ".wav", with: ".ogg")
            let audio = URL(fileURLWithPath: root).appendingPathComponent("audio")
            let oggPath = audio.appendingPathComponent(ogg).path
            let path = FileManager.default.fileExists(atPath: oggPath) ? oggPath : audio.appendingPathComponent(wav).path
            clips.append(ESC50Clip(path: path, fold: fold, target: target, category: String(cols[3])))
        }
        return clips
    }
}
