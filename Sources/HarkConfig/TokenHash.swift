import CLibCrypto
import Foundation

/// API tokens: 32 random bytes shown once as base64url, stored in the configuration only as
/// `sha256:HEX` of the token text. A token is checked by hashing what the client sent and
/// comparing in constant time; the configuration never holds anything that opens the API.
public enum TokenHash {
    public static let prefix = "sha256:"

    /// A fresh token and the line that stores it.
    public static func newToken() -> (token: String, stored: String) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return (token, stored(token))
    }

    public static func stored(_ token: String) -> String {
        prefix + sha256(Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 through OpenSSL's EVP interface.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
        }
        precondition(ok == 1 && length == 32, "OpenSSL's SHA-256 failed")
        return Array(digest.prefix(32))
    }

    public static func isValidStored(_ text: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let hex = text.dropFirst(prefix.count)
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit)
    }

    /// Whether `token` hashes to one of `stored` (every entry is compared, in constant time each).
    public static func matches(_ token: String, anyOf stored: [String]) -> Bool {
        let candidate = Array(Self.stored(token).utf8)
        var found = false
        for entry in stored {
            let e = Array(entry.utf8)
            guard e.count == candidate.count else { continue }
            var difference: UInt8 = 0
            for i in e.indices { difference |= e[i] ^ candidate[i] }
            found = found || difference == 0
        }
        return found
    }
}
