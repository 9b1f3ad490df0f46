import ArgumentParser
import Dispatch
import Foundation
import HarkConfig
import HarkFleet
import HarkStream

struct ListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Listen continuously and print sound events as JSON lines on stdout.",
        discussion: """
            Every 5-s window (one per --hop) is classified; the detector turns scores into events:
              {"type":"event","phase":"start"|"update"|"end","id","label","emoji","score","peak_score","mean_score",
               "start","end","duration","stream_time","wall_time","windows","class_index"}
            Status lines (capture started/lost/recovered, windows dropped, overruns, stopped + summary) go to
            stderr, or to stdout with --emit status. Schema: docs/listen-output.md.
            Settings come from --config (default \(ConfigFile.systemPath) when it exists); flags override it.
            SIGINT/SIGTERM end open events and exit 0.
            """)

    @OptionGroup var live: LiveArguments

    func run() throws {
        signal(SIGPIPE, SIG_IGN)  // a closed stdout is an error to handle, not a crash
        let run = try LiveRun.build(try live.liveOptions())
        announce(run, command: "listen")
        let pipeline = run.pipeline
        let writer = JSONLinesWriter(pipeline: pipeline, output: stdoutLines(for: run), capacity: run.settings.maxOutputBacklog)
        writer.start { pipeline.fail($0) }
        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: number, queue: .global())
            s.setEventHandler { pipeline.stop() }
            s.resume()
            return s
        }
        let mqtt = try MQTTPublisher.forRun(run, version: Hark.configuration.version)
        try mqtt?.start()
        pipeline.start()
        let outcome = pipeline.wait()
        writer.wait()
        mqtt?.stop(timeout: 0.4)
        signals.forEach { $0.cancel() }
        if case .failed(let why) = outcome {
            FileHandle.standardError.write(Data("hark listen: \(why)\n".utf8))
            throw ExitCode(1)
        }
    }
}
