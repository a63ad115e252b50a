import AsyncHTTPClient
import ArgumentParser
import Foundation
import NIOCore
import TallyApp

/// `tally query EXPR`: asks a running tally (or any Prometheus API) and
/// prints the answer as a table.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a PromQL query against a running tally.",
        discussion: """
        An instant query at --time (default: now), or with --start a range query from --start to --end \
        (default: now) every --step (default: the range divided into 250 points, at least 1s). \
        Times are Unix seconds or RFC 3339; steps are durations (30s, 1m) or seconds. \
        Prints a table, or with --json the server's raw answer. Exits 1 when the query fails.
        """
    )

    @Argument(help: "The PromQL expression.")
    var expression: String

    @Option(name: .long, help: ArgumentHelp("Evaluation time of an instant query.", valueName: "time"))
    var time: String?

    @Option(name: .long, help: ArgumentHelp("Start of a range query.", valueName: "time"))
    var start: String?

    @Option(name: .long, help: ArgumentHelp("End of a range query (default: now).", valueName: "time"))
    var end: String?

    @Option(name: .long, help: ArgumentHelp("Resolution of a range query.", valueName: "duration"))
    var step: String?

    @OptionGroup(title: "Server")
    var connection: ServerOptions

    @Flag(name: .long, help: "Print the server's JSON answer as it came.")
    var json = false

    func run() async throws {
        var parameters = [("query", expression)]
        let path: String
        if let start {
            let end = self.end ?? String(Int(Date().timeIntervalSince1970))
            var step = self.step
            if step == nil {
                guard let s = Double(start), let e = Double(end) else {
                    throw ValidationError("--step is needed when --start or --end is not in Unix seconds")
                }
                step = String(max(1, Int(((e - s) / 250).rounded(.up))))
            }
            parameters += [("start", start), ("end", end), ("step", step!)]
            path = "/api/v1/query_range"
        } else {
            if let time { parameters.append(("time", time)) }
            path = "/api/v1/query"
        }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
            .joined(separator: "&")
        var request = HTTPClientRequest(url: connection.url(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: body))
        let answer: Data
        do {
            answer = try await connection.fetch(request, timeout: .minutes(5), maxBytes: 512 << 20).body
        } catch {
            FileHandle.standardError.write(Data("tally query: cannot reach \(connection.server): \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            FileHandle.standardOutput.write(answer)
            FileHandle.standardOutput.write(Data("\n".utf8))
            let failed = (try? JSONSerialization.jsonObject(with: answer) as? [String: Any])?["status"] as? String != "success"
            if failed { throw ExitCode(1) }
            return
        }
        let (text, failed) = QueryAnswerTable.render(answer)
        if failed {
            FileHandle.standardError.write(Data("tally query: \(text)\n".utf8))
            throw ExitCode(1)
        }
        print(text)
    }
}
