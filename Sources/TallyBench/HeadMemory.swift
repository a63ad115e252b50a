import DurableFiles
import Foundation
import TelemetryModel
import TimeSeriesStorage

/// Measures the storage head's memory per active series: the resident
/// memory a store gains while its head takes in samples, with the WAL and
/// the head chunk file on disk.
extension TallyBench {
/// Synthetic: `series` counters with random increments, `samples` each, 10 s apart.
func measureHeadMemory(series: Int, samples: Int) throws {
    let start: Int64 = 1_704_067_200_000
    var counters = [Double](repeating: 1_000, count: series)
    var rng = SystemRandomNumberGenerator()
    try measureHead(
        labels: (0..<series).map { i in
            Labels(name: "bench_metric_\(i % 50)", ["instance": "host-\(i / 50):8080", "job": "bench"])
        },
        steps: samples,
        sample: { i, step in
            counters[i] += Double(Int.random(in: 0...1_000, using: &rng))
            return (start + Int64(step) * 10_000, counters[i])
        },
        what: "\(series) series x \(samples) samples (counters, random increments)")
}

/// Replays a gen-series.py file (every series the same length) in time order.
func measureHeadMemory(file: String) throws {
    let loaded = try SampleImport.load(file: file)
    let steps = loaded.map(\.timestamps.count).min() ?? 0
    try measureHead(
        labels: loaded.map(\.labels), steps: steps,
        sample: { i, step in (loaded[i].timestamps[step], loaded[i].values[step]) },
        what: "\(loaded.count) series x \(steps) samples from \(file)")
}

private func measureHead(
    labels: [Labels], steps: Int, sample: (Int, Int) -> (Int64, Double), what: String
) throws {
    let directory = NSTemporaryDirectory() + "tally-head-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = StorageOptions()
    options.fsync = .never
    let db = try TSDB(directory: directory, options: options)
    var batch: [RefSample] = []
    batch.reserveCapacity(labels.count)
    let before = residentBytes()
    let clock = ContinuousClock()
    let started = clock.now
    let refs = labels.map { db.register($0) }
    let registered = clock.now
    for step in 0..<steps {
        batch.removeAll(keepingCapacity: true)
        for i in refs.indices {
            let (t, v) = sample(i, step)
            batch.append(RefSample(ref: refs[i], timestamp: t, value: v))
        }
        db.append(batch)
    }
    let appended = clock.now
    let after = residentBytes()
    let stats = db.headStats
    let series = labels.count
    print("head: \(what): \((after - before) / series) bytes RSS per series "
        + "(open chunks \(stats.openChunkBytes / series) B per series in \(stats.slabBytes / series) B of slab pages, \(stats.chunks) closed chunks, "
        + "\(stats.storedChunkBytes / series) B per series in chunks_head on disk); "
        + "register \(nanoseconds(registered - started) / series) ns per series, "
        + "append \(nanoseconds(appended - registered) / max(1, series * steps)) ns per sample (WAL included)")
}
}

private func nanoseconds(_ d: Duration) -> Int {
    Int(d.components.seconds) * 1_000_000_000 + Int(d.components.attoseconds / 1_000_000_000)
}
