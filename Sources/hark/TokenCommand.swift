import ArgumentParser
import HarkConfig

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "API tokens for `hark serve`.",
        subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a fresh API token (once) and the line that stores its hash in [server] tokens.",
            discussion: """
                Only the hash goes into the configuration: keep the token itself with the clients. Clients send it as
                `Authorization: Bearer TOKEN`; a browser posts it to /v1/session once and gets a session cookie.
                """)

        func run() {
            let (token, stored) = TokenHash.newToken()
            print("token: \(token)")
            print("add to [server] in hark.toml (keep any tokens already there):")
            print("tokens = [\"\(stored)\"]")
        }
    }
}
