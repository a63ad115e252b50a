import BlockCodec
import DurableFiles
import Foundation
import TallyTestKit
import TelemetryModel
import Testing
@testable import TimeSeriesStorage

@Suite("Storage engine: WAL, head, blocks")
struct TSDBTests {
    @Test func samplesSurviveARestartThroughTheWAL() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let series = [labels("a"), labels("b", ["k": "v"])]
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            expected = fill(db, series: series, count: 30)
            #expect(try everything(db) == expected)
        }
        let reopened = try TSDB(directory: dir.path, options: testOptions())
        #expect(reopened.openReport.walRecords > 0)
        #expect(try everything(reopened) == expected)
    }

    /// A first flush of more new series than one WAL write takes is logged
    /// in slices (series records, then sample records) and replays whole.
    @Test func aFlushLargerThanOneWALSliceReplaysWhole() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let count = TSDB.walSliceRecords * 2 + 123
        let series = (0..<count).map { labels("wide_\($0 % 7)", ["id": "\($0)"]) }
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            expected = fill(db, series: series, count: 2)
        }
        let reopened = try TSDB(directory: dir.path, options: testOptions())
        // A record per series (logged with the first flush), and three sample records per flush.
        #expect(reopened.openReport.walRecords == count + 2 * 3)
        #expect(try everything(reopened) == expected)
    }

    @Test func specialFloatsRoundTripThroughHeadWALAndBlocks() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let specials: [Double] = [.nan, .infinity, -.infinity, -0.0, 0.0, Double(bitPattern: 0x7FF8_0000_0000_0123), Double.leastNonzeroMagnitude * 3, 0.1]
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            expected = fill(db, series: [labels("special")], step: 10_000, count: 40) { _, i in specials[i % specials.count] }
            db.maintain(now: t0)
            #expect(!db.currentBlocks.isEmpty)
            #expect(try bitwise(everything(db)) == bitwise(expected))
        }
        let reopened = try TSDB(directory: dir.path, options: testOptions())
        #expect(try bitwise(everything(reopened)) == bitwise(expected))
    }

    /// A block is written from the head a batch of series at a time: with
    /// more series than one batch, in label order across batches, every
    /// sample is in the block or still in the head, before and after a restart.
    @Test func aBlockOfMoreSeriesThanOneCopyBatchLosesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let count = TSDB.blockBatchSeries * 2 + 7
        // Names that sort differently from their creation order.
        let series = (0..<count).map { labels("b_\(($0 * 7_919) % count)", ["k": "\($0 % 3)"]) }
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            expected = fill(db, series: series, step: 10_000, count: 10)
            db.maintain(now: t0)
            #expect(db.currentBlocks.count == 1)
            #expect(try everything(db) == expected)
        }
        let reopened = try TSDB(directory: dir.path, options: testOptions())
        #expect(try everything(reopened) == expected)
    }

    @Test func headIsWrittenToBlocksAndTheWALIsCheckpointed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let series = (0..<5).map { labels("m", ["i": "\($0)"]) }
        var options = testOptions()
        options.compactionRangesMillis = []
        let db = try TSDB(directory: dir.path, options: options)
        let expected = fill(db, series: series, count: 300) // 5 minutes at 1 s
        db.maintain(now: t0)
        // The head keeps under one and a half block ranges; the rest is in
        // one-minute blocks: [0, 60 s) … [180 s, 240 s).
        let metas = db.currentBlocks.map(\.meta)
        #expect(metas.map(\.minTime) == [0, 1, 2, 3].map { t0 + $0 * 60_000 })
        #expect(metas.map(\.maxTime) == [0, 1, 2, 3].map { t0 + $0 * 60_000 + 59_000 })
        #expect(metas.allSatisfy { $0.stats.series == 5 && $0.stats.samples == 300 && $0.compaction.level == 1 })
        #expect(blockDirectories(dir.path).count == 4)
        #expect(try everything(db) == expected)
        let walFiles = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/wal")
        #expect(walFiles.contains { $0.hasPrefix("checkpoint.") })
    }

    @Test func compactionMergesAWindowWithIdenticalAnswers() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let series = (0..<6).map { labels("m", ["i": "\($0)"]) }
        var options = testOptions()
        options.compactionRangesMillis = []
        var before: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: options)
            fill(db, series: series, count: 300) { s, i in s == 0 ? Double(i) * 0.37 : Double(i / 7) }
            db.maintain(now: t0)
            #expect(db.currentBlocks.count == 4)
            before = try everything(db)
        }
        // Reopened with a four-minute compaction range: the four blocks fill
        // its first window, which the head has passed.
        let db = try TSDB(directory: dir.path, options: testOptions())
        db.maintain(now: t0)
        let metas = db.currentBlocks.map(\.meta)
        #expect(metas.count == 1)
        #expect(metas.first?.compaction.level == 2 && metas.first?.compaction.sources.count == 4)
        #expect(metas.first?.stats.samples == 6 * 240)
        #expect(blockDirectories(dir.path).count == 1)
        #expect(try everything(db) == before)
    }

    /// A pass over a whole block (a compaction's) gives every series' points
    /// as a query does, and leaves the queries' cache of groups as it was.
    @Test func aWholeBlockPassLeavesTheQueryCacheAlone() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions()
        options.compactionRangesMillis = []
        let db = try TSDB(directory: dir.path, options: options)
        fill(db, series: (0..<40).map { labels("m", ["i": "\($0)"]) }, count: 200) { s, i in Double(s * i) * 0.25 }
        db.maintain(now: t0)
        let block = try #require(db.currentBlocks.first)
        var scan = Block.Scan()
        var passed: [[Point]] = []
        for series in block.index.allSeries() { passed.append(try block.allPoints(of: series, scan: &scan)) }
        #expect(db.cache.byteCount == 0)
        let queried = try block.index.allSeries().map { try block.points(of: $0, start: .min, end: .max) }
        #expect(db.cache.byteCount > 0, "queries do fill it")
        #expect(passed == queried && passed.allSatisfy { !$0.isEmpty })
    }

    /// Blocks holding different series (some in every block, some in one)
    /// merge list by list in label order: every series and sample, once.
    @Test func compactionMergesBlocksWithDifferentSeries() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions()
        options.compactionRangesMillis = []
        var before: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: options)
            // Minute k: the series every block has, and those of minute k alone, in
            // names that sort before, between and after the shared ones.
            for minute in 0..<5 {
                var series = ["b", "d"].map { labels($0) }
                series += ["a\(minute)", "c\(minute)", "e\(minute)"].map { labels($0, ["k": "\(minute)"]) }
                fill(db, series: series, start: t0 + Int64(minute) * 60_000, step: 5_000, count: 12)
            }
            db.maintain(now: t0)
            #expect(db.currentBlocks.count == 4)
            before = try everything(db)
        }
        let db = try TSDB(directory: dir.path, options: testOptions())
        db.maintain(now: t0)
        #expect(db.currentBlocks.count == 1 && db.currentBlocks.first?.meta.compaction.sources.count == 4)
        #expect(db.currentBlocks.first?.meta.stats.series == 2 + 3 * 4)
        #expect(try everything(db) == before)
    }

    @Test func queriesMatchAfterReopenWithBlocksAndCheckpoint() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let series = (0..<4).map { labels("m", ["i": "\($0)"]) }
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            expected = fill(db, series: series, count: 250)
            db.maintain(now: t0)
            // More samples after the checkpoint.
            for (labels, points) in fill(db, series: series, start: t0 + 250_000, count: 20) {
                expected[labels, default: []].append(contentsOf: points)
            }
        }
        let reopened = try TSDB(directory: dir.path, options: testOptions())
        #expect(try everything(reopened) == expected)
        // Samples older than the persisted range are refused after a restart too.
        let ref = reopened.register(series[0])
        reopened.append([RefSample(ref: ref, timestamp: t0, value: 1)])
        #expect(try everything(reopened)[series[0]] == expected[series[0]])
    }

    /// The checkpoint is read and written a batch of series at a time (and
    /// a megabyte at a time): with more series than a batch, and more bytes
    /// than a write, a restart still finds every series and sample.
    @Test func aCheckpointOfManyBatchesKeepsEverySeries() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let series = (0..<(2 * TSDB.blockBatchSeries + 100)).map { labels("m_\($0 % 97)", ["i": "\($0)"]) }
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            expected = fill(db, series: series, count: 100)
            db.maintain(now: t0)
            #expect(db.currentBlocks.count == 1)
            for (labels, points) in fill(db, series: series, start: t0 + 100_000, count: 5) {
                expected[labels, default: []].append(contentsOf: points)
            }
        }
        let walFiles = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/wal")
        #expect(walFiles.contains { $0.hasPrefix("checkpoint.") } && !walFiles.contains { $0.hasSuffix(".tmp") })
        let checkpoint = try #require(walFiles.first { $0.hasPrefix("checkpoint.") })
        let size = try FileManager.default.attributesOfItem(atPath: dir.path + "/wal/" + checkpoint)[.size] as? Int ?? 0
        #expect(size > 1 << 20, "the checkpoint spans several writes")
        let reopened = try TSDB(directory: dir.path, options: testOptions())
        #expect(try everything(reopened) == expected)
    }

    /// Head chunks integer coded, XOR coded and recoded from one to the
    /// other in the middle go through the head chunk file, a checkpoint's
    /// chunk records and a restart sample for sample.
    @Test func everyHeadChunkCodingSurvivesACheckpointAndARestart() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let series = (0..<4).map { labels("mixed", ["i": "\($0)"]) }
        let value: (Int, Int) -> Double = { s, i in
            switch s {
            case 0: Double(i * 1_000 + i % 7) // integers
            case 1: Double(i) * 0.1 // fractions
            case 2: i % 8 == 5 ? Double(i) + 0.5 : Double(i) // integers until a fraction, in every 8-sample chunk
            default: i == 40 ? 1e15 : Double(i) // a jump past 2^31
            }
        }
        var expected: [Labels: [Point]] = [:]
        do {
            let db = try TSDB(directory: dir.path, options: testOptions())
            // Closed chunks of 8 samples wait in the head chunk file and go into the checkpoint.
            expected = fill(db, series: series, count: 400, value: value)
            db.maintain(now: t0)
            for (labels, points) in fill(db, series: series, start: t0 + 400_000, count: 300, value: { value($0, $1 + 400) }) {
                expected[labels, default: []].append(contentsOf: points)
            }
            #expect(try everything(db) == expected)
        }
        let reopened = try TSDB(directory: dir.path, options: testOptions())
        #expect(try everything(reopened) == expected)
    }

    /// With chunks of thousands of samples, an integer-coded chunk that meets
    /// a fraction could outgrow a chunk's 64 KiB when recoded as XOR: it is
    /// closed instead, and a shorter one is recoded in place.
    @Test(arguments: [1_000, 5_000])
    func aLongIntegerChunkIsCutRatherThanRecodedPastItsLimit(samples: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions()
        options.chunkSamples = 65_535
        options.blockDurationMillis = 86_400_000
        let db = try TSDB(directory: dir.path, options: options)
        let series = [labels("long_chunk")]
        var rng = SplitMix64(seed: 3)
        var expected = fill(db, series: series, count: samples) { _, _ in Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) }
        for (labels, points) in fill(db, series: series, start: t0 + Int64(samples) * 1_000, count: 1, value: { _, _ in 0.5 }) {
            expected[labels, default: []].append(contentsOf: points)
        }
        #expect(db.headStats.chunks == (samples * HeadSampleEncoder.maxSampleBytes > HeadChunkRef.maxLength - 64 ? 1 : 0))
        #expect(try everything(db) == expected)
    }

    @Test func selectorsUsePostingsAndMatchersOverHeadAndBlocks() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try TSDB(directory: dir.path, options: testOptions())
        let series = [
            labels("http_requests_total", ["job": "api", "code": "200"]),
            labels("http_requests_total", ["job": "api", "code": "500"]),
            labels("http_requests_total", ["job": "web", "code": "200"]),
            labels("up", ["job": "api"]),
        ]
        fill(db, series: series, count: 200)
        db.maintain(now: t0)
        func names(_ matchers: [LabelMatcher], _ start: Int64 = .min, _ end: Int64 = .max) throws -> [String] {
            try db.select(matchers, start: start, end: end).map { $0.labels.description }
        }
        let byName = try LabelMatcher("__name__", .equal, "http_requests_total")
        #expect(try names([byName]).count == 3)
        #expect(try names([byName, try LabelMatcher("code", .notEqual, "200")]) == [#"http_requests_total{code="500", job="api"}"#])
        #expect(try names([byName, try LabelMatcher("job", .regexMatch, "a.*")]).count == 2)
        #expect(try names([byName, try LabelMatcher("job", .regexMatch, "a")]).isEmpty) // anchored
        #expect(try names([byName, try LabelMatcher("job", .regexNoMatch, "api|web")]).isEmpty)
        #expect(try names([try LabelMatcher("job", .equal, "api")]).count == 3)
        #expect(try names([try LabelMatcher("missing", .equal, ""), byName]).count == 3)
        // A range inside one block returns only that range's points.
        let slice = try db.select([byName], start: t0 + 10_000, end: t0 + 19_999)
        #expect(slice.allSatisfy { $0.points.count == 10 && $0.points.first?.timestamp == t0 + 10_000 })
        #expect(db.series([byName], start: t0 + 100_000, end: t0 + 100_000).count == 3)
        #expect(db.series([byName], start: t0 + 1_000_000, end: .max).isEmpty)
    }

    @Test func outOfOrderIsRejectedAndExactDuplicatesDropped() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try TSDB(directory: dir.path, options: testOptions())
        let ref = db.register(labels("x"))
        db.append([RefSample(ref: ref, timestamp: t0 + 2_000, value: 2)])
        db.append([RefSample(ref: ref, timestamp: t0 + 1_000, value: 1)]) // out of order
        db.append([RefSample(ref: ref, timestamp: t0 + 2_000, value: 2)]) // exact duplicate
        db.append([RefSample(ref: ref, timestamp: t0 + 2_000, value: 3)]) // same time, other value
        db.append([RefSample(ref: ref, timestamp: t0 + 3_000, value: 4)])
        #expect(try everything(db)[labels("x")] == [Point(timestamp: t0 + 2_000, value: 2), Point(timestamp: t0 + 3_000, value: 4)])
    }

    @Test func aSecondProcessOnTheSameDirectoryIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try TSDB(directory: dir.path, options: testOptions())
        defer { withExtendedLifetime(db) {} }
        #expect {
            _ = try TSDB(directory: dir.path, options: testOptions())
        } throws: { error in
            "\(error)".contains("in use by another tally")
        }
    }

    private func bitwise(_ data: [Labels: [Point]]) -> [Labels: [UInt64]] {
        data.mapValues { $0.map(\.value.bitPattern) }
    }
}
