import DurableFiles
import Foundation
import TallyApp
import PromQL
import TimeSeriesStorage

/// Times PromQL range queries in-process, without HTTP: what the engine and
/// the store cost, for the profile in BENCHMARKS.md.
extension TallyBench {
func timeQueries(directory: String, start: Int64, end: Int64, runs: Int) throws {
    if ProcessInfo.processInfo.environment["TALLY_DEFAULT_MALLOC"] == nil { AllocatorTuning.apply() }
    let db = try TSDB(directory: directory)
    let engine = Engine(querier: db)
    let queries = [
        ("sum_rate_by_job", "sum by (job) (rate(http_requests_total[5m]))"),
        ("raw_one_series", #"http_requests_total{job="api",instance="api-0:8080",method="GET",status="200"}"#),
        ("hist_p99", "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
        ("max_over_time_1h", "max_over_time(process_resident_memory_bytes[1h])"),
        ("select_only", "http_requests_total"),
    ]
    let only = ProcessInfo.processInfo.environment["TALLY_BENCH_QUERY"]
    for (name, text) in queries where only == nil || only == name {
        let expr = try Parser.parse(text)
        var times: [Double] = []
        for run in 0...max(1, runs) {
            let clock = ContinuousClock.now
            _ = try engine.range(expr, start: start * 1000, end: end * 1000, step: 60_000)
            let elapsed = ContinuousClock.now - clock
            if run > 0 { times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000) }
        }
        times.sort()
        print("\(name.padding(toLength: 18, withPad: " ", startingAt: 0)) median=\(String(format: "%.2f", times[times.count / 2]))ms "
            + "min=\(String(format: "%.2f", times[0]))ms")
    }
}
}
