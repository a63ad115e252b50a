import DurableFiles
import Foundation
import TallyTestKit
import TelemetryModel
import Testing
@testable import TimeSeriesStorage

/// What a forwarder reads from the WAL: exactly the stored samples, in each
/// series' time order, resumable from any position, across rotations and
/// checkpoints that keep what a forwarder still needs.
@Suite("WAL follower")
struct WALFollowerTests {
    /// Everything readable from `position` on: series by reference, and samples by labels.
    static func drain(_ follower: WALFollower, series: inout [UInt32: Labels]) throws -> [Labels: [Point]] {
        var out: [Labels: [Point]] = [:]
        while true {
            let batch = try follower.read(maxSamples: 7)
            for entry in batch.entries {
                switch entry {
                case .series(let ref, let labels): series[ref.raw] = labels
                case .samples(let samples):
                    for s in samples { out[series[s.ref.raw]!, default: []].append(Point(timestamp: s.timestamp, value: s.value)) }
                }
            }
            if batch.caughtUp { return out }
        }
    }

    @Test func theLogHoldsOnlyStoredSamplesInOrder() throws {
        let directory = try TemporaryDirectory(prefix: "tally-follow")
        defer { directory.remove() }
        let db = try TSDB(directory: directory.path, options: testOptions())
        let a = db.register(labels("a")), b = db.register(labels("b"))
        let report = db.appendReporting([
            RefSample(ref: a, timestamp: 2_000, value: 2), RefSample(ref: a, timestamp: 1_000, value: 1),
            RefSample(ref: b, timestamp: 1_000, value: 10), RefSample(ref: a, timestamp: 2_000, value: 3),
            RefSample(ref: a, timestamp: 3_000, value: 3),
        ])
        #expect(report.accepted == 3)
        #expect(report.rejected == [.outOfOrder: 1, .duplicateTimestamp: 1])
        let follower = WALFollower(directory: db.walDirectory, from: WALPosition(segment: 0, offset: 0))
        var series: [UInt32: Labels] = [:]
        let read = try Self.drain(follower, series: &series)
        #expect(read == [
            labels("a"): [Point(timestamp: 2_000, value: 2), Point(timestamp: 3_000, value: 3)],
            labels("b"): [Point(timestamp: 1_000, value: 10)],
        ])
    }

    @Test func aFollowerResumesFromItsPositionAndTailsTheLog() throws {
        let directory = try TemporaryDirectory(prefix: "tally-follow")
        defer { directory.remove() }
        var options = testOptions()
        options.walSegmentBytes = 512 // many rotations
        let db = try TSDB(directory: directory.path, options: options)
        let names = (0..<5).map { labels("s\($0)") }
        var expected = fill(db, series: names, count: 100)
        let follower = WALFollower(directory: db.walDirectory, from: WALPosition(segment: 0, offset: 0))
        var series: [UInt32: Labels] = [:]
        var read = try Self.drain(follower, series: &series)
        #expect(read == expected)
        #expect(try WAL.segments(in: db.walDirectory).count > 3, "the log rotated")

        // More is written; the same follower reads only the new part.
        let more = fill(db, series: names, start: t0 + 100_000, count: 50)
        let tail = try Self.drain(follower, series: &series)
        #expect(tail == more)

        // A new follower from a saved position reads the same, knowing the series from before it.
        let saved = follower.position
        let after = fill(db, series: names, start: t0 + 150_000, count: 20)
        let resumed = WALFollower(directory: db.walDirectory, from: saved)
        var known = Dictionary(try WALFollower.seriesBefore(saved, directory: db.walDirectory).map { ($0.0.raw, $0.1) }) { $1 }
        #expect(try Self.drain(resumed, series: &known) == after)
        for s in names { expected[s]! += more[s]! + after[s]! }
        read = try Self.drain(WALFollower(directory: db.walDirectory, from: WALPosition(segment: 0, offset: 0)), series: &series)
        #expect(read == expected)
    }

    @Test func checkpointsKeepTheSegmentsAForwarderHolds() throws {
        let directory = try TemporaryDirectory(prefix: "tally-follow")
        defer { directory.remove() }
        var options = testOptions()
        options.compactionRangesMillis = []
        let db = try TSDB(directory: directory.path, options: options)
        let names = (0..<3).map { labels("h\($0)") }
        let first = try WAL.segments(in: db.walDirectory).first!
        db.holdWAL("remote", from: first)
        // Three one-minute block ranges: the first goes to a block and the WAL is checkpointed.
        let expected = fill(db, series: names, count: 180)
        db.maintain(now: t0)
        #expect(try WAL.checkpoint(in: db.walDirectory) != nil)
        #expect(try WAL.segments(in: db.walDirectory).first == first, "the held segment survives the checkpoint")
        var series: [UInt32: Labels] = [:]
        let read = try Self.drain(WALFollower(directory: db.walDirectory, from: WALPosition(segment: first, offset: 0)), series: &series)
        #expect(read == expected)

        // Released, the next checkpoint deletes it.
        db.releaseWAL("remote")
        fill(db, series: names, start: t0 + 180_000, count: 60)
        db.maintain(now: t0)
        #expect(try WAL.segments(in: db.walDirectory).first != first)
    }
}
