import Testing
@testable import Retrospective

@Suite("Error-log templates")
struct LogTemplateTests {
    @Test(arguments: [
        ("upstream timeout after 1234ms calling redis", "upstream timeout after <duration> calling redis"),
        ("connection pool exhausted (17 waiting)", "connection pool exhausted (<num> waiting)"),
        ("user 'alice' not found", "user <quoted> not found"),
        ("request 3f2a9c0e1b7d4e55 failed from 10.0.3.7:8080", "request <hex> failed from <ip>"),
        ("order ord_8x2kq91 rejected, retry=3 took=1.5s", "order <id> rejected, retry=<num> took=<duration>"),
        ("payment declined by provider: code 51", "payment declined by provider: code <num>"),
        ("trace 9b2f-11ee-a1c3 at 0x7ffd1234", "trace <id> at <hex>"),
    ])
    func variablePartsAreMasked(_ line: String, _ template: String) {
        #expect(TemplateMiner.mask(line).joined(separator: " ") == template)
    }

    @Test func similarMessagesMergeAndTheLargestComeFirst() {
        var miner = TemplateMiner()
        let dependencies = ["postgres", "redis", "payments-gw", "search-index"]
        for i in 0..<40 { miner.add("upstream timeout after \(1000 + i * 37)ms calling \(dependencies[i % 4])") }
        for i in 0..<25 { miner.add("connection pool exhausted (\(i) waiting)") }
        for code in [5, 12, 51] { miner.add("payment declined by provider: code \(code)") }
        miner.add("unexpected EOF reading request body")
        let top = miner.top(3)
        #expect(top.map(\.template) == [
            "upstream timeout after <duration> calling <*>",
            "connection pool exhausted (<num> waiting)",
            "payment declined by provider: code <num>",
        ])
        #expect(top.map(\.count) == [40, 25, 3])
        #expect(top[0].example == "upstream timeout after 1000ms calling postgres")
        #expect(miner.top(10).count == 4)
    }

    @Test func differentMessagesOfOneLengthStayApart() {
        var miner = TemplateMiner()
        miner.add("disk full on /var")
        miner.add("cache miss for key")
        #expect(miner.top(5).count == 2)
    }
}
