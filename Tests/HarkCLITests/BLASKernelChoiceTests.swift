import Foundation
import HarkEngine
import Testing
import TestSupport

/// Where OpenBLAS falls back to its generic kernel on a CPU that can run a faster one, `hark`
/// restarts itself on the faster one before doing anything; a kernel the environment forces is kept.
/// On a CPU OpenBLAS recognises there is no restart, and the same expectations hold.
@Suite struct BLASKernelChoiceTests {
    let model = TestPaths.shippedModelCard

    /// The kernel `hark bench` reports (its JSON on stdout), and the whole run.
    func benchKernel(environment: [String: String] = [:], unsetting: [String] = []) async throws -> (String?, HarkProcess.Result) {
        let clip = try TestPaths.shippedModelClips()[0]
        let r = try await HarkProcess.run(["bench", "--model", model, "--file", clip, "--runs", "5", "--max-threads", "1", "--json"],
                                          environment: environment, unsetting: unsetting)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return (report?["blas_core"] as? String, r)
    }

    @Test func theGenericFallbackIsLeftForTheFastestKernelThisCPURuns() async throws {
        let (kernel, r) = try await benchKernel(unsetting: [BLASKernel.environmentVariable])
        #expect(r.status == 0, "\(r.stderr)")
        let reported = try #require(kernel, "no blas_core in: \(r.stdout.prefix(500))")
        if BLASKernel.bestForThisCPU != nil {
            #expect(reported != "Prescott")
            #expect(!r.stderr.contains("Prescott"))
        }
    }

    @Test func aKernelTheEnvironmentForcesIsKeptAndTheBetterOneNamed() async throws {
        let (kernel, r) = try await benchKernel(environment: [BLASKernel.environmentVariable: "Prescott"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(kernel == "Prescott")
        expectGenericKernelAdvice(onStderr: r.stderr)
    }

    /// The restart keeps the descriptors: audio piped into `hark listen` still arrives whole.
    @Test func standardInputSurvivesTheRestart() async throws {
        let rate = 8000
        let bytes = WAVWriter.data(WAVWriter.tone(frequency: 440, seconds: 7, rate: rate), channels: 1, rate: rate).dropFirst(44)  // raw s16le
        let r = try await HarkProcess.run(["listen", "--model", model, "--source", "-", "--format", "s16le", "--rate", "\(rate)",
                                           "--hop", "1", "--emit", "windows"], stdin: Data(bytes), unsetting: [BLASKernel.environmentVariable])
        #expect(r.status == 0, "\(r.stderr)")
        let windows = r.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["type"] as? String == "window" }
        let ends = windows.compactMap { $0["end"] as? Double }
        #expect(ends == [5, 6, 7])
    }
}

/// A run with `OPENBLAS_CORETYPE=Prescott` forced: its stderr names the kernel this CPU can run
/// instead, or, when there is none, says nothing about Prescott.
func expectGenericKernelAdvice(onStderr stderr: String) {
    if let best = BLASKernel.bestForThisCPU {
        #expect(stderr.contains("Prescott") && stderr.contains("\(BLASKernel.environmentVariable)=\(best)"), "\(stderr)")
    } else {
        #expect(!stderr.contains("Prescott"), "no faster kernel to advise: \(stderr)")
    }
}
