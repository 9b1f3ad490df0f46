import ArgumentParser

@main
struct Hark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hark",
        abstract: "Streaming real-time audio classifier: hear a room, a garden or a machine and report sound events.",
        version: "0.2.0",
        subcommands: [ListenCommand.self, ServeCommand.self, TokenCommand.self, DevicesCommand.self, ClassifyCommand.self, EvalCommand.self, BenchCommand.self])

    /// Before anything runs: leave OpenBLAS's generic fallback kernel when the CPU can do better.
    static func main() async {
        KernelRestart.onFasterKernelIfNeeded()
        await main(nil)
    }
}
