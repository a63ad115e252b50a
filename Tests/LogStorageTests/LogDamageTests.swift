import DurableFiles
import Foundation
@testable import LogStorage
import TallyTestKit
import TelemetryModel
import Testing

/// A flipped byte anywhere in the log store's files is found by `tally
/// verify` with its file, and queries fail on damaged data instead of
/// answering without it.
@Suite("Log store damage")
struct LogDamageTests {
    let now = day + 3_600 * second

    /// A store with two streams in one segment, closed; returns the segment's path.
    private func storeWithASegment(_ dir: TemporaryDirectory) throws -> String {
        let store = try LogStore(directory: dir.path, now: now)
        try store.append(batch([jsonLine("api", 1, "first"), jsonLine("db", 2, "second"), jsonLine("api", 3, "third")]), now: now)
        store.writeSegment(now: now)
        return dir.path + "/segments/00000001.seg"
    }

    @Test func aFlippedByteAnywhereInASegmentIsFoundWithItsFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try storeWithASegment(dir)
        #expect(try LogStoreInspection.verify(directory: dir.path).problems.isEmpty)
        let unseen = try byteFlipsUnseen(in: path) {
            try LogStoreInspection.verify(directory: dir.path).problems.map(\.path) == [path]
        }
        #expect(unseen.isEmpty, "bytes whose damage went unseen: \(unseen)")
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // A damaged chunk is named with its offset.
        var damaged = original
        damaged[LogSegment.headerSize + 3] ^= 0x08
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        let problem = try #require(try LogStoreInspection.verify(directory: dir.path).problems.first)
        #expect(problem.offset == LogSegment.headerSize && "\(problem)".contains("corrupt: chunk"), "\(problem)")
    }

    @Test func aFlippedByteAnywhereInTheWALIsFoundWithItsFileAndOffset() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try LogStore(directory: dir.path, now: now)
            try store.append(batch([jsonLine("api", 1, "first"), jsonLine("db", 2, "second")]), now: now)
            store.syncWAL()
        }
        let wal = dir.path + "/wal/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/wal").sorted().first))
        #expect(try LogStoreInspection.verify(directory: dir.path).problems.isEmpty)
        let unseen = try byteFlipsUnseen(in: wal) {
            let problems = try LogStoreInspection.verify(directory: dir.path).problems
            return problems.count == 1 && problems[0].path == wal && problems[0].offset != nil
        }
        #expect(unseen.isEmpty, "bytes whose damage went unseen: \(unseen)")
    }

    @Test func queriesOverASetAsideSegmentFailUntilItIsRemoved() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try storeWithASegment(dir)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - LogSegment.footerSize - 2] ^= 0x01 // in the index
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for _ in 0..<2 { // at the start that finds it, and at the next, from the file set aside
            let store = try LogStore(directory: dir.path, now: now)
            #expect(store.openReport.damagedSegments.count == 1)
            try store.append(batch([jsonLine("api", 100, "after the damage")]), now: now)
            // The footer still gives the times: a query over them fails, naming the file and the span.
            #expect { try readAll(store) } throws: { error in
                "\(error)".contains("00000001.seg.damaged") && "\(error)".contains("entries from 2026-11-28T00:00:01")
            }
            #expect(try readAll(store, start: day + 50 * second).map(\.line) == [jsonLine("api", 100, "after the damage")])
            store.syncWAL()
        }
        let problems = try LogStoreInspection.verify(directory: dir.path).problems
        #expect(problems.map(\.path) == [path + ".damaged"])
        try FileManager.default.removeItem(atPath: path + ".damaged")
        let store = try LogStore(directory: dir.path, now: now)
        #expect(try readAll(store).count == 1)
    }
}
