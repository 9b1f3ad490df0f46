// swift-tools-version: 6.0
// Hark's fuzzers (libFuzzer), a package of their own so that the main build never needs the
// fuzzer runtime. Build and run with scripts/fuzz.sh, which passes -sanitize=fuzzer,address.
import PackageDescription

let package = Package(
    name: "HarkFuzz",
    dependencies: [.package(name: "Hark", path: "..")],
    targets: [
        // libFuzzer's driver, called from each target's top-level code.
        .target(name: "FuzzDriver"),
        // Bytes → decode → mixdown → resample → log-mel → model.
        .executableTarget(name: "fuzz-decode", dependencies: ["FuzzDriver", .product(name: "HarkFuzzable", package: "Hark")]),
        // POST /v1/classify bodies (raw, JSON base64, multipart) and live-socket client messages.
        .executableTarget(name: "fuzz-requests", dependencies: ["FuzzDriver", .product(name: "HarkFuzzable", package: "Hark")]),
    ],
    swiftLanguageModes: [.v6]
)
