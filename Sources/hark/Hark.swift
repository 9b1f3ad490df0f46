import ArgumentParser

@main
struct Hark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "Streaming real-time audio classifier: hear a room, a garden or a machine and report sound events.",
        version: "0.1.0",
        subcommands: [ListenCommand.self, DevicesCommand.self, ClassifyCommand.self, EvalCommand.self, BenchCommand.self])

    /// Before anything runs: leave OpenBLAS's generic fallback kernel when the CPU can do better.
    static func main() {
        KernelRestart.onFasterKernelIfNeeded()
        main(nil)
    }
}
