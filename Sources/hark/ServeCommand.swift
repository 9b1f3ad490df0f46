import ArgumentParser
import Foundation
import HarkConfig
import HarkServer
import HarkStream
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let defaults = ServerSettings()
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Listen continuously and serve the live stream over a WebSocket and file analysis over HTTP.",
        discussion: """
            Runs the live pipeline as `hark listen` does (events as JSON lines on stdout, status on stderr) and an
            HTTP server, by default on http://\(defaults.bind):\(defaults.port):
              GET  /v1/live       WebSocket: events, windows, spectrogram, waveform, feature maps, status
                                  (?kinds=event,window,maps&layers=layer1,layer4&max_rate=2; docs/live-socket.md)
              POST /v1/classify   a WAV/FLAC/OGG/MP3 file (audio/*, multipart/form-data or {"audio_data": base64})
                                  → top-3, every layer's feature map, spectrogram, waveform, per-window results
              GET  /v1/model, /v1/devices, /v1/status
            Logs go to stderr. SIGINT/SIGTERM end open events (on stdout and the socket), close the live
            clients with "going away" and exit 0.
            """)

    @OptionGroup var live: LiveArguments

    @Option(help: "Address to listen on; anything but loopback exposes the service and needs a token (or --insecure). (default: \(defaults.bind))")
    var bind: String?

    @Option(help: "Port (0: any free port, logged at start). (default: \(defaults.port))")
    var port: Int?

    @Option(name: .customLong("state-dir"), help: "History database and event audio. (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/hark, else ~/.local/state/hark)")
    var stateDirectory: String?

    @Option(name: .customLong("max-upload-mb"), help: "Largest upload, MB. (default: \(defaults.maxUploadBytes / 1_048_576))")
    var maxUploadMegabytes: Double?

    @Option(name: .customLong("max-upload-seconds"), help: "Longest upload, seconds of audio. (default: \(Int(defaults.maxUploadSeconds)))")
    var maxUploadSeconds: Double?

    @Option(name: .customLong("allow-origin"), help: "A browser origin (e.g. http://dash.example:8080) allowed to open the live socket besides the server's own; repeatable. (default: none)")
    var allowOrigin: [String] = []

    @Option(name: .customLong("maps-member"), help: "The ensemble network whose feature maps are published, by card name. (default: the first)")
    var mapsMember: String?

    @Flag(help: "Allow a non-loopback --bind without an API token (anyone who can reach the port can use it).")
    var insecure = false

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        var flags = ServerOverrides()
        flags["bind"] = bind.map(ConfigValue.string)
        flags["port"] = port.map(ConfigValue.integer)
        flags["state_dir"] = stateDirectory.map(ConfigValue.string)
        flags["max_upload_mb"] = maxUploadMegabytes.map(ConfigValue.number)
        flags["max_upload_seconds"] = maxUploadSeconds.map(ConfigValue.number)
        flags["allowed_origins"] = allowOrigin.isEmpty ? nil : .strings(allowOrigin)
        flags["maps_member"] = mapsMember.map(ConfigValue.string)
        var options = try live.liveOptions(server: flags)
        options.loopsDemo = true
        let run = try LiveRun.build(options)
        announce(run, command: "serve")
        let settings = try run.overrides.server.settings()
        if !settings.bindsLoopback && settings.tokens.isEmpty && !insecure {
            throw CommandFailure(description: "refusing to listen on \(settings.bind) without an API token: anyone who can reach "
                                 + "port \(settings.port) could use the service. Create one with `hark token new` and add it to "
                                 + "[server] tokens, or pass --insecure")
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "hark")
        logger.logLevel = .notice
        let built = try await ServeApplication.build(run, settings: settings, stdout: stdoutLines(for: run),
                                                     version: Hark.configuration.version, logger: logger)
        let outcome: LivePipeline.Outcome
        do {
            outcome = try await built.run()
        } catch let error as ServeApplication.CannotListen {
            throw CommandFailure(description: error.description)
        }
        if case .failed(let why) = outcome {
            FileHandle.standardError.write(Data("hark serve: \(why)\n".utf8))
            throw ExitCode(1)
        }
    }
}
