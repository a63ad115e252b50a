import AsyncHTTPClient
import ArgumentParser
import Foundation

/// `tally health`: asks a running tally whether it is ready (`/readyz`), for
/// a container's HEALTHCHECK or a script, where no curl may be installed.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a running tally whether it is ready.",
        discussion: """
        GETs /readyz (with --live, /healthz) from --server and exits 0 when it answers 200, 1 when it \
        answers anything else or cannot be reached within --timeout; one line on stderr says why.
        """
    )

    @OptionGroup(title: "Server")
    var connection: ServerOptions

    @Flag(name: .long, help: "Ask /healthz (the process serves HTTP) instead of /readyz (every listener is bound).")
    var live = false

    @Option(name: .long, help: ArgumentHelp("How long to wait for the answer, in seconds.", valueName: "seconds"))
    var timeout: Int64 = 5

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
    }

    func run() async throws {
        let path = live ? "/healthz" : "/readyz"
        let request = HTTPClientRequest(url: connection.url(path))
        do {
            let answer = try await connection.fetch(request, timeout: .seconds(timeout), maxBytes: 64 << 10)
            guard answer.status == .ok else {
                let body = String(decoding: answer.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                FileHandle.standardError.write(Data("tally health: \(connection.server)\(path) answered \(answer.status.code)\(body.isEmpty ? "" : ": \(body)")\n".utf8))
                throw ExitCode(1)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("tally health: cannot reach \(connection.server): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
