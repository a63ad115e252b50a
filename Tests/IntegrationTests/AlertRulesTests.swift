import Foundation
import TallyTestKit
import Testing

private let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Deploy/prometheus/tally-alerts.yml, the alerts on tally's own figures:
/// valid for Prometheus (`promtool check rules`), firing and staying quiet as
/// its unit tests say (`promtool test rules`), and every expression one that
/// tally's own PromQL evaluates over the figures it stores of itself.
@Suite("Alerting rules for tally's own metrics", .enabled(if: promtool != nil, "needs promtool (.ci/deps --test installs prometheus)"))
struct AlertRulesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Deploy/prometheus").path

    @Test func promtoolChecksTheRules() async throws {
        let checked = try await runProcess(promtool!, ["check", "rules", Self.directory + "/tally-alerts.yml"])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("SUCCESS: 16 rules found"), "\(checked.output)")
    }

    @Test func promtoolUnitTestsPass() async throws {
        let tested = try await runProcess(promtool!, ["test", "rules", Self.directory + "/tally-alerts.test.yml"])
        #expect(tested.status == 0, "\(tested.output)")
        #expect(tested.output.contains("SUCCESS"), "\(tested.output)")
    }

    @Test func everyRuleTestedFires() throws {
        // Each alert of the rules file has a test case that expects it to fire.
        let rules = try String(contentsOfFile: Self.directory + "/tally-alerts.yml", encoding: .utf8)
        let tests = try String(contentsOfFile: Self.directory + "/tally-alerts.test.yml", encoding: .utf8)
        let names = rules.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- alert: ") ? String(trimmed.dropFirst("- alert: ".count)) : nil
        }
        #expect(names.count == 16)
        for name in names {
            // The alert's test block: from its alertname line to the next one.
            let blocks = tests.components(separatedBy: "alertname: \(name)\n").dropFirst()
            #expect(blocks.contains { $0.components(separatedBy: "alertname:").first?.contains("exp_labels") == true },
                    "no test case makes \(name) fire")
        }
    }

    @Test func tallyEvaluatesEveryExpressionOverItsOwnFigures() async throws {
        let tally = try TallyProcess(extraArguments: ["--self-monitoring-interval", "500ms"])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        _ = try await tally.waitFor("/api/v1/query?query=up") { _, body in body.contains(#""job":"tally""#) }
        let rules = try String(contentsOfFile: Self.directory + "/tally-alerts.yml", encoding: .utf8)
        let expressions = Self.expressions(rules)
        #expect(expressions.count == 16)
        for expression in expressions {
            let answer = try await tally.get("/api/v1/query?query=" + urlEncoded(expression))
            #expect(answer.status == 200 && answer.body.contains(#""status":"success""#), "\(expression): \(answer.body)")
        }
        // A healthy tally fires none of them (TallyDown aside, which asks for up == 0).
        let firing = try await tally.get("/api/v1/query?query=" + urlEncoded(expressions[1]))
        #expect(firing.body.contains(#""result":[]"#), "\(firing.body)")
        #expect(await tally.stop() == 0)
    }

    /// The `expr:` of each rule, folded lines joined.
    static func expressions(_ rules: String) -> [String] {
        var found: [String] = []
        var folding = false
        for line in rules.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("expr: >-") {
                folding = true
                found.append("")
            } else if trimmed.hasPrefix("expr: ") {
                folding = false
                found.append(String(trimmed.dropFirst("expr: ".count)))
            } else if folding, line.hasPrefix("          ") {
                found[found.count - 1] += (found[found.count - 1].isEmpty ? "" : " ") + trimmed
            } else {
                folding = false
            }
        }
        return found
    }
}
