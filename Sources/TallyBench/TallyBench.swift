#if canImport(Glibc)
import Glibc
#endif
import Aggregation
import ArgumentParser
import Prometheus
import RingBuffers
import StatsDWire
import Synchronization
import TelemetryModel

/// Microbenchmarks of the hot paths, run in release mode:
/// `swift build -c release && .build/release/tally-bench`.
/// Each prints nanoseconds per item; BENCHMARKS.md records the figures.
@main
struct TallyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally-bench",
        abstract: "Microbenchmarks of tally's hot paths (parser, ring, aggregation).")

    @Option(help: "Lines per measurement.")
    var lines = 2_000_000

    @Option(help: "Repetitions; the best is reported.")
    var repeats = 5

    @Option(help: "Names per type for the routing and aggregation runs (comma-separated); 5 types each.")
    var names = "200,20000"

    @Flag(help: "Only the routing and aggregation runs (for profiling).")
    var onlyAggregation = false

    @Option(help: "Instead of timing, measure the RSS of the aggregation state for this many series (comma-separated).")
    var memory: String?

    @Option(help: "Instead of timing, measure the storage head's memory: SERIES,SAMPLES (for example 100000,720).")
    var headMemory: String?

    @Option(help: "Instead of timing, measure the storage head's memory while it takes in this file (gen-series.py output).")
    var headMemoryFile: String?

    @Option(help: "Time PromQL range queries in-process over this data directory: DIR,START,END (Unix seconds).")
    var queries: String?

    @Option(help: "Time decoding and storing this log file (gen-logs.py output) and report its size on disk.")
    var logFile: String?

    @Option(help: "Time agent mode for this many series: the agent's export, the central's import, and the lines themselves.")
    var forward: Int?

    @Option(help: "Time a shard's flush of this many series, with and without the report's sketch rollups.")
    var flushCost: Int?

    @Option(help: "Time head chunk encoding and decoding over this many 120-sample chunks per series shape, integer coding against XOR.")
    var headChunks: Int?

    func run() throws {
        if let headChunks {
            timeHeadChunks(chunks: headChunks, runs: repeats)
            return
        }
        if let flushCost {
            timeFlush(series: flushCost, runs: repeats)
            return
        }
        if let forward {
            timeForwarding(series: forward, runs: repeats)
            return
        }
        if let logFile {
            try timeLogStore(file: logFile, decodeRepeats: repeats)
            return
        }
        if let headMemory {
            let parts = headMemory.split(separator: ",").compactMap { Int($0) }
            try measureHeadMemory(series: parts.first ?? 100_000, samples: parts.count > 1 ? parts[1] : 720)
            return
        }
        if let headMemoryFile {
            try measureHeadMemory(file: headMemoryFile)
            return
        }
        if let queries {
            let parts = queries.split(separator: ",").map(String.init)
            try timeQueries(directory: parts[0], start: Int64(parts[1]) ?? 0, end: Int64(parts[2]) ?? 0, runs: repeats)
            return
        }
        if let memory {
            for count in memory.split(separator: ",").compactMap({ Int($0) }) { measureMemory(series: count) }
            return
        }
        if !onlyAggregation {
            let workload = Workload(lines: lines, namesPerType: 200)
            print("workload: \(lines) lines, \(workload.bytes.count / lines) bytes/line average, blast-like mix c/g/ms/h/s")
            report("parse", per: lines, best(repeats) { parse(workload) })
            report("ring push+pop (1 thread)", per: lines, best(repeats) { ringSingleThread(lines) })
            report("ring push+pop (2 threads, one item at a time)", per: lines, best(repeats) { ringTwoThreads(lines) })
        }
        for names in self.names.split(separator: ",").compactMap({ Int($0) }) {
            let w = Workload(lines: lines, namesPerType: names)
            let runs = (0..<repeats).map { _ in route(w) }
            report("route (parse + hash + batch), \(names * 5) series", per: lines, runs.map(\.0).min() ?? 0)
            report("route + aggregate, \(names * 5) series", per: lines, runs.map(\.1).min() ?? 0)
        }
    }

    func best(_ count: Int, _ body: () -> UInt64) -> UInt64 {
        (0..<count).map { _ in body() }.min() ?? 0
    }

    func report(_ name: String, per items: Int, _ nanos: UInt64) {
        let perItem = Double(nanos) / Double(items)
        let rate = Double(items) / (Double(nanos) / 1e9) / 1e6
        print("\(name): \(String(format2(perItem))) ns/item, \(String(format2(rate))) M items/s")
    }

    func parse(_ w: Workload) -> UInt64 {
        let parser = StatsDParser()
        var accepted = 0
        let start = monotonicNanos()
        w.bytes.withUnsafeBytes { buffer in
            forEachLine(in: buffer) { line in
                if case .metric = parser.parse(line, now: 0) { accepted += 1 }
            }
        }
        let elapsed = monotonicNanos() - start
        precondition(accepted == lines, "parsed \(accepted) of \(lines)")
        return elapsed
    }

    func ringSingleThread(_ count: Int) -> UInt64 {
        let ring = MPMCRing<Int>(minimumCapacity: 4096)
        var sum = 0
        let start = monotonicNanos()
        for i in 0..<count {
            ring.push(i)
            sum &+= ring.pop() ?? 0
        }
        let elapsed = monotonicNanos() - start
        precondition(sum == count * (count - 1) / 2)
        return elapsed
    }

    func ringTwoThreads(_ count: Int) -> UInt64 {
        let ring = MPMCRing<Int>(minimumCapacity: 4096)
        let done = Atomic<Bool>(false)
        let start = monotonicNanos()
        let consumer = spawn {
            var received = 0
            while received < count {
                if ring.pop() != nil { received += 1 }
            }
        }
        var i = 0
        while i < count {
            if ring.push(i) { i += 1 }
        }
        consumer.join()
        done.store(true, ordering: .relaxed)
        return monotonicNanos() - start
    }

    /// Datagrams of ~1,400 bytes through a router into two shards, batches
    /// recycled as in the server; returns (route only, route + aggregate) in
    /// nanoseconds. The first pass warms the tables and the batch pool.
    func route(_ w: Workload) -> (UInt64, UInt64) {
        let registry = PrometheusCollectorRegistry()
        let shards = 2
        let inputs = (0..<shards).map { ShardInput(index: $0, ringCapacity: 1 << 12) }
        let metrics = AggregationMetrics(registry: registry, shards: shards)
        let budget = SeriesBudget(limit: 10_000_000)
        let aggregators = (0..<shards).map { _ in AggregationShard(config: AggregationConfig(), budget: budget, metrics: metrics, sink: NullSink()) }
        let router = LineRouter(inputs: inputs, parser: StatsDParser(), metrics: metrics, events: NullEvents(),
                                badLineLog: BadLineLog(clock: SystemClock()) { _ in }, policy: .drop)
        func pass(aggregate: Bool) -> UInt64 {
            let start = monotonicNanos()
            w.bytes.withUnsafeBytes { buffer in
                for range in w.datagrams {
                    router.ingest(lines: UnsafeRawBufferPointer(rebasing: buffer[range]), now: 0)
                    router.flush()
                    for s in 0..<shards {
                        while let b = inputs[s].ring.pop() {
                            if aggregate { aggregators[s].apply(b) }
                            inputs[s].recycle(b)
                        }
                    }
                }
            }
            return monotonicNanos() - start
        }
        _ = pass(aggregate: true)
        let routed = pass(aggregate: false)
        let total = pass(aggregate: true)
        _ = aggregators.map { $0.flush(at: 10_000) }
        return (routed, total)
    }
}

extension TallyBench {
    /// Resident memory of the shards' state for `series` series of the
    /// default mix (each sent three values, tagged like statsd_memory.py),
    /// after one flush whose samples are dropped.
    func measureMemory(series: Int) {
        let registry = PrometheusCollectorRegistry()
        let inputs = [ShardInput(index: 0, ringCapacity: 1 << 12)]
        let metrics = AggregationMetrics(registry: registry, shards: 1)
        let shard = AggregationShard(config: AggregationConfig(), budget: SeriesBudget(limit: 100_000_000), metrics: metrics, sink: NullSink())
        let router = LineRouter(inputs: inputs, parser: StatsDParser(), metrics: metrics, events: NullEvents(),
                                badLineLog: BadLineLog(clock: SystemClock()) { _ in }, policy: .drop)
        let before = residentBytes()
        let started = monotonicNanos()
        let kinds: [(String, Int)] = [("c", 40), ("g", 15), ("ms", 20), ("h", 10), ("s", 15)]
        var start = 0
        for (kind, weight) in kinds {
            let count = series * weight / 100
            for round in 0..<3 {
                for i in start..<(start + count) {
                    let value = kind == "s" ? "u\(round)" : String(1 + (i + round) % 900)
                    let line = "mem.\(kind).\(i):\(value)|\(kind)|#env:prod,host:h\(i % 16)"
                    Array(line.utf8).withUnsafeBytes { router.ingest(line: $0, now: 0) }
                    if i % 512 == 0 {
                        router.flush()
                        while let batch = inputs[0].ring.pop() { shard.apply(batch); inputs[0].recycle(batch) }
                    }
                }
            }
            start += count
        }
        router.flush()
        while let batch = inputs[0].ring.pop() { shard.apply(batch); inputs[0].recycle(batch) }
        let built = monotonicNanos() - started
        let samples = shard.flush(at: 10_000).count
        let after = residentBytes()
        print("aggregation state: \(shard.activeSeries) series, \(samples) samples per flush, \((after - before) / 1_048_576) MiB, \((after - before) / max(1, shard.activeSeries)) bytes per series; \(built / UInt64(max(1, shard.activeSeries))) ns per series to create and feed three values")
    }

    func residentBytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmRSS:") {
                return (Int(text.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
            }
        }
        return 0
    }
}

/// A sink that hands out references and keeps nothing, so the benchmarks
/// measure the shard alone.
final class NullSink: SampleSink {
    private let next = Atomic<UInt32>(0)
    func register(_ labels: Labels) -> SeriesRef { SeriesRef(raw: next.add(1, ordering: .relaxed).oldValue) }
    func release(_ refs: [SeriesRef]) {}
    func append(_ samples: [RefSample]) {}
}

struct NullEvents: EventSink {
    func record(_ event: TelemetryEvent) {}
}

/// Lines shaped like statsd-blast's default mix, packed into ~1,400-byte datagrams.
struct Workload {
    var bytes: [UInt8] = []
    var datagrams: [Range<Int>] = []

    init(lines: Int, namesPerType: Int) {
        var state: UInt64 = 1
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var datagramStart = 0
        for _ in 0..<lines {
            let pick = next() % 100
            let index = next() % UInt64(namesPerType)
            let line: String
            switch pick {
            case 0..<40: line = "blast.c.\(index):\(1 + next() % 10)|c"
            case 40..<55: line = "blast.g.\(index):\(next() % 1001)|g"
            case 55..<75: line = "blast.ms.\(index):\(next() % 1000)|ms"
            case 75..<85: line = "blast.h.\(index):\(next() % 1000)|h"
            default: line = "blast.s.\(index):u\(next() % 1000)|s"
            }
            if bytes.count - datagramStart + line.utf8.count + 1 > 1400 {
                datagrams.append(datagramStart..<bytes.count)
                datagramStart = bytes.count
            }
            bytes.append(contentsOf: line.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        datagrams.append(datagramStart..<bytes.count)
    }
}

func format2(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return scaled.description
}
