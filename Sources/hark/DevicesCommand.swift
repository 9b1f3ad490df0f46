import ArgumentParser
import Foundation
import HarkCapture

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List capture devices: ALSA PCMs and PulseAudio sources, by the names --source takes.")

    @Option(help: "PulseAudio server to ask (default: $PULSE_SERVER or the user's server).")
    var pulseServer: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let listing = DeviceCatalog.list(pulseServer: pulseServer)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(listing), as: UTF8.self))
            return
        }
        let width = listing.devices.map(\.name.count).max() ?? 0
        for d in listing.devices {
            var details: [String] = []
            if let rate = d.sampleRate { details.append("\(rate) Hz") }
            if let ch = d.channels { details.append("\(ch) ch") }
            if d.isMonitor { details.append("monitor") }
            let extra = details.isEmpty ? "" : " (\(details.joined(separator: ", ")))"
            print("\(d.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(d.description)\(extra)")
        }
        for note in listing.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
    }
}
