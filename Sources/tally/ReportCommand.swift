import AsyncHTTPClient
import ArgumentParser
import Foundation
import NIOCore
import Retrospective

/// `tally report daily`: the daily retrospective from a running tally.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports from a running tally.",
        subcommands: [DailyReportCommand.self]
    )
}

struct DailyReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daily",
        abstract: "The daily retrospective: the four key metrics and service health.",
        discussion: """
        Asks a running tally for a day's report (default: yesterday in the server's report.timezone) \
        and prints it as Markdown (fit for a chat or a wiki), a self-contained HTML page, or JSON \
        (docs/retrospective.md).
        """
    )

    @Option(name: .long, help: ArgumentHelp("The day, YYYY-MM-DD.", valueName: "date"))
    var date: String?

    @Option(name: .long, help: "md, html or json.")
    var format = "md"

    @Option(name: .long, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var out: String?

    @OptionGroup(title: "Server")
    var connection: ServerOptions

    func validate() throws {
        guard ["md", "html", "json"].contains(format) else { throw ValidationError("--format: md, html or json") }
    }

    func run() async throws {
        var url = connection.url("/api/v1/report/daily")
        if let date { url += "?date=" + (date.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? date) }
        let body: Data
        let status: UInt
        do {
            let answer = try await connection.fetch(HTTPClientRequest(url: url), timeout: .minutes(5), maxBytes: 256 << 20)
            status = answer.status.code
            body = answer.body
        } catch {
            FileHandle.standardError.write(Data("tally report: cannot reach \(connection.server): \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard status == 200 else {
            let message = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? String
            FileHandle.standardError.write(Data("tally report: \(message ?? String(decoding: body, as: UTF8.self))\n".utf8))
            throw ExitCode(1)
        }
        let output: Data
        if format == "json" {
            output = body
        } else {
            guard let report = try? JSONDecoder().decode(DailyReport.self, from: body) else {
                FileHandle.standardError.write(Data("tally report: the server's answer is not a daily report\n".utf8))
                throw ExitCode(1)
            }
            output = Data((format == "html" ? HTMLReport.render(report) : MarkdownReport.render(report)).utf8)
        }
        if let out {
            do {
                try output.write(to: URL(fileURLWithPath: out))
            } catch {
                FileHandle.standardError.write(Data("tally report: cannot write \(out): \(error.localizedDescription)\n".utf8))
                throw ExitCode(1)
            }
        } else {
            FileHandle.standardOutput.write(output)
            if format == "json" { FileHandle.standardOutput.write(Data("\n".utf8)) }
        }
    }
}
