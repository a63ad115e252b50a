import Prometheus
import SelfMetrics
import Synchronization
import TelemetryModel
import Testing

/// A sink that keeps what it is handed: the scrape's side of the contract.
private final class KeptSamples: SampleSink {
    let state = Mutex<(series: [Labels], samples: [RefSample])>(([], []))

    func register(_ labels: Labels) -> SeriesRef {
        state.withLock { state in
            state.series.append(labels)
            return SeriesRef(raw: UInt32(state.series.count - 1))
        }
    }

    func release(_ refs: [SeriesRef]) {}

    func append(_ samples: [RefSample]) {
        state.withLock { $0.samples += samples }
    }

    func values(at timestamp: Int64) -> [Labels: Double] {
        state.withLock { state in
            Dictionary(uniqueKeysWithValues: state.samples.filter { $0.timestamp == timestamp }.map { (state.series[Int($0.ref.raw)], $0.value) })
        }
    }
}

@Suite("tally storing its own /metrics")
struct SelfScrapeTests {
    @Test func eachRoundStoresEveryFigureWithTheTargetLabelsAndUp() throws {
        let registry = PrometheusCollectorRegistry()
        let lines = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "tally_statsd_received_lines", unitName: "total", helpText: "Lines."), labels: [("transport", "udp"), ("job", "own")])
        let heap = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "tally_heap_in_use", unitName: "bytes", helpText: "Heap."))
        let sink = KeptSamples()
        let scrape = SelfScrape(registry: registry, sink: sink, targetLabels: ["job": "tally", "instance": "box:9470"])
        lines.increment(by: Int64(3))
        heap.set(Int64(1024))
        #expect(try scrape.scrape(nowMillis: 1_000) == 3)
        lines.increment(by: Int64(2))
        try scrape.scrape(nowMillis: 16_000)

        let target = ["job": "tally", "instance": "box:9470"]
        // The target's labels win over a figure's own label of the same name.
        let linesSeries = Labels(name: "tally_statsd_received_lines_total", target.merging(["transport": "udp"]) { $1 })
        #expect(sink.values(at: 1_000) == [
            linesSeries: 3, Labels(name: "tally_heap_in_use_bytes", target): 1024, Labels(name: "up", target): 1,
        ])
        #expect(sink.values(at: 16_000)[linesSeries] == 5)
        // Each series is registered once, however many rounds.
        #expect(sink.state.withLock { $0.series.count } == 3)
    }
}
