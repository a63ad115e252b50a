import DurableFiles
import Foundation
import TallyTestKit
import TelemetryModel
import Testing

@testable import LogStorage

/// What the Loki push forwarder reads from the log WAL: every stored entry
/// with its stream, in log order, resumable from a saved position across
/// checkpoints that keep what a holder still needs, including streams that
/// left the head meanwhile.
@Suite("Log WAL follower")
struct LogWALFollowerTests {
    let now = day + 3_600 * second

    /// Reads everything from `follower` as (labels, time, line, fields), learning streams into `streams`.
    static func drain(_ follower: LogWALFollower, streams: inout [UInt32: Labels]) throws -> [(Labels, Int64, String, [String])] {
        var out: [(Labels, Int64, String, [String])] = []
        while true {
            let batch = try follower.read(maxBytes: 1_000)
            for record in batch.records {
                switch record {
                case .stream(let id, let labels):
                    streams[id] = labels
                case .entries(let payload):
                    LogWALFollower.forEachEntry(payload) { id, time, line, fields in
                        var pairs: [String] = []
                        fields.forEach { pairs.append(String(decoding: $0, as: UTF8.self) + "=" + String(decoding: $1, as: UTF8.self)) }
                        out.append((streams[id] ?? Labels([]), time, String(decoding: line, as: UTF8.self), pairs))
                    }
                }
            }
            if batch.caughtUp { return out }
        }
    }

    @Test func aFollowerReadsEveryStoredEntryWithItsStreamInLogOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        let start = try WALTail.end(directory: store.walDirectory)
        _ = try store.append(batch([jsonLine("api", 2, "second"), jsonLine("api", 1, "first"), jsonLine("db", 3, "db one")]), now: now)
        _ = try store.append(syslogBatch(["<11>1 2026-11-28T00:00:05Z web1 payments 42 - - card declined"], now: now), now: now)
        var streams: [UInt32: Labels] = [:]
        let read = try Self.drain(LogWALFollower(directory: store.walDirectory, from: start), streams: &streams)
        #expect(read.map(\.2).map { $0.contains("second") || $0.contains("first") || $0.contains("db one") || $0 == "card declined" } == [true, true, true, true])
        #expect(read.map(\.1) == [day + 2 * second, day + second, day + 3 * second, day + 5 * second], "log order, not time order")
        #expect(read[0].0["service"] == "api" && read[2].0["service"] == "db" && read[3].0["source"] == "syslog")
        #expect(read[3].3.contains("pid=42") && read[3].3.contains("facility=user"), "syslog fields travel with the entry: \(read[3].3)")
        // Nothing more: a second read from where the first ended is empty and caught up.
        let tail = LogWALFollower(directory: store.walDirectory, from: start)
        _ = try Self.drain(tail, streams: &streams)
        let again = try tail.read(maxBytes: 1_000)
        #expect(again.records.isEmpty && again.caughtUp)
    }

    @Test func checkpointsKeepHeldSegmentsAndTheStreamsThatLeftTheHead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        let held = try WALTail.end(directory: store.walDirectory)
        store.holdWAL("central", from: held.segment)
        _ = try store.append(batch([jsonLine("api", 1, "kept one"), jsonLine("batch", 2, "nightly run")]), now: now)
        // A segment is written and the WAL checkpointed; later the idle streams leave the head.
        store.writeSegment(now: now)
        let period = LogStoreOptions().segmentDurationNanos
        _ = try store.append(batch([jsonLine("api", 3_600 + 3, "after the cut")]), now: now + period)
        store.writeSegment(now: now + 2 * period)
        #expect(try WAL.segments(in: store.walDirectory).first == held.segment, "the held segment is kept")
        // A forwarder restarting at the held position learns its streams from the checkpoint.
        var streams = Dictionary(try LogWALFollower.streamsBefore(held, directory: store.walDirectory).map { ($0.0, $0.1) }) { $1 }
        #expect(Set(streams.values.compactMap { $0["service"] }) == ["api", "batch"], "the batch stream left the head but is still named")
        let read = try Self.drain(LogWALFollower(directory: store.walDirectory, from: held), streams: &streams)
        #expect(read.map { "\($0.0["service"] ?? "?") \($0.2.contains("kept one") || $0.2.contains("nightly run") || $0.2.contains("after the cut"))" }
            == ["api true", "batch true", "api true"])

        // Released, the next checkpoint lets the old segments and the departed streams go.
        store.releaseWAL("central")
        _ = try store.append(batch([jsonLine("api", 7_200 + 4, "later")]), now: now + 3 * period)
        store.writeSegment(now: now + 4 * period)
        #expect(try WAL.segments(in: store.walDirectory).allSatisfy { $0 > held.segment })
        let names = try LogWALFollower.streamsBefore(WALTail.end(directory: store.walDirectory), directory: store.walDirectory)
        #expect(!names.contains { $0.1["service"] == "batch" })
    }
}
