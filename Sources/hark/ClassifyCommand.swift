import ArgumentParser
import Foundation
import HarkAnalysis
import HarkClassifier

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify audio files (WAV, FLAC, OGG Vorbis/Opus, MP3): top classes per 5-s window.",
        discussion: """
            A file longer than one window gives one result per window, --hop seconds apart, each with its start time.
            JSON output is one object per line: {"file", "start", "end", "top": [{"index","label","emoji","score"}], ...}.
            --maps adds "maps": every exposed layer's feature map as its mean over channels, {"LAYER": {"shape": [h, w],
            "values": [[…], …]}} — what `hark serve` answers as "visualization" for the same file.
            Archives: --files-from LIST (- for stdin) --shard K/N --output shard-K.jsonl classifies the files of the list
            whose path hashes to K of N (the same split on every machine), and resumes: files already in the output are
            skipped. README, "Archives on a cluster".
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, text }

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Output format: json (one object per line) or text (emoji and bars).")
    var format: Format = .json

    @Option(name: .customLong("top-k"), help: "Classes to report per window.")
    var topK: Int = 3

    @Option(help: "Seconds between windows of a file longer than one window.")
    var hop: Double = 1.0

    @Flag(help: "Add every exposed layer's feature map (mean over channels) to each JSON line.")
    var maps = false

    @Option(name: .customLong("files-from"), help: "A list of audio files, one path a line (- for stdin), besides any given as arguments.")
    var filesFrom: String?

    @Option(help: "Only this shard of the files, K/N (0 ≤ K < N; stable by path). (default: 0/1, all)")
    var shard: String?

    @Option(help: "Append the JSON lines to this file instead of stdout, skipping files it already holds (resumable).")
    var output: String?

    @Argument(help: "Audio files.")
    var files: [String] = []

    func validate() throws {
        guard hop > 0 else { throw ValidationError("--hop must be positive") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard !files.isEmpty || filesFrom != nil else { throw ValidationError("give audio files, or --files-from LIST") }
        if let shard, ArchiveShard(parsing: shard) == nil { throw ValidationError("--shard wants K/N with 0 ≤ K < N, e.g. 3/10") }
        if output != nil, format != .json { throw ValidationError("--output writes JSON lines; leave out --format text") }
    }

    func run() throws {
        let shard = shard.flatMap(ArchiveShard.init(parsing:)) ?? .whole
        let listed = try files + (filesFrom.map(ArchiveShard.readList) ?? [])
        let sink = try output.map(ResumableJSONLines.init(path:))
        let todo = listed.filter { shard.contains($0) && !(sink?.done.contains($0) ?? false) }
        let model = try modelOptions.load()
        let classifier = try Classifier(model: model)
        let window = classifier.windowSeconds
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var failures = 0
        for file in todo {
            do {
                let audio = try PreparedAudio.load(path: file, sampleRate: classifier.sampleRate)
                let predictions = try classifier.classify(file: audio, hopSeconds: hop, topK: min(topK, model.labels.count),
                                                          taps: maps ? Set(classifier.exposedLayers) : [])
                switch format {
                case .json:
                    let lines = try predictions.map { p in
                        try encoder.encode(ClassificationRecord(file: file, start: p.start, end: p.start + window, top: p.top,
                                                                duration: audio.durationSeconds,
                                                                nonFiniteSamples: audio.nonFiniteSamples,
                                                                maps: maps ? LayerGrid.channelMeans(p.featureMaps) : nil))
                    }
                    if let sink {
                        try sink.append(file: file, lines: lines)
                    } else {
                        for line in lines { print(String(decoding: line, as: UTF8.self)) }
                    }
                case .text:
                    print("\(file)  (\(String(format: "%.1f", audio.durationSeconds)) s)")
                    if audio.nonFiniteSamples > 0 { print("  note: \(audio.nonFiniteSamples) NaN/Inf samples replaced by 0") }
                    for p in predictions { print(TextReport.render(p, showStart: predictions.count > 1)) }
                }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("hark classify: \(error)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// One line of `hark classify --format json`.
struct ClassificationRecord: Encodable {
    var file: String
    var start: Double
    var end: Double
    var top: [ScoredLabel]
    var duration: Double
    var nonFiniteSamples: Int
    var maps: [String: LayerGrid]?

    enum CodingKeys: String, CodingKey {
        case file, start, end, top, duration, nonFiniteSamples = "non_finite_samples", maps
    }
}
