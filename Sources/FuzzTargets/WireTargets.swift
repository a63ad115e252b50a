import Aggregation
import StatsDWire

/// StatsD and DogStatsD lines, and agents' aggregates.
let wireTargets: [FuzzTarget] = [
    FuzzTarget("statsd_datagram") { input in
        let parser = StatsDParser()
        forEachLine(in: input) { line in _ = parser.parse(line, now: 1_700_000_000_000) }
    },
    FuzzTarget("dogstatsd_event") { input in
        withPrefix("_e{", input) { _ = StatsDParser().parse($0, now: 1_700_000_000_000) }
    },
    FuzzTarget("dogstatsd_service_check") { input in
        withPrefix("_sc|", input) { _ = StatsDParser().parse($0, now: 1_700_000_000_000) }
    },
    FuzzTarget("aggregate_request") { input in
        AggregationDecoderProbes.aggregateRequest(input)
    },
]

/// Runs `body` on `prefix` followed by the input, so the fuzzer spends its time past the prefix.
func withPrefix(_ prefix: String, _ input: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    var line = Array(prefix.utf8)
    line.append(contentsOf: input)
    line.withUnsafeBytes(body)
}
