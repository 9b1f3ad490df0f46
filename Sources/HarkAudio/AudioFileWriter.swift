import CSndFile
import Foundation

/// Writes mono audio through libsndfile: FLAC, 16-bit. Used for the events' audio clips.
public enum AudioFileWriter {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes `samples` (mono, [-1, 1]; anything beyond is clipped) at `sampleRate` to `path` as
    /// FLAC, through a temporary name renamed into place, so a reader never sees half a file.
    public static func writeFLAC(_ samples: [Float], sampleRate: Int, to path: String) throws(Failure) {
        let temporary = path + ".partial"
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = 1
        info.format = Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        guard let handle = sf_open(temporary, Int32(SFM_WRITE), &info) else {
            throw Failure(description: "\(path): cannot write FLAC (\(String(cString: sf_strerror(nil))))")
        }
        // libsndfile scales floats to 16 bits; clip so a loud sample cannot wrap around.
        _ = sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let written = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(samples.count)) }
        let closed = sf_close(handle)
        guard written == samples.count, closed == 0 else {
            unlink(temporary)
            throw Failure(description: "\(path): wrote \(written) of \(samples.count) frames")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Failure(description: "\(path): cannot move the clip into place (errno \(errno))")
        }
    }
}
