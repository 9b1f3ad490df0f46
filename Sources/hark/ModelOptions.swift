import ArgumentParser
import Foundation
import HarkAnalysis
import HarkClassifier
import HarkEngine

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model card (NAME.json beside NAME.safetensors). Default: \(ModelLocator.defaultSource).")
    var model: String?

    @Option(name: .long, help: "BLAS threads for the model (1 to the number of cores).")
    var threads: Int = 1

    func load() throws -> ModelEnsemble {
        let path = try ModelLocator.locate(explicit: model)
        BLASThreads.set(threads)
        warnIfGenericBLASKernel()
        return try ModelEnsemble.load(cardPath: path)
    }
}

/// Says on stderr (never stdout, which carries results) when OpenBLAS runs its slow generic kernel.
func warnIfGenericBLASKernel() {
    if let advice = BLASKernel.genericKernelAdvice {
        FileHandle.standardError.write(Data("hark: warning: \(advice)\n".utf8))
    }
}

/// Errors from the libraries carry their own message; print it plainly, not as a Swift dump.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}
