import BlockCodec
import TallyTestKit
import TelemetryModel
import Testing
@testable import TimeSeriesStorage

@Suite("Head label sets")
struct HeadLabelTests {
    private func makeHead(_ dir: TemporaryDirectory) throws -> Head {
        Head(options: StorageOptions(), chunks: try HeadChunkFile(directory: dir.path + "/chunks_head"))
    }

    private func series(_ i: Int) -> Labels {
        Labels(name: "m_\(i % 50)", ["host": "h\(i % 16)", "id": "\(i)", "env": i % 3 == 0 ? "prod" : "dev"])
    }

    @Test func labelSetsRoundTripAndAreFoundAgain() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var head = try makeHead(dir)
        var wrong = 0
        for i in 0..<5_000 {
            let (slot, created) = head.getOrCreate(series(i))
            if !created || slot != i { wrong += 1 }
        }
        for i in 0..<5_000 {
            if head.labels(of: i) != series(i) { wrong += 1 }
            if head.getOrCreate(series(i)) != (i, false) || head.slot(of: series(i)) != i { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(head.slot(of: Labels(name: "m_1", ["host": "h1"])) == nil)
        #expect(head.seriesCount(named: "m_7") == 100)
    }

    @Test func canonicallyEqualSpellingsAreTwoSeries() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var head = try makeHead(dir)
        let a = head.getOrCreate(Labels(name: "cafe", ["city": "caf\u{E9}"]))
        let b = head.getOrCreate(Labels(name: "cafe", ["city": "cafe\u{301}"]))
        #expect(a.created && b.created && a.slot != b.slot)
        #expect(head.labels(of: b.slot)["city"]!.utf8.count == 6)
    }

    @Test func matchingAgreesWithTheMatchersOnMaterialisedLabels() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var head = try makeHead(dir)
        for i in 0..<3_000 { _ = head.getOrCreate(series(i)) }
        let selectors: [[LabelMatcher]] = [
            [try LabelMatcher("__name__", .equal, "m_3")],
            [try LabelMatcher("__name__", .equal, "m_3"), try LabelMatcher("env", .notEqual, "prod")],
            [try LabelMatcher("host", .regexMatch, "h1.?"), try LabelMatcher("id", .regexNoMatch, ".*7")],
            [try LabelMatcher("missing", .equal, "")],
            [try LabelMatcher("missing", .notEqual, "")],
            [try LabelMatcher("env", .equal, "nowhere")],
            [try LabelMatcher("env", .notEqual, "nowhere"), try LabelMatcher("__name__", .regexMatch, "m_4[0-9]")],
            [try LabelMatcher("host", .equal, "")],
        ]
        for matchers in selectors {
            let expected = (0..<3_000).filter { matchers.allMatch(series($0)) }
            #expect(head.matching(matchers).sorted() == expected, "\(matchers)")
        }
    }

    @Test func churnGivesBackSymbolsSlotsAndPostings() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var head = try makeHead(dir)
        // Series that stay, then rounds of series that come and go (new ids each round).
        for i in 0..<1_000 { _ = head.getOrCreate(series(i)) }
        for i in 0..<1_000 { _ = head.append(slot: i, timestamp: 1_000_000, value: 1) }
        let steady = head.symbols.count
        for round in 1...6 {
            let base = round * 100_000
            for i in base..<base + 20_000 {
                let (slot, _) = head.getOrCreate(series(i))
                _ = head.append(slot: slot, timestamp: Int64(round) * 10_000_000, value: 2)
            }
            #expect(head.seriesCount == 21_000)
            // The churned series' samples are older than the next round's cut.
            for i in 0..<1_000 { _ = head.append(slot: i, timestamp: Int64(round + 1) * 10_000_000, value: 1) }
            head.truncate(before: Int64(round + 1) * 10_000_000)
            #expect(head.seriesCount == 1_000)
        }
        #expect(head.symbols.count == steady)
        #expect(head.series.count <= 21_000)
        var wrong = 0
        for i in 0..<1_000 where head.slot(of: series(i)) != i || head.labels(of: i) != series(i) { wrong += 1 }
        #expect(wrong == 0)
        #expect(head.matching([try LabelMatcher("__name__", .equal, "m_3")]).count == 20)
    }
}
