import DurableFiles
import Foundation
import Prometheus
import TallyTestKit
import TelemetryModel
import Testing
@testable import TimeSeriesStorage

@Suite("Storage faults: torn WAL, damaged blocks, retention")
struct FaultTests {
    /// The newest WAL segment's path.
    private func lastSegment(_ dir: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/wal").filter { $0.count == 8 }.sorted()
        return dir + "/wal/" + (try #require(names.last(where: { (try? FileManager.default.attributesOfItem(atPath: dir + "/wal/" + $0)[.size] as? Int) ?? 0 > 8 })))
    }

    @Test(arguments: ["cut in the frame", "cut in the payload", "flipped payload byte", "garbage appended"])
    func aTornOrCorruptLastRecordIsCutAndEverythingBeforeSurvives(_ damage: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let series = [labels("w")]
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            expected = fill(db, series: series, count: 20)
        }
        let segment = try lastSegment(dir.path)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
        // The last record is the 20th sample batch: 9 bytes of frame, then its payload.
        switch damage {
        // One sample's record: 9 bytes of frame and 17 of payload (base time, count, ref, time delta, value).
        case "cut in the frame": bytes.removeLast(26 - 4)
        case "cut in the payload": bytes.removeLast(3)
        case "flipped payload byte": bytes[bytes.count - 2] ^= 0x40
        default: bytes += [7, 200, 1, 0, 0, 9, 9, 9, 9, 1]
        }
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let db = try TSDB(directory: dir.path, options: testOptions())
        let got = try everything(db)[series[0]] ?? []
        if damage == "garbage appended" {
            #expect(got == expected[series[0]])
        } else {
            // The damaged record was the last one: every record before it is there.
            #expect(got == Array(expected[series[0]]!.dropLast()))
        }
        #expect(db.openReport.walRepaired != nil)
        // The log is usable again: new samples are stored and survive a restart.
        let ref = db.register(series[0])
        db.append([RefSample(ref: ref, timestamp: t0 + 100_000, value: 42)])
        #expect(try everything(db)[series[0]]?.last == Point(timestamp: t0 + 100_000, value: 42))
    }

    /// Samples of every series in `[start, end]`, or the error the store answers with.
    func read(_ db: TSDB, _ start: Int64, _ end: Int64) throws -> Result<[Labels: [Point]], StoredDataError> {
        let all = try LabelMatcher(Labels.metricName, .regexMatch, ".+")
        do throws(StoredDataError) {
            var out: [Labels: [Point]] = [:]
            for s in try db.select([all], start: start, end: end) { out[s.labels] = s.points }
            return .success(out)
        } catch {
            return .failure(error)
        }
    }

    @Test func aFlippedByteInABlockFailsTheQueriesThatReadItAndNoOther() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions()
        options.compactionRangesMillis = []
        let series = (0..<3).map { labels("f", ["i": "\($0)"]) }
        var expected: [Labels: [Point]] = [:]
        var blocks: [String] = [] // in time order
        do {
            let db = try TSDB(directory: dir.path, options: options)
            expected = fill(db, series: series, count: 300) { s, i in Double(i) * 1.1 + Double(s) }
            db.maintain(now: t0)
            blocks = db.currentBlocks.map(\.id)
        }
        try #require(blocks.count == 4)
        // Damage the second block's chunk data.
        let chunks = dir.path + "/" + blocks[1] + "/chunks"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: chunks)))
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: chunks))

        let (_, problems) = try StoreInspection.verify(directory: dir.path)
        #expect(problems.map(\.block) == [blocks[1]])
        #expect(problems.first.map { "\($0)".contains("/chunks at byte ") } == true, "\(problems)")

        let registry = PrometheusCollectorRegistry()
        let db = try TSDB(directory: dir.path, options: options, registry: registry)
        // A query over the damaged block fails, naming the file and the offset, every time.
        for _ in 0..<2 {
            guard case .failure(let error) = try read(db, t0 + 60_000, t0 + 119_999) else {
                Issue.record("a query over damaged data answered")
                return
            }
            #expect(error.message.contains(blocks[1] + "/chunks at byte ") && error.message.contains("tally verify"), "\(error)")
        }
        // Queries that do not touch it answer exactly.
        let before = try read(db, .min, t0 + 59_999).get()
        let after = try read(db, t0 + 120_000, .max).get()
        for s in series {
            #expect(before[s] == expected[s]!.filter { $0.timestamp < t0 + 60_000 })
            #expect(after[s] == expected[s]!.filter { $0.timestamp >= t0 + 120_000 })
        }
        var rendered: [UInt8] = []
        registry.emit(into: &rendered)
        // Counted once, however many queries met it.
        #expect(String(decoding: rendered, as: UTF8.self).contains("tally_storage_corruptions_total 1"))
    }

    /// 300 samples of one series cut into blocks (no compaction): the options and the block ids, in time order.
    func blocksOfOneSeries(_ series: Labels, in dir: TemporaryDirectory) throws -> (StorageOptions, [String]) {
        var options = testOptions()
        options.compactionRangesMillis = []
        let db = try TSDB(directory: dir.path, options: options)
        fill(db, series: [series], count: 300)
        db.maintain(now: t0)
        return (options, db.currentBlocks.map(\.id))
    }

    @Test func aDamagedIndexLeavesOnlyThatBlockOut() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (options, blocks) = try blocksOfOneSeries(labels("g"), in: dir)
        let index = dir.path + "/" + blocks[0] + "/index"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: index)))
        bytes[bytes.count - 6] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: index))
        do {
            let db = try TSDB(directory: dir.path, options: options)
            #expect(db.openReport.damagedBlocks == [blocks[0]])
            #expect(db.currentBlocks.count == blocks.count - 1)
            // The block's times come from its meta.json: queries over them fail, the others answer.
            guard case .failure(let error) = try read(db, .min, .max) else {
                Issue.record("a query over a block left out answered")
                return
            }
            #expect(error.message.contains(blocks[0]) && error.message.contains("samples from 2024-01-01T00:00:00"), "\(error)")
            #expect(try read(db, t0 + 60_000, .max).get()[labels("g")]?.first?.timestamp == t0 + 60_000)
        }
        // Moved out of the data directory, it no longer stops anything.
        try FileManager.default.moveItem(atPath: dir.path + "/" + blocks[0], toPath: dir.path + "/" + blocks[0] + ".damaged")
        let reopened = try TSDB(directory: dir.path, options: options)
        #expect(try everything(reopened)[labels("g")]?.first?.timestamp == t0 + 60_000)
    }

    @Test func aFlippedByteAnywhereInMetaJSONIsFoundAndTheBlockLeftOut() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (options, blocks) = try blocksOfOneSeries(labels("m"), in: dir)
        let path = dir.path + "/" + blocks[0] + "/meta.json"
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(String(decoding: original, as: UTF8.self).contains(#""checksum" : "crc32:"#))
        #expect(try StoreInspection.verify(directory: dir.path).problems.isEmpty)
        // Every byte, whitespace and the checksum itself included: the file no longer reads.
        for position in original.indices {
            var damaged = original
            damaged[position] ^= 0x04
            #expect(throws: StorageError.self, "byte \(position)") { _ = try BlockMeta.decode(damaged, path: path) }
        }
        var damaged = original
        damaged[original.count / 2] ^= 0x04
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        let problems = try StoreInspection.verify(directory: dir.path).problems
        #expect(problems.map(\.block) == [blocks[0]])
        #expect(problems.first.map { "\($0)".contains("meta.json") } == true, "\(problems)")
        let db = try TSDB(directory: dir.path, options: options)
        #expect(db.openReport.damagedBlocks == [blocks[0]])
        // Its times are unknown: any query may need it, so every one fails, naming it.
        guard case .failure(let error) = try read(db, t0 + 200_000, .max) else {
            Issue.record("a query answered without a block of unknown times")
            return
        }
        #expect(error.message.contains(blocks[0]) && error.message.contains("unknown times"), "\(error)")
    }

    /// Every byte of a block's chunks and index, and of a WAL segment: a flip is found by verify
    /// with the file (and for the WAL, the offset).
    @Test func aFlippedByteAnywhereInABlockOrTheWALIsFoundByVerify() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (_, blocks) = try blocksOfOneSeries(labels("v"), in: dir)
        #expect(try StoreInspection.verify(directory: dir.path).problems.isEmpty)
        for file in ["chunks", "index"] {
            let path = dir.path + "/" + blocks[0] + "/" + file
            let unseen = try byteFlipsUnseen(in: path) {
                let problems = try StoreInspection.verify(directory: dir.path).problems
                return problems.map(\.block) == [blocks[0]] && "\(problems)".contains(path)
            }
            #expect(unseen.isEmpty, "\(file): bytes whose damage went unseen: \(unseen)")
        }
        // A store whose samples are all in the WAL.
        let walDir = try TemporaryDirectory()
        defer { walDir.remove() }
        do {
            let db = try TSDB(directory: walDir.path, options: testOptions())
            fill(db, series: [labels("w"), labels("x")], count: 5)
        }
        let wal = try lastSegment(walDir.path)
        let unseen = try byteFlipsUnseen(in: wal) {
            let problems = try StoreInspection.verify(directory: walDir.path).problems
            return problems.map(\.block) == ["wal"] && "\(problems)".contains(wal + " at byte ")
        }
        #expect(unseen.isEmpty, "wal: bytes whose damage went unseen: \(unseen)")
    }

    @Test func metaJSONOfVersion1WithoutAChecksumIsStillRead() throws {
        let meta = #"{"compaction":{"level":1,"sources":[]},"maxTime":2,"minTime":1,"stats":{"chunkFileBytes":0,"chunks":0,"encodedBytes":0,"groups":0,"indexBytes":0,"samples":0,"series":0},"ulid":"01HM0000000000000000000000","version":1}"#
        #expect(try BlockMeta.decode(Array(meta.utf8), path: "meta.json").minTime == 1)
        #expect(throws: StorageError.self) { _ = try BlockMeta.decode(Array(meta.replacingOccurrences(of: #""version":1"#, with: #""version":2"#).utf8), path: "meta.json") }
    }

    @Test func retentionDeletesBlocksWhollyOlderThanTheWindow() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions()
        options.compactionRangesMillis = []
        options.retentionMillis = 150_000
        let db = try TSDB(directory: dir.path, options: options)
        fill(db, series: [labels("r")], count: 400) // 400 s of data
        db.maintain(now: t0)
        // Newest sample at 399 s: blocks ending before 249 s are gone.
        let metas = db.currentBlocks.map(\.meta)
        #expect(metas.allSatisfy { $0.maxTime >= t0 + 399_000 - 150_000 })
        #expect(metas.first?.minTime == t0 + 240_000)
        #expect(blockDirectories(dir.path).count == metas.count)
        #expect(try everything(db)[labels("r")]?.first?.timestamp == t0 + 240_000)
    }

    @Test func theSizeCapDeletesTheOldestBlocksFirst() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions()
        options.compactionRangesMillis = []
        var before: [BlockMeta] = []
        do {
            let db = try TSDB(directory: dir.path, options: options)
            fill(db, series: (0..<20).map { labels("s", ["i": "\($0)"]) }, count: 300) { s, i in Double(i * i + s) * 0.37 }
            db.maintain(now: t0)
            before = db.currentBlocks.map(\.meta)
        }
        #expect(before.count == 4)
        var capped = options
        capped.maxBytes = before.suffix(2).reduce(0) { $0 + Int64($1.stats.chunkFileBytes + $1.stats.indexBytes) }
        let db = try TSDB(directory: dir.path, options: capped)
        db.maintain(now: t0)
        #expect(db.currentBlocks.map(\.id) == before.suffix(2).map(\.ulid))
        #expect(blockDirectories(dir.path).count == 2)
    }
}
