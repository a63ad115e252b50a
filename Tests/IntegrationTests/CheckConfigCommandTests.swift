import Foundation
import TallyTestKit
import Testing

/// `tally check-config`: the shipped config passes; a broken one is reported problem by problem.
@Suite("tally check-config")
struct CheckConfigCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func theShippedConfigPassesAndABrokenOneListsEveryProblem() async throws {
        let binary = try TallyProcess.binaryPath()
        let shipped = try await runProcess(binary, ["check-config", Self.root + "/Config/tally.yaml"])
        #expect(shipped.status == 0 && shipped.output.contains("Config/tally.yaml: ok"), "\(shipped.output)")
        let broken = try ConfigFile("flush_interval: soon\nstorage:\n  retention: 15d\n  retention_typo: 1d\nlogs:\n  max_entries_limit_per_query: 0\n")
        let checked = try await runProcess(binary, ["check-config", Self.root + "/Config/tally.yaml", broken.path])
        #expect(checked.status == 1)
        let lines = checked.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(broken.path):1: flush_interval: ") }, "\(lines)")
        #expect(lines.contains("\(broken.path):4: storage.retention_typo: unknown key"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(broken.path):6: logs.max_entries_limit_per_query: ") }, "\(lines)")
        let web = try ConfigFile("basic_auth_users:\n  alice: not-a-hash\nunknown: 1\n")
        let webChecked = try await runProcess(binary, ["check-config", "--web-config", web.path])
        #expect(webChecked.status == 1 && webChecked.output.split(separator: "\n").count == 2, "\(webChecked.output)")
    }
}
