import DurableFiles
import Foundation
import TallyTestKit
import TelemetryModel
@testable import TimeSeriesStorage

/// Options with a one-minute block range, so tests cross block boundaries
/// with a few hundred samples.
func testOptions(fsync: FsyncPolicy = .never) -> StorageOptions {
    var options = StorageOptions()
    options.blockDurationMillis = 60_000
    options.compactionRangesMillis = [240_000]
    options.chunkSamples = 8
    options.blockChunkSamples = 16
    options.chunkGroupBytes = 512
    options.fsync = fsync
    return options
}

let t0: Int64 = 1_704_067_200_000

func labels(_ name: String, _ extra: [String: String] = [:]) -> Labels {
    Labels(name: name, extra)
}

/// Appends `count` samples per series, one per `step` ms from `start`, with
/// values from `value(series, i)`; returns every sample appended.
@discardableResult
func fill(
    _ db: TSDB, series: [Labels], start: Int64 = t0, step: Int64 = 1_000, count: Int,
    value: (Int, Int) -> Double = { s, i in Double(s * 1_000 + i) }
) -> [Labels: [Point]] {
    let refs = series.map { db.register($0) }
    var expected: [Labels: [Point]] = [:]
    for i in 0..<count {
        let t = start + Int64(i) * step
        var batch: [RefSample] = []
        for (s, ref) in refs.enumerated() {
            let v = value(s, i)
            batch.append(RefSample(ref: ref, timestamp: t, value: v))
            expected[series[s], default: []].append(Point(timestamp: t, value: v))
        }
        db.append(batch)
    }
    db.release(refs)
    return expected
}

/// Everything the store answers for all series over all time.
func everything(_ db: TSDB) throws -> [Labels: [Point]] {
    let all = try LabelMatcher(Labels.metricName, .regexMatch, ".+")
    var out: [Labels: [Point]] = [:]
    for s in try db.select([all], start: .min, end: .max) { out[s.labels] = s.points }
    return out
}

func blockDirectories(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.count == 26 }.sorted()
}
