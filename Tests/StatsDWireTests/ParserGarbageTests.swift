import TallyTestKit
import Testing
@testable import StatsDWire

/// Damaged StatsD lines parse or fail with a reason; none crashes the parser.
@Suite("StatsD parser on damaged lines")
struct ParserGarbageTests {
    static let lines = [
        "api.req-count:1:2:3|c|@0.5|#env:prod,region:eu,flag|c:abc123|T1764400000",
        "queue.depth:-42.5e2|g|#a:b",
        "users.online:alice|s",
        "_e{5,11}:Title|text\\nmore|d:1764400000|h:host|k:key|p:low|s:src|t:error|#event:deployment,service:api",
        "_sc|db.up|2|d:1764400000|h:db1|#env:prod|m:connection refused",
    ]

    @Test(arguments: lines.indices)
    func damagedLinesParseOrFailWithAReason(_ index: Int) {
        var mutator = Mutator(seed: UInt64(index) + 3031)
        let parser = StatsDParser()
        var failures = 0
        for round in 0..<10_000 {
            let bytes = round % 10 == 9 ? mutator.garbage(maxCount: 200) : mutator.mutate(Array(Self.lines[index].utf8))
            bytes.withUnsafeBytes { raw in
                if case .failure = parser.parse(raw, now: 1_764_400_000_000) { failures += 1 }
            }
        }
        #expect(failures > 0)
    }
}
