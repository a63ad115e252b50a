import Foundation
import TelemetryModel
import TimeSeriesStorage

/// Measures the storage head's memory per active series: the resident
/// memory a store gains from `series` series holding `samples` samples each
/// (10 s apart, as gen-series.py writes them), with the WAL on disk.
extension TallyBench {
func measureHeadMemory(series: Int, samples: Int) throws {
    let directory = NSTemporaryDirectory() + "tally-head-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = StorageOptions()
    options.fsync = .never
    let db = try TSDB(directory: directory, options: options)
    let before = residentBytes()
    let refs = (0..<series).map { i in
        db.register(Labels(name: "bench_metric_\(i % 50)", ["instance": "host-\(i / 50):8080", "job": "bench"]))
    }
    let start: Int64 = 1_704_067_200_000
    var counters = [Double](repeating: 1_000, count: series)
    var rng = SystemRandomNumberGenerator()
    for step in 0..<samples {
        var batch: [RefSample] = []
        batch.reserveCapacity(series)
        for i in 0..<series {
            counters[i] += Double(Int.random(in: 0...1_000, using: &rng))
            batch.append(RefSample(ref: refs[i], timestamp: start + Int64(step) * 10_000, value: counters[i]))
        }
        db.append(batch)
    }
    let after = residentBytes()
    let stats = db.headStats
    print("head: \(series) series x \(samples) samples: \((after - before) / series) bytes RSS per series "
        + "(chunk bytes \(stats.chunkBytes / series) per series, \(stats.chunks) closed chunks)")
}
}
