import Foundation
import HarkCapture
import HarkClassifier
import HarkEngine
import HarkStream

/// What a live run is built from: the command line's settings layer and capture options.
/// `hark listen`, `hark serve` and tests fill it and call `LiveRun.build`.
public struct LiveOptions: Sendable {
    /// `--config`; nil reads `ConfigFile.systemPath` when it exists.
    public var configPath: String?
    /// What the flags set; they win over the file.
    public var flags = Overrides()
    /// Play the bundled demo recording as a live stream.
    public var demo = false
    /// Deliver audio at real-time pace (files play like a microphone; stdin cannot wait).
    public var realtime = false
    /// Start file sources again at their end.
    public var loops = false
    /// Loop the demo recording when it plays (a service should not stop after a minute).
    public var loopsDemo = false
    /// Raw stdin / ALSA sample format, capture rate and channels.
    public var format: String?
    public var rate: Int?
    public var channels: Int?

    public init() {}
}

/// A live run, built and not yet started: the pipeline (subscribe to its hub, then `start()`),
/// the model, and the settings every layer resolved to.
public struct LiveRun: Sendable {
    public let pipeline: LivePipeline
    public let model: ModelEnsemble
    /// The resolved layers: flags over the environment over the file over the model card's `detection`.
    public let overrides: Overrides
    public let settings: LiveSettings
    public let source: SourceSpec
    /// What the operator should hear before the run starts (say, no microphone: the demo plays).
    public let notices: [String]

    /// Layers the settings (defaults ← the model card's fitted detection ← file ← `HARK_…` environment ← flags), picks the source (the microphone, else the
    /// demo), applies the back-pressure rule (files and stdin may wait for the model unless paced;
    /// devices never do), sets the BLAS threads, loads the model and builds the pipeline.
    public static func build(_ options: LiveOptions) throws -> LiveRun {
        let fromFile = try loadConfig(options.configPath)
        var overrides = options.flags.over(try ConfigFile.environment().over(fromFile))
        // The model first: its card's fitted detection settings are the layer under all the others.
        let modelPath = try ModelLocator.locate(explicit: overrides.listen.model)
        let model = try ModelEnsemble.load(cardPath: modelPath)
        overrides.listen = overrides.listen.over(calibration: model.detection)
        var settings = try overrides.listen.settings()
        var notices: [String] = []
        let explicit = overrides.listen.source
        let spec: SourceSpec
        let playsDemo: Bool
        if options.demo {
            spec = .file(path: try demoPath())
            playsDemo = true
        } else if let text = explicit {
            spec = try SourceSpec(parsing: text)
            playsDemo = false
        } else if let found = SourceFactory.defaultSpec() {
            spec = found
            playsDemo = false
        } else {
            let path = try demoPath(reason: "no microphone found (no PulseAudio server, no ALSA capture device) and no demo recording; pass --source")
            notices.append("no microphone found; playing the bundled demo recording (\(path)) as a live stream")
            spec = .file(path: path)
            playsDemo = true
        }
        // Files and stdin can wait for the model; devices cannot (they drop and count instead).
        switch spec {
        case .file, .standardInput: settings.backPressure = !(options.realtime || playsDemo)
        case .alsa, .pulse: settings.backPressure = false
        }
        settings.paceToRealTime = options.realtime || playsDemo
        BLASThreads.set(overrides.listen.threads ?? 1)
        settings.startupNote = BLASKernel.genericKernelAdvice   // on the status channel: stderr stays JSON lines
        let factory = try SourceFactory(spec: spec, loops: options.loops || (playsDemo && options.loopsDemo), format: options.format,
                                        rate: options.rate, channels: options.channels)
        let server = try overrides.server.settings()
        let pipeline = try LivePipeline(model: model, settings: settings, mapsMember: server.mapsMember, makeSource: factory.make)
        return LiveRun(pipeline: pipeline, model: model, overrides: overrides, settings: settings, source: spec, notices: notices)
    }

    private static func loadConfig(_ path: String?) throws -> Overrides {
        if let path { return try ConfigFile.load(path: path) }
        if FileManager.default.fileExists(atPath: ConfigFile.systemPath) { return try ConfigFile.load(path: ConfigFile.systemPath) }
        return Overrides()
    }

    private static func demoPath(reason: String = "the bundled demo recording was not found") throws -> String {
        guard let path = DemoAudio.locate() else { throw LiveSetupError(description: reason) }
        return path
    }
}

/// A live run that cannot be set up (no source to listen to).
public struct LiveSetupError: Error, CustomStringConvertible {
    public var description: String
}
