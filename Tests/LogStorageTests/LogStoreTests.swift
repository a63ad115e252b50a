import Foundation
import Testing
import DurableFiles
@testable import LogStorage
import LogWire
import TallyTestKit
import TelemetryModel

@Suite("Log store")
struct LogStoreTests {
    let now = day + 3_600 * second

    @Test func entriesComeBackByStreamInTimeOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        let result = try store.append(batch([
            jsonLine("api", 3, "third"), jsonLine("api", 1, "first"), jsonLine("db", 2, "db one"), jsonLine("api", 2, "second"),
        ]), now: now)
        #expect(result.accepted == 4)
        let api = try readAll(store, [try matcher("service", "api")])
        #expect(api.map(\.line).map { $0.contains("first") } == [true, false, false])
        #expect(api.map(\.time) == [day + second, day + 2 * second, day + 3 * second])
        #expect(api.first?.labels == Labels([Label("service", "api"), Label("level", "info"), Label("source", "json")]))
        let backward = try readAll(store, [try matcher("service", "api")], backward: true)
        #expect(backward.map(\.time) == [day + 3 * second, day + 2 * second, day + second])
        #expect(try readAll(store).count == 4)
        #expect(store.labelNames(start: 0, end: .max) == ["level", "service", "source"])
        #expect(store.labelValues("service", start: 0, end: .max) == ["api", "db"])
        #expect(store.streamLabels([try matcher("service", "db")], start: 0, end: .max).count == 1)
    }

    @Test func timeRangeIsStartInclusiveEndExclusive() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        try store.append(batch((0..<10).map { jsonLine("api", Int64($0), "n\($0)") }), now: now)
        let got = try readAll(store, start: day + 2 * second, end: day + 5 * second)
        #expect(got.map(\.time) == [day + 2 * second, day + 3 * second, day + 4 * second])
    }

    @Test func syslogFieldsAreStoredBesideTheLine() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        try store.append(syslogBatch([#"<131>1 2026-11-28T00:00:01Z node-3 payments - - [meta trace_id="ab"] declined"#], now: now), now: now)
        var fields: [String] = []
        for stream in try store.select([], start: 0, end: .max) {
            try stream.forEachEntry(start: 0, end: .max) { entry in
                entry.fields.forEach { name, value in
                    fields.append(String(decoding: name, as: UTF8.self) + "=" + String(decoding: value, as: UTF8.self))
                }
                return true
            }
        }
        #expect(fields == ["trace_id=ab", "facility=local0"])
    }

    @Test func outOfOrderWithinTheWindowIsAcceptedAndSorted() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = LogStoreOptions()
        options.outOfOrderWindowNanos = 60 * second
        let store = try LogStore(directory: dir.path, options: options, now: now)
        let result = try store.append(batch([
            jsonLine("api", 100, "a"), jsonLine("api", 50, "late but within"), jsonLine("api", 30, "too late"),
        ]), now: now)
        #expect(result.accepted == 2)
        #expect(result.rejected == [.outOfOrder: 1])
        #expect(result.firstRejection?.contains("behind its stream's newest entry") == true)
        #expect(try readAll(store).map(\.time) == [day + 50 * second, day + 100 * second])
        // Another stream is not held back by this one's newest entry.
        #expect(try store.append(batch([jsonLine("db", 0, "old but new stream")]), now: now).accepted == 1)
    }

    @Test func limitsRefuseWithTheirReason() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = LogStoreOptions()
        options.maxStreams = 2
        options.retentionNanos = 86_400 * second
        let store = try LogStore(directory: dir.path, options: options, now: now)
        let result = try store.append(batch([
            jsonLine("a", 0, "x"), jsonLine("b", 0, "x"), jsonLine("c", 0, "x"),
            jsonLine("a", 3_600 + 3_600, "future"), jsonLine("a", -86_400 * 2, "ancient"),
        ]), now: now)
        #expect(result.accepted == 2)
        #expect(result.rejected == [.streamLimit: 1, .tooFarInFuture: 1, .tooOld: 1])
    }

    /// Windows as long as nanoseconds allow (a config of 290y) clamp rather
    /// than trap when added to the clock.
    @Test func windowsNearTheEndOfTimeClamp() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = LogStoreOptions()
        let ages = Int64(290 * 365 * 86_400) * second
        options.maxFutureNanos = ages
        options.retentionNanos = ages
        options.outOfOrderWindowNanos = ages
        let store = try LogStore(directory: dir.path, options: options, now: now)
        let result = try store.append(batch([jsonLine("a", 0, "x"), jsonLine("a", -86_400 * 365 * 10, "old")]), now: now)
        #expect(result.accepted == 2)
        store.maintain(now: now)
    }

    @Test func identicalEntriesAreGivenOnce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        try store.append(batch([jsonLine("api", 1, "same"), jsonLine("api", 1, "same"), jsonLine("api", 1, "other")]), now: now)
        #expect(try readAll(store).count == 2)
    }

    /// Lines without a time of their own are stamped on arrival one nanosecond apart, never
    /// going back: identical lines sent together (a burst of the same message) all stay.
    @Test func identicalLinesWithoutATimeAreAllKept() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        let timeless = #"{"service":"api","msg":"heartbeat ok"}"#
        try store.append(batch(Array(repeating: timeless, count: 5)), now: now)
        // A later batch stamped with an earlier clock (it stepped back) still follows the first.
        try store.append(batch(Array(repeating: timeless, count: 3)), now: now - second)
        let got = try readAll(store)
        #expect(got.count == 8)
        #expect(got.map(\.time) == (0..<8).map { now + Int64($0) })
    }

    @Test func everythingSurvivesASegmentAndAReopen() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = LogStoreOptions()
        options.chunkTargetBytes = 4_096
        let lines = (0..<2_000).map { jsonLine($0 % 3 == 0 ? "api" : "db", Int64($0), "message number \($0) with some padding text") }
        do {
            let store = try LogStore(directory: dir.path, options: options, now: now)
            try store.append(batch(Array(lines[0..<1_000])), now: now)
            store.writeSegment(now: now)
            try store.append(batch(Array(lines[1_000...])), now: now)
            #expect(try readAll(store).count == 2_000)
            store.syncWAL()
        }
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments")
        #expect(segments == ["00000001.seg"])
        let reopened = try LogStore(directory: dir.path, options: options, now: now)
        #expect(reopened.openReport.segments == 1)
        let got = try readAll(reopened)
        #expect(got.count == 2_000)
        #expect(Set(got.map(\.line)) == Set(lines))
        // A second segment after the reopen; nothing is doubled.
        reopened.writeSegment(now: now)
        #expect(try readAll(reopened).count == 2_000)
    }

    @Test func aTornWALKeepsEverythingBeforeTheTear() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try LogStore(directory: dir.path, now: now)
            try store.append(batch([jsonLine("api", 1, "kept")]), now: now)
            try store.append(batch([jsonLine("api", 2, "torn")]), now: now)
            store.syncWAL()
        }
        let wal = dir.path + "/wal/" + (try FileManager.default.contentsOfDirectory(atPath: dir.path + "/wal").sorted().last!)
        let size = try FileManager.default.attributesOfItem(atPath: wal)[.size] as! Int
        truncate(wal, off_t(size - 3))
        let reopened = try LogStore(directory: dir.path, now: now)
        #expect(reopened.openReport.walRepaired != nil)
        #expect(try readAll(reopened).map(\.line).map { $0.contains("kept") } == [true])
    }

    @Test func aDamagedChunkIsAnErrorForItsReaderOnly() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try LogStore(directory: dir.path, now: now)
            try store.append(batch([jsonLine("api", 1, "in the damaged chunk"), jsonLine("db", 1, "elsewhere")]), now: now)
            store.writeSegment(now: now)
        }
        let path = dir.path + "/segments/00000001.seg"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[LogSegment.headerSize + 5] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let store = try LogStore(directory: dir.path, now: now)
        var failures = 0
        var read = 0
        for stream in try store.select([], start: 0, end: .max) {
            do {
                try stream.forEachEntry(start: 0, end: .max) { _ in
                    read += 1
                    return true
                }
            } catch {
                failures += 1
                #expect("\(error)".contains("corrupt: chunk"))
            }
        }
        #expect(failures == 1)
        #expect(read == 1)
    }

    @Test func aSegmentWithoutItsFooterIsSetAside() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try LogStore(directory: dir.path, now: now)
            try store.append(batch([jsonLine("api", 1, "x")]), now: now)
            store.writeSegment(now: now)
        }
        let path = dir.path + "/segments/00000001.seg"
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        truncate(path, off_t(size - 10))
        let store = try LogStore(directory: dir.path, now: now)
        #expect(store.openReport.damagedSegments.count == 1)
        #expect(FileManager.default.fileExists(atPath: path + ".damaged"))
        // Without its footer the segment's times are unknown: any query may need it, so each fails.
        #expect { try readAll(store) } throws: { "\($0)".contains("00000001.seg.damaged") && "\($0)".contains("unknown times") }
    }

    @Test func retentionDeletesWhollyExpiredSegments() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = LogStoreOptions()
        options.retentionNanos = 2 * 3_600 * second
        let store = try LogStore(directory: dir.path, options: options, now: now)
        try store.append(batch([jsonLine("api", 0, "old")]), now: now)
        store.writeSegment(now: now)
        try store.append(batch([jsonLine("api", 3_000, "newer")]), now: now)
        store.writeSegment(now: now)
        store.maintain(now: day + 2 * 3_600 * second + 10 * second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments") == ["00000002.seg"])
        #expect(try readAll(store).map(\.time) == [day + 3_000 * second])
    }

    @Test func maintenanceWritesASegmentWhenThePeriodHasPassed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, now: now)
        try store.append(batch([jsonLine("api", 1, "x")]), now: now)
        store.maintain(now: now + 60 * second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments").isEmpty)
        store.maintain(now: now + 3_601 * second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments") == ["00000001.seg"])
        // The WAL now holds only the checkpoint's stream records.
        let wal = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/wal").sorted()
        #expect(wal.contains { $0.hasPrefix("checkpoint.") })
        #expect(try readAll(store).count == 1)
    }
}
