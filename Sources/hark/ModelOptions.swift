import ArgumentParser
import HarkAnalysis
import HarkEngine

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model card (NAME.json beside NAME.safetensors). Default: $HARK_MODEL, else Models/hark-esc50-ensemble.json.")
    var model: String?

    @Option(name: .long, help: "BLAS threads for the model (1 to the number of cores).")
    var threads: Int = 1

    func load() throws -> ModelEnsemble {
        let path = try ModelLocator.locate(explicit: model)
        BLASThreads.set(threads)
        return try ModelEnsemble.load(cardPath: path)
    }
}

/// Errors from the libraries carry their own message; print it plainly, not as a Swift dump.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}
