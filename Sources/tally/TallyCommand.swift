import ArgumentParser
import TallyApp

/// The `tally` executable: a telemetry collector for StatsD metrics, queried
/// with the Prometheus HTTP API.
struct TallyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "A telemetry collector: StatsD/DogStatsD in, the Prometheus HTTP API out.",
        version: TallyVersion.current,
        subcommands: [Serve.self, QueryCommand.self, TSDBCommand.self],
        defaultSubcommand: nil
    )
}
