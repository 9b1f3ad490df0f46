// swift-tools-version: 6.0
// Hark: a streaming real-time audio classifier for Linux.
// Targets follow the pipeline: capture/decoding → features → model → streaming/events → outputs.
import PackageDescription

let package = Package(
    name: "Hark",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hark", targets: ["hark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System C libraries, through pkg-config; no vendored C sources.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        // kissfft-float.pc carries -D flags SwiftPM refuses; its headers default to float anyway.
        .systemLibrary(name: "CKissFFT", providers: [.apt(["libkissfft-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CPulse", pkgConfig: "libpulse", providers: [.apt(["libpulse-dev"])]),

        // Decoding files and converting sample formats/rates.
        .target(name: "HarkAudio", dependencies: ["CSndFile", "CSoxr"]),
        // The log-mel front-end (parity with torchaudio).
        .target(name: "HarkFeatures", dependencies: ["CKissFFT"], swiftSettings: optimizedInDebug),
        // Our one C file: CPUID feature levels, to pick OpenBLAS's kernel where it falls back to its generic one.
        .target(name: "CCPUFeatures"),
        // The inference engine: safetensors, model card, ResNet on OpenBLAS, feature-map taps.
        .target(name: "HarkEngine", dependencies: ["COpenBLAS", "CCPUFeatures", "HarkFeatures"], swiftSettings: optimizedInDebug),
        // Files through the whole chain: classify, evaluate on ESC-50, benchmark.
        .target(name: "HarkAnalysis", dependencies: ["COpenBLAS", "HarkAudio", "HarkFeatures", "HarkEngine"]),
        // Live audio sources: ALSA, PulseAudio, files, raw stdin.
        .target(name: "HarkCapture", dependencies: ["CALSA", "CPulse", "HarkAudio"]),
        // Ring buffer, window scheduler, event detector and the live pipeline.
        .target(name: "HarkStream", dependencies: ["HarkAudio", "HarkCapture", "HarkAnalysis", "HarkEngine"]),
        // The configuration file (Config/hark.toml) and its layering under command-line flags.
        .target(name: "HarkConfig", dependencies: ["HarkStream", .product(name: "TOMLKit", package: "TOMLKit")]),
        // The `hark` command: argument parsing and wiring only.
        .executableTarget(name: "hark", dependencies: [
            "HarkAudio", "HarkFeatures", "HarkEngine", "HarkAnalysis", "HarkCapture", "HarkStream", "HarkConfig",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "HarkAudioTests", dependencies: ["HarkAudio", "TestSupport"]),
        .testTarget(name: "HarkFeaturesTests", dependencies: ["HarkFeatures", "HarkAudio", "HarkEngine", "TestSupport"]),
        .testTarget(name: "HarkEngineTests", dependencies: ["HarkEngine", "HarkAnalysis", "TestSupport"]),
        .testTarget(name: "HarkAnalysisTests", dependencies: ["HarkAnalysis", "HarkFeatures", "TestSupport"]),
        .testTarget(name: "HarkCaptureTests", dependencies: ["HarkCapture", "TestSupport"]),
        .testTarget(name: "HarkStreamTests", dependencies: ["HarkStream", "TestSupport"]),
        .testTarget(name: "HarkConfigTests", dependencies: ["HarkConfig", "TestSupport"]),
        // Runs the built `hark` binary; depending on it makes `swift test` build it first.
        .testTarget(name: "HarkCLITests", dependencies: ["hark", "HarkAnalysis", "HarkEngine", "TestSupport"]),
        // Paths to fixtures, the dataset and the built binary; helpers that run real processes.
        .target(name: "TestSupport", dependencies: ["CTestSetup"], path: "Tests/TestSupport"),
        // Load-time set-up of the test binary: OpenBLAS on one thread (see the file for why).
        .target(name: "CTestSetup", path: "Tests/CTestSetup"),
    ],
    swiftLanguageModes: [.v6]
)

/// The DSP and the engine's loops are optimized in debug builds too: unoptimized they run ~50×
/// slower (a window's verdict takes a second), too slow for the live tests that `swift test` runs
/// against real capture in real time.
var optimizedInDebug: [SwiftSetting] { [.unsafeFlags(["-O"], .when(configuration: .debug))] }
