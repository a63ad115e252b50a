import ArgumentParser
import TallyApp

/// The `tally` executable: a telemetry collector for StatsD metrics, queried
/// with the Prometheus HTTP API.
struct TallyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "A telemetry collector: StatsD/DogStatsD metrics and structured logs in, the Prometheus and Loki HTTP APIs out.",
        version: TallyVersion.current,
        subcommands: [Serve.self, QueryCommand.self, LogsCommand.self, ReportCommand.self, TSDBCommand.self, Verify.self, HashPasswordCommand.self, HealthCommand.self, CheckConfigCommand.self],
        defaultSubcommand: nil
    )
}
