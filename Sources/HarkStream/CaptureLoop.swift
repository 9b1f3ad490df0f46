import Foundation
import HarkAudio
import HarkCapture
import Synchronization

/// The capture thread: opens the source, converts every block to mono at the model's rate and
/// writes it to the ring. It never waits on the model (except under `backPressure`, for files).
/// A lost source is closed and reopened with exponential back-off; the stream resumes by itself.
final class CaptureLoop: Sendable {
    typealias SourceFactory = @Sendable () throws -> any AudioSource

    enum Outcome: Sendable, Equatable { case endOfStream, failed(String), stopped }

    private let makeSource: SourceFactory
    private let sampleRate: Int
    private let settings: LiveSettings
    private let ring: RingBuffer
    private let counters: LiveCounters
    private let status: @Sendable (StatusMessage) -> Void
    /// Called after each write with the new stream position and the wall time of the capture.
    private let published: @Sendable (Int, UInt64) -> Void
    private let shouldStop: @Sendable () -> Bool
    /// Blocks while the consumer is behind (back-pressure mode only).
    private let waitForConsumer: @Sendable () -> Void

    init(makeSource: @escaping SourceFactory, sampleRate: Int, settings: LiveSettings, ring: RingBuffer,
         counters: LiveCounters, status: @escaping @Sendable (StatusMessage) -> Void,
         published: @escaping @Sendable (Int, UInt64) -> Void, shouldStop: @escaping @Sendable () -> Bool,
         waitForConsumer: @escaping @Sendable () -> Void) {
        self.makeSource = makeSource
        self.sampleRate = sampleRate
        self.settings = settings
        self.ring = ring
        self.counters = counters
        self.status = status
        self.published = published
        self.shouldStop = shouldStop
        self.waitForConsumer = waitForConsumer
    }

    func run() -> Outcome {
        var delay = settings.retryInitialSeconds
        var started = false
        var name = "source"
        while !shouldStop() {
            let source: any AudioSource
            do {
                source = try makeSource()
                name = source.name
                try source.open()
            } catch let error as CaptureError where error.isRetryable {
                status(StatusMessage(.captureLost, wallTime: WallClock.now(), message: error.description, source: name,
                                     retryInSeconds: delay))
                sleep(seconds: delay)
                delay = min(delay * 2, settings.retryMaximumSeconds)
                continue
            } catch {
                return .failed("\(error)")
            }
            let format = source.format
            let message = started ? "capture resumed"
                : ["capture started", settings.startupNote].compactMap { $0 }.joined(separator: "; ")
            status(StatusMessage(started ? .captureRecovered : .captureStarted, wallTime: WallClock.now(),
                                 message: message, source: source.name,
                                 sampleRate: format.sampleRate, channels: format.channels))
            started = true
            delay = settings.retryInitialSeconds
            switch stream(from: source) {
            case .endOfStream: return .endOfStream
            case .stopped: return .stopped
            case .failed(let why): return .failed(why)
            case .lost(let error):
                counters.update { $0.captureLosses += 1 }
                status(StatusMessage(.captureLost, wallTime: WallClock.now(), message: error.description,
                                     source: source.name, retryInSeconds: delay))
                sleep(seconds: delay)
                delay = min(delay * 2, settings.retryMaximumSeconds)
            }
        }
        return .stopped
    }

    private enum StreamEnd { case endOfStream, stopped, failed(String), lost(CaptureError) }

    private func stream(from source: any AudioSource) -> StreamEnd {
        defer { source.close() }
        let format = source.format
        guard format.sampleRate > 0, format.channels > 0 else { return .failed("\(source.name): reports format \(format)") }
        let resampler: Resampler
        do {
            resampler = try Resampler(inputRate: Double(format.sampleRate), outputRate: Double(sampleRate))
        } catch {
            return .failed(error.description)
        }
        var reportedOverruns = source.overruns
        var pacer = RealTimePacer(rate: format.sampleRate)
        // Only a live source keeps to the wall clock (a file under back-pressure runs at the model's pace).
        var upstream = settings.backPressure ? nil : UpstreamLossDetector()
        while !shouldStop() {
            do {
                let block = try source.read()
                if settings.paceToRealTime { pacer.wait(afterFrames: block.count / format.channels) }
                if let lost = upstream?.received(frames: block.count / format.channels, rate: format.sampleRate,
                                                 now: DispatchTime.now().uptimeNanoseconds) {
                    let total = counters.values.withLock { v -> Int in
                        v.overruns += 1
                        return v.overruns
                    }
                    status(StatusMessage(.overruns, wallTime: WallClock.now(),
                                         message: "audio lost upstream: the source fell \(String(format: "%.1f", lost)) s behind the "
                                            + "wall clock (a stalled reader, say, behind PulseAudio)",
                                         source: source.name, count: 1, total: total))
                }
                var mono = Mixdown.mono(block, channels: format.channels)
                SampleSanitizer.replaceNonFinite(&mono)
                publish(resampler.process(mono))
            } catch .endOfStream {
                publish(resampler.flush())
                return .endOfStream
            } catch let error where error.isRetryable {
                publish(resampler.flush())
                return .lost(error)
            } catch {
                return .failed(error.description)
            }
            if source.overruns != reportedOverruns {
                let new = source.overruns - reportedOverruns
                reportedOverruns = source.overruns
                // The device reported this loss itself: measure the lag afresh rather than count it twice.
                if upstream != nil { upstream = UpstreamLossDetector() }
                let total = counters.values.withLock { v -> Int in
                    v.overruns += new
                    return v.overruns
                }
                status(StatusMessage(.overruns, wallTime: WallClock.now(), message: "capture overrun: the device dropped audio",
                                     source: source.name, count: new, total: total))
            }
        }
        return .stopped
    }

    private func publish(_ samples: [Float]) {
        guard !samples.isEmpty else { return }
        if settings.backPressure { waitForConsumer() }
        ring.write(samples)
        counters.update { $0.streamSamples += samples.count }
        published(ring.position, DispatchTime.now().uptimeNanoseconds)
    }

    /// Sleeps in short steps so a stop request is honoured quickly.
    private func sleep(seconds: Double) {
        let until = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        while !shouldStop() && DispatchTime.now().uptimeNanoseconds < until { usleep(20_000) }
    }
}

/// Holds a source back to the wall clock: the target is absolute (stream start + frames / rate),
/// so the pace never drifts.
struct RealTimePacer {
    let rate: Int
    private var start: UInt64?
    private var frames = 0

    init(rate: Int) { self.rate = rate }

    mutating func wait(afterFrames count: Int) {
        let origin = start ?? DispatchTime.now().uptimeNanoseconds
        start = origin
        frames += count
        let due = origin + UInt64(Double(frames) / Double(rate) * 1e9)
        let now = DispatchTime.now().uptimeNanoseconds
        if due > now { usleep(UInt32(min((due - now) / 1000, 10_000_000))) }
    }
}
