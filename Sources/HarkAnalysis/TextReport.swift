import HarkClassifier

/// Human-readable rendering of predictions: emoji, label and a bar per class.
public enum TextReport {
    public static func bar(_ score: Float, width: Int = 24) -> String {
        let clamped = max(0, min(1, Double(score)))
        let eighths = Int((clamped * Double(width) * 8).rounded())
        let blocks = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + blocks[eighths % 8]
    }

    /// Labels are padded to `labelWidth` so the bars of successive windows line up.
    public static func render(_ prediction: WindowPrediction, showStart: Bool, labelWidth: Int = 18) -> String {
        var lines: [String] = []
        let width = max(labelWidth, prediction.top.map(\.label.count).max() ?? 0)
        for (i, s) in prediction.top.enumerated() {
            let time = showStart ? (i == 0 ? pad(String(format: "%7.2f s", prediction.start), 10) : String(repeating: " ", count: 10)) : ""
            let label = s.label.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(time)\(s.emoji) \(label)  \(String(format: "%5.1f%%", s.score * 100))  \(bar(s.score))")
        }
        return lines.joined(separator: "\n")
    }

    private static func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
}

import Foundation
