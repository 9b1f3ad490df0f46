// swift-tools-version: 6.0
// Hark: a streaming real-time audio classifier for Linux.
// Targets follow the pipeline: capture/decoding → features → model → streaming/events → outputs.
import PackageDescription

let package = Package(
    name: "Hark",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hark", targets: ["hark"]),
        // For the fuzzers in Fuzz/ (a package of their own, built with -sanitize=fuzzer,address).
        .library(name: "HarkFuzzable", targets: ["HarkClassifier", "HarkUploads", "HarkLiveProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
        // MQTT client (events to a broker, Home Assistant discovery).
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        // SHA-256 for API token hashes (OpenSSL's libcrypto, already on every Debian machine).
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Decoding files and converting sample formats/rates.
        .target(name: "HarkAudio", dependencies: ["CSndFile", "CSoxr"]),
        // The log-mel front-end (parity with torchaudio).
        .target(name: "HarkFeatures", dependencies: ["CKissFFT"], swiftSettings: optimizedInDebug),
        // Our one C file: CPUID feature levels, to pick OpenBLAS's kernel where it falls back to its generic one.
        .target(name: "CCPUFeatures"),
        // The inference engine: safetensors, model card, ResNet on OpenBLAS, feature-map taps.
        .target(name: "HarkEngine", dependencies: ["COpenBLAS", "CCPUFeatures", "HarkFeatures"], swiftSettings: optimizedInDebug),
        // The classifier core: what a card names (one network or an ensemble), window verdicts and
        // feature maps, files made ready for the model, the window slicer, where bundled files live.
        .target(name: "HarkClassifier", dependencies: ["HarkAudio", "HarkFeatures", "HarkEngine"]),
        // Files through the whole chain, measured: ESC-50 evaluation, benchmark.
        .target(name: "HarkAnalysis", dependencies: ["COpenBLAS", "HarkAudio", "HarkFeatures", "HarkEngine", "HarkClassifier"]),
        // Live audio sources: ALSA, PulseAudio, files, raw stdin.
        .target(name: "HarkCapture", dependencies: ["CALSA", "CPulse", "HarkAudio"]),
        // Ring buffer, window scheduler, event detector, the live pipeline and its subscribers.
        .target(name: "HarkStream", dependencies: ["HarkAudio", "HarkCapture", "HarkClassifier", "HarkEngine", "HarkFeatures"]),
        // The configuration file (Config/hark.toml), its layering under command-line flags, and the
        // one function that builds a live run from them (listen, serve and tests share it).
        .target(name: "HarkConfig", dependencies: ["HarkStream", "HarkCapture", "HarkClassifier", "HarkEngine",
                                                   "CLibCrypto", .product(name: "TOMLKit", package: "TOMLKit")]),
        // The service's history: runs, events with their audio, analyses (GRDB, SQLite).
        .target(name: "HarkHistory", dependencies: [
            "HarkStream", "HarkAudio",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Beyond one machine: events to an MQTT broker (libmosquitto) with Home Assistant discovery.
        .target(name: "HarkFleet", dependencies: ["HarkStream", "HarkConfig", "HarkEngine", "CMosquitto"]),
        // The bodies `POST /v1/classify` takes (raw, multipart, JSON base64), parsed without a server
        // (so the fuzzers in Fuzz/ reach them).
        .target(name: "HarkUploads", dependencies: [
            .product(name: "MultipartKit", package: "multipart-kit"), .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // What a live-socket client asks for (query string and subscribe messages), likewise.
        .target(name: "HarkLiveProtocol", dependencies: ["HarkStream"]),
        // `hark serve`: the live stream over WebSocket and file analysis over HTTP (Hummingbird 2).
        .target(name: "HarkServer", dependencies: [
            "HarkStream", "HarkConfig", "HarkClassifier", "HarkCapture", "HarkEngine", "HarkAudio", "HarkHistory", "HarkFleet",
            "HarkUploads", "HarkLiveProtocol",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "MultipartKit", package: "multipart-kit"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // The `hark` command: argument parsing and wiring only.
        .executableTarget(name: "hark", dependencies: [
            "HarkAudio", "HarkFeatures", "HarkEngine", "HarkClassifier", "HarkAnalysis", "HarkCapture", "HarkStream",
            "HarkConfig", "HarkServer", "HarkFleet",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "HarkAudioTests", dependencies: ["HarkAudio", "TestSupport"]),
        .testTarget(name: "HarkFeaturesTests", dependencies: ["HarkFeatures", "HarkAudio", "HarkEngine", "TestSupport"]),
        .testTarget(name: "HarkEngineTests", dependencies: ["HarkEngine", "HarkAnalysis", "TestSupport"]),
        .testTarget(name: "HarkAnalysisTests", dependencies: ["HarkAnalysis", "HarkClassifier", "HarkFeatures", "TestSupport"]),
        .testTarget(name: "HarkCaptureTests", dependencies: ["HarkCapture", "TestSupport"]),
        .testTarget(name: "HarkStreamTests", dependencies: ["HarkStream", "HarkClassifier", "HarkAnalysis", "HarkFeatures", "HarkEngine", "TestSupport"]),
        .testTarget(name: "HarkConfigTests", dependencies: ["HarkConfig", "HarkEngine", "TestSupport"]),
        // Runs the built `hark` binary; depending on it makes `swift test` build it first.
        .testTarget(name: "HarkCLITests", dependencies: ["hark", "HarkAnalysis", "HarkClassifier", "HarkEngine", "TestSupport"]),
        // `hark serve` over real sockets: the built binary, WebSocket clients, uploads.
        .testTarget(name: "HarkServerTests", dependencies: [
            "hark", "HarkServer", "HarkClassifier", "HarkEngine", "HarkAudio", "HarkUploads", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // Paths to fixtures, the dataset and the built binary; helpers that run real processes.
        .target(name: "TestSupport", dependencies: ["CTestSetup", "HarkClassifier", "HarkAnalysis", "HarkEngine"], path: "Tests/TestSupport"),
        // Load-time set-up of the test binary: OpenBLAS on one thread (see the file for why).
        .target(name: "CTestSetup", path: "Tests/CTestSetup"),
    ],
    swiftLanguageModes: [.v6]
)

/// The DSP and the engine's loops are optimized in debug builds too: unoptimized they run ~50×
/// slower (a window's verdict takes a second), too slow for the live tests that `swift test` runs
/// against real capture in real time.
var optimizedInDebug: [SwiftSetting] { [.unsafeFlags(["-O"], .when(configuration: .debug))] }
