import Foundation
import LogQL
import PromQL
import Testing
@testable import WebUI

@Suite("Web UI assets")
struct UIAssetsTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/WebUI/Assets").path

    /// Every file in the assets folder is served, byte for byte, and nothing else is.
    @Test func everyAssetFileIsServedAsItIs() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { !$0.hasPrefix(".") }
        #expect(Set(names) == Set(UIAssets.files.keys))
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.folder + "/" + name)))
            let same = UIAssets.files[name]?.bytes == bytes
            #expect(same, "\(name) is not served as it is in the folder")
        }
        #expect(UIAssets.pages.values.allSatisfy { UIAssets.files[$0] != nil })
    }

    /// The budget: the whole UI in at most 300 KB before compression.
    @Test func theWholeUIStaysWithinItsBudget() {
        let total = UIAssets.files.values.reduce(0) { $0 + $1.bytes.count }
        #expect(total <= 300_000, "\(total) bytes")
    }

    @Test func typesAndTagsFollowTheFiles() {
        #expect(UIAssets.files["ui.css"]?.contentType == "text/css; charset=utf-8")
        #expect(UIAssets.files["nav.js"]?.contentType == "text/javascript; charset=utf-8")
        #expect(UIAssets.files["cardinality.html"]?.contentType == "text/html; charset=utf-8")
        let tags = UIAssets.files.values.map(\.etag)
        #expect(Set(tags).count == tags.count && tags.allSatisfy { $0.count == 18 && $0.hasPrefix("\"") })
        #expect(UIAssets.etag(of: []) == "\"cbf29ce484222325\"")
    }

    /// The quoted words of one `export const NAME = [ … ];` list in one of the word files.
    static func wordList(_ name: String, in file: String = "promql-words.js") throws -> [String] {
        let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
        let start = try #require(text.range(of: "export const \(name) = ["))
        let end = try #require(text.range(of: "];", range: start.upperBound..<text.endIndex))
        return text[start.upperBound..<end.lowerBound].split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The expression box completes exactly the functions and aggregations the engine evaluates.
    @Test func completionKnowsThePromQLEngineWords() throws {
        #expect(try Set(Self.wordList("functions")) == Set(Function.all.keys))
        let listed = try Set(Self.wordList("aggregations"))
        #expect(listed == Set(AggregationOp.allCases.map(\.rawValue)), "\(listed.sorted())")
    }

    /// The logs box completes exactly the range functions and aggregations the LogQL engine evaluates.
    @Test func completionKnowsTheLogQLEngineWords() throws {
        let functions = try Set(Self.wordList("functions", in: "logql-words.js"))
        #expect(functions == Set(RangeAggregation.Op.allCases.map(\.rawValue)), "\(functions.sorted())")
        let aggregations = try Set(Self.wordList("aggregations", in: "logql-words.js"))
        #expect(aggregations == Set(VectorAggregation.Op.allCases.map(\.rawValue)), "\(aggregations.sorted())")
    }
}
