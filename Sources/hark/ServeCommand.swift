import ArgumentParser
import Foundation
import HarkConfig
import HarkServer
import HarkStream
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let defaults = ServeSettings()
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

    @Option(help: "Address to listen on; anything but loopback exposes the service to the network. (default: \(defaults.bind))")
    var bind: String?

    @Option(help: "Port (0: any free port, logged at start). (default: \(defaults.port))")
    var port: Int?

    @Option(name: .customLong("max-upload-mb"), help: "Largest upload, MB. (default: \(defaults.maxUploadBytes / 1_048_576))")
    var maxUploadMegabytes: Double?

    @Option(name: .customLong("max-upload-seconds"), help: "Longest upload, seconds of audio. (default: \(Int(defaults.maxUploadSeconds)))")
    var maxUploadSeconds: Double?

    @Option(name: .customLong("allow-origin"), help: "A browser origin (e.g. http://dash.example:8080) allowed to open the live socket besides the server's own; repeatable. (default: none)")
    var allowOrigin: [String] = []

    @Option(name: .customLong("maps-member"), help: "The ensemble network whose feature maps are published, by card name. (default: the first)")
    var mapsMember: String?

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        var flags = ServeOverrides()
        flags.bind = bind
        flags.port = port
        flags.maxUploadMegabytes = maxUploadMegabytes
        flags.maxUploadSeconds = maxUploadSeconds
        flags.allowedOrigins = allowOrigin.isEmpty ? nil : allowOrigin
        flags.mapsMember = mapsMember
        var options = try live.liveOptions(serve: flags)
        options.loopsDemo = true
        let run = try LiveRun.build(options)
        announce(run, command: "serve")
        let settings = try run.overrides.serve.settings()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "hark")
        logger.logLevel = .notice
        let built = try await ServeApplication.build(run, settings: settings, stdout: stdoutWriter(for: run),
                                                     version: Hark.configuration.version, logger: logger)
        let outcome = try await built.run()
        if case .failed(let why) = outcome {
            FileHandle.standardError.write(Data("hark serve: \(why)\n".utf8))
            throw ExitCode(1)
        }
    }
}
