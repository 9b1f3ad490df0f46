import Foundation
import Glibc
import HarkCapture
import Testing
import TestSupport

@Suite struct DeviceCatalogTests {
    @Test func listsTheTestMonitorAndTheConfiguredALSAPCMs() async throws {
        let pulse = try await PulseAudioDaemon.started()
        defer { pulse.stop() }
        let dir = try TestPaths.temporaryDirectory("hark-catalog")
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = dir.appendingPathComponent("capture.raw")
        try Data(count: 64).write(to: raw)
        let config = try ALSAConfig(directory: dir, captureFile: raw, pulseServer: pulse.server)

        let listing = config.withActivated { DeviceCatalog.list(pulseServer: pulse.server) }
        #expect(listing.notes.isEmpty, "\(listing.notes)")
        let monitor = try #require(listing.devices.first { $0.name == "pulse:hark_test.monitor" }, "\(listing.devices)")
        #expect(monitor.backend == "pulse")
        #expect(monitor.isMonitor)
        #expect(monitor.sampleRate == 44_100 && monitor.channels == 1)
        #expect(!monitor.description.isEmpty)
        #expect(try SourceSpec(parsing: monitor.name) == .pulse(source: "hark_test.monitor"))

        let file = try #require(listing.devices.first { $0.name == "alsa:filecap" }, "\(listing.devices.map(\.name))")
        #expect(file == CaptureDevice(name: "alsa:filecap", backend: "alsa", description: "Hark test capture from a raw file"))
        #expect(listing.devices.contains { $0.name == "alsa:pulsecap" })
        #expect(try SourceSpec(parsing: file.name) == .alsa(pcm: "filecap"))

        let json = try JSONEncoder().encode(listing)
        #expect(try JSONDecoder().decode(DeviceListing.self, from: json) == listing)
    }

    @Test func absentServerIsANoteAndListingReturnsQuickly() throws {
        let dir = try TestPaths.temporaryDirectory("hark-catalog-absent")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try ALSAConfig(directory: dir)
        let started = Date()
        let listing = config.withActivated {
            DeviceCatalog.list(pulseServer: "unix:\(dir.path)/no-server.sock")
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(listing.notes == ["PulseAudio: no server (connection refused)"])
        #expect(!listing.devices.contains { $0.backend == "pulse" })
        // The system configuration's `null` PCM is always there.
        #expect(listing.devices.contains { $0.name == "alsa:null" }, "\(listing.devices.map(\.name))")
        #expect(elapsed < 1, "took \(elapsed) s")
    }

    /// A socket that accepts connections but never answers: the query must give up at its deadline.
    @Test func silentServerTimesOut() async throws {
        let dir = try TestPaths.temporaryDirectory("hark-catalog-silent")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("silent.sock").path
        let fd = try listeningSocket(path)
        defer { close(fd) }

        // Timed on the listing thread itself, so the test runner's scheduling cannot inflate it.
        let (listing, elapsed) = try #require(await onOwnThread(timeout: 10) { () -> (DeviceListing, Double) in
            let started = Date()
            return (DeviceCatalog.list(pulseServer: "unix:\(path)"), Date().timeIntervalSince(started))
        })
        #expect(listing.notes.count == 1)
        #expect(listing.notes.first?.hasPrefix("PulseAudio: no server (no answer within") == true, "\(listing.notes)")
        #expect(elapsed > 1.3 && elapsed < 4, "took \(elapsed) s")
    }

    /// A bound, listening Unix socket that nobody accepts on.
    func listeningSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        try #require(fd >= 0 && bytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(fd, 8) == 0)
        return fd
    }
}
