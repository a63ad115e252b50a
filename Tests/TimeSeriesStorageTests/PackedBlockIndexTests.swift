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
        for (position, s) in index.series.enumerated() {
            #expect(packed.labels(position) == s.labels)
            #expect(packed.chunks(position) == s.chunks)
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
        #expect(packed.candidates([try LabelMatcher("host", .equal, "h99")]) == ([], true))
        #expect(packed.candidates([regex]).positions.count == index.series.count)
    }

    /// A series with a chunk in range is found without decoding the others.
    @Test func chunksInRange() throws {
        let packed = try PackedBlockIndex.decode(written().encoded(), path: "index")
        let position = (0..<packed.seriesCount).first { packed.chunks($0).count == 3 }!
        let chunks = packed.chunks(position)
        #expect(packed.hasChunk(position, start: chunks[1].minTime, end: chunks[1].minTime))
        #expect(packed.hasChunk(position, start: chunks[2].maxTime, end: .max))
        #expect(!packed.hasChunk(position, start: chunks[2].maxTime + 1, end: .max))
        #expect(!packed.hasChunk(position, start: .min, end: chunks[0].minTime - 1))
    }

    @Test func aDamagedOrForeignFileIsRefusedWithItsOffset() throws {
        var bytes = written().encoded()
        bytes[20] ^= 0x40
        #expect(throws: StorageError.self) { try PackedBlockIndex.decode(bytes, path: "index") }
        #expect(throws: StorageError.self) { try PackedBlockIndex.decode(Array("TLYC\u{1}\0\0\0".utf8), path: "index") }
        #expect(throws: StorageError.self) { try PackedBlockIndex.decode([], path: "index") }
    }
}
