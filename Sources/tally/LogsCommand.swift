import AsyncHTTPClient
import ArgumentParser
import Foundation
import NIOHTTP1
import NIOCore
import TallyApp
import TelemetryModel

/// `tally logs QUERY`: reads log lines (or a LogQL metric) from a running
/// tally's Loki API and prints them, oldest first; `--follow` keeps printing
/// new lines as they arrive.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Run a LogQL query against a running tally.",
        discussion: """
        A log query ({service="api"} |= "timeout") prints the matching lines of the last --since \
        (default 1h), oldest first, as TIME {labels} line; --follow then keeps polling for new ones. \
        A metric query (sum by (level) (count_over_time({service="api"}[5m]))) prints its value now \
        per series. Exits 1 when the query fails.
        """
    )

    @Argument(help: "The LogQL query.")
    var query: String

    @Option(name: .long, help: ArgumentHelp("How far back to read, such as 15m or 2h.", valueName: "duration"))
    var since = "1h"

    @Option(name: .long, help: "Most lines to print (the newest).")
    var limit = 100

    @Flag(name: .long, help: "Keep printing new lines as they arrive (Ctrl-C stops).")
    var follow = false

    @OptionGroup(title: "Server")
    var connection: ServerOptions

    @Flag(name: .long, help: "Print the server's JSON answer as it came.")
    var json = false

    func run() async throws {
        guard let sinceNanos = parseSince(since) else { throw ValidationError("--since: expected a duration such as 15m, got \"\(since)\"") }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        var start = now - sinceNanos
        let metric = !query.trimmingCharacters(in: .whitespaces).hasPrefix("{")
        if metric {
            let answer = try await get("/loki/api/v1/query", [("query", query), ("time", String(now))])
            if json { return print(String(decoding: answer, as: UTF8.self)) }
            for line in try LogsAnswer.metric(answer) { print(line) }
            return
        }
        while true {
            let end = Int64(Date().timeIntervalSince1970 * 1e9)
            let answer = try await get("/loki/api/v1/query_range", [
                ("query", query), ("start", String(start)), ("end", String(end + 1)), ("limit", String(limit)), ("direction", "backward"),
            ])
            if json {
                print(String(decoding: answer, as: UTF8.self))
            } else {
                let entries = try LogsAnswer.entries(answer)
                for entry in entries { print(entry.text) }
                if let newest = entries.last?.time { start = newest + 1 }
            }
            guard follow else { return }
            if json { start = end + 1 }
            try await Task.sleep(for: .seconds(1))
        }
    }

    private func parseSince(_ text: String) -> Int64? {
        guard let millis = try? parseDuration(text) else { return nil }
        return millis * 1_000_000
    }

    private func get(_ path: String, _ parameters: [(String, String)]) async throws -> Data {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
        let request = HTTPClientRequest(url: connection.url(path + "?" + query))
        let status: HTTPResponseStatus
        let body: Data
        do {
            (status, body) = try await connection.fetch(request, timeout: .minutes(5), maxBytes: 512 << 20)
        } catch {
            FileHandle.standardError.write(Data("tally logs: cannot reach \(connection.server): \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard status == .ok else {
            FileHandle.standardError.write(Data("tally logs: \(String(decoding: body, as: UTF8.self).trimmingCharacters(in: .newlines))\n".utf8))
            throw ExitCode(1)
        }
        return body
    }
}
