import Foundation
import Testing
import DurableFiles
import TallyTestKit
import TelemetryModel
@testable import TimeSeriesStorage

/// A block's index read as the file holds it gives back every series'
/// labels and chunks, and every posting list, as the writer built them.
@Suite("Packed block index")
struct PackedBlockIndexTests {
    /// 2,000 series: names shared by several series, hosts shared by many,
    /// values of every length including non-ASCII ones, 1 to 5 chunks each.
    func written() -> BlockIndex {
        var series: [IndexedSeries] = []
        for i in 0..<2_000 {
            var pairs = [Label(Labels.metricName, "metric_\(i / 4)"), Label("host", "h\(i % 16)")]
            if i % 3 == 0 { pairs.append(Label("path", String(repeating: "é/", count: i % 40) + "\(i)")) }
            if i % 7 == 0 { pairs.append(Label("zone", "ü\(i % 2)")) }
            var chunks: [ChunkRef] = []
            var time = Int64(i) * 1_000
            for k in 0..<(1 + i % 5) {
                chunks.append(ChunkRef(minTime: time, maxTime: time + 59_000, count: 60, offsetInGroup: Int32(k * 300), group: Int64(8 + (i / 50) * 4_096)))
                time += 60_000
            }
            series.append(IndexedSeries(labels: Labels(pairs), chunks: chunks))
        }
        // Positions in label order, as the writer keeps them.
        series.sort { $0.labels.lexicographicallyPrecedes($1.labels) }
        var postings: [String: [String: [Int32]]] = [:]
        for (position, s) in series.enumerated() {
            for label in s.labels { postings[label.name, default: [:]][label.value, default: []].append(Int32(position)) }
        }
        return BlockIndex(series: series, postings: postings)
    }

    @Test func everySeriesChunkAndPostingListReadsBackFromTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let index = written()
        let path = dir.path + "/index"
        try FileSystem.writeFile(path, index.encoded())
        let packed = try PackedBlockIndex.open(path)
        #expect(packed.seriesCount == index.series.count)
        let all = packed.allSeries()
        #expect(all.count == index.series.count)
        for (position, s) in index.series.enumerated() {
            let series = packed.series(at: position)
            #expect(series == all[position])
            #expect(packed.labels(series) == s.labels)
            #expect(packed.chunks(series) == s.chunks)
            if position + 1 < index.series.count { #expect(packed.series(after: series) == all[position + 1]) }
        }
        for (name, values) in index.postings {
            for (value, list) in values { #expect(packed.postings(name, value) == list, "\(name)=\(value)") }
        }
        #expect(packed.postings("host", "h99").isEmpty && packed.postings("nope", "h1").isEmpty)
    }

    @Test func candidatesComeFromThePostingsAndSayWhenLabelsMustBeTested() throws {
        let index = written()
        let packed = try PackedBlockIndex.decode(index.encoded(), path: "index")
        let host = try LabelMatcher("host", .equal, "h3")
        let name = try LabelMatcher(Labels.metricName, .equal, "metric_3")
        let (both, decided) = packed.candidates([name, host])
        #expect(decided)
        #expect(both.map { packed.labels($0) } == index.series.filter { host.matches($0.labels) && name.matches($0.labels) }.map(\.labels))
        let regex = try LabelMatcher("zone", .regexMatch, "ü.")
        let (some, undecided) = packed.candidates([host, regex])
        #expect(!undecided && some.count == index.postings["host"]!["h3"]!.count)
        let none = packed.candidates([try LabelMatcher("host", .equal, "h99")])
        #expect(none.series.isEmpty && none.decided)
        #expect(packed.candidates([regex]).series == packed.allSeries())
    }

    /// A series with a chunk in range is found without decoding the others.
    @Test func chunksInRange() throws {
        let packed = try PackedBlockIndex.decode(written().encoded(), path: "index")
        let series = packed.allSeries().first { packed.chunks($0).count == 3 }!
        let chunks = packed.chunks(series)
        #expect(packed.hasChunk(series, start: chunks[1].minTime, end: chunks[1].minTime))
        #expect(packed.hasChunk(series, start: chunks[2].maxTime, end: .max))
        #expect(!packed.hasChunk(series, start: chunks[2].maxTime + 1, end: .max))
        #expect(!packed.hasChunk(series, start: .min, end: chunks[0].minTime - 1))
    }

    /// Churn's shape: every series a name of its own, all sharing one long
    /// `env` list and a few hosts; some series with hundreds of chunks. In
    /// memory the block keeps a few bytes per series, not the ~20 that an
    /// offset per symbol, series and list took (which grew without end
    /// under name churn), and every lookup, hit or miss, still answers right.
    @Test func memoryIsSampledAndEveryLookupStillAnswers() throws {
        var series: [IndexedSeries] = []
        for i in 0..<20_000 {
            let labels = Labels([Label(Labels.metricName, "churn_\(i)"), Label("env", "prod"), Label("host", "h\(i % 7)")])
            let chunkCount = i % 997 == 0 ? 400 : 1
            let chunks = (0..<chunkCount).map { k in
                ChunkRef(minTime: Int64(k) * 60_000, maxTime: Int64(k) * 60_000 + 59_000, count: 60, offsetInGroup: Int32(k * 100), group: 8)
            }
            series.append(IndexedSeries(labels: labels, chunks: chunks))
        }
        series.sort { $0.labels.lexicographicallyPrecedes($1.labels) }
        var postings: [String: [String: [Int32]]] = [:]
        for (position, s) in series.enumerated() {
            for label in s.labels { postings[label.name, default: [:]][label.value, default: []].append(Int32(position)) }
        }
        let packed = try PackedBlockIndex.decode(BlockIndex(series: series, postings: postings).encoded(), path: "index")
        #expect(packed.residentBytes < 3 * series.count, "\(packed.residentBytes) bytes for \(series.count) series")
        let all = packed.allSeries()
        for position in stride(from: 0, to: series.count, by: 13) {
            #expect(packed.labels(all[position]) == series[position].labels)
            #expect(packed.chunks(packed.series(at: position)) == series[position].chunks)
        }
        for (name, values) in postings {
            for (value, list) in values { #expect(packed.postings(name, value) == list, "\(name)=\(value)") }
        }
        // Misses before, between and after the stored pairs and symbols.
        #expect(packed.postings(Labels.metricName, "churn_10000x").isEmpty)
        #expect(packed.postings(Labels.metricName, "a").isEmpty && packed.postings(Labels.metricName, "zzz").isEmpty)
        #expect(packed.postings("env", "churn_5").isEmpty && packed.postings("host", "prod").isEmpty)
        #expect(packed.postings("", "").isEmpty && packed.postings("~", "~").isEmpty)
        // Positions found by walking on from the one before agree with those found alone.
        let some: [Int32] = [0, 1, 31, 32, 33, 500, 501, 9_999, 19_999]
        #expect(packed.series(at: some) == some.map { packed.series(at: Int($0)) })
        #expect(packed.series(at: some) == some.map { all[Int($0)] })
    }

    @Test func aDamagedOrForeignFileIsRefusedWithItsOffset() throws {
        var bytes = written().encoded()
        bytes[20] ^= 0x40
        #expect(throws: StorageError.self) { try PackedBlockIndex.decode(bytes, path: "index") }
        #expect(throws: StorageError.self) { try PackedBlockIndex.decode(Array("TLYC\u{1}\0\0\0".utf8), path: "index") }
        #expect(throws: StorageError.self) { try PackedBlockIndex.decode([], path: "index") }
    }
}
