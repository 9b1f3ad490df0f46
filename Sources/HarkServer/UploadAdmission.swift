// How many uploads are in the server at once: a slot is taken before a body is read and given back
// with the response, so bodies in memory stay bounded however many clients upload together.
import Synchronization

/// Counts uploads in flight against a limit. Shared by every request task (lock-protected).
final class UploadAdmission: Sendable {
    let limit: Int
    private let inFlight = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Takes a slot, or returns false when all are taken.
    func enter() -> Bool {
        inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { inFlight.withLock { $0 -= 1 } }
}
