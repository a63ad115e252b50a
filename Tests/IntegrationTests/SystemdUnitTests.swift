import Foundation
import TallyTestKit
import Testing

/// The systemd unit of Deploy/systemd, as `systemd-analyze` judges it without
/// a running systemd: its exposure stays "OK" (2.5 or less; 1.7 when this was
/// written, Deploy/README.md). The packaged unit is verified by DebianPackageTests.
@Suite("systemd unit")
struct SystemdUnitTests {
    static let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Deploy/systemd/tally.service").path

    @Test func theUnitsExposureStaysLow() async throws {
        let analyze = try #require(["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "systemd-analyze is installed by .ci/deps --test (Debian's systemd)")
        let result = try await runProcess(analyze, ["security", "--offline=yes", "--threshold=25", Self.unit])
        #expect(result.status == 0, "\(result.output.suffix(2_000))")
        let overall = result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }.map(String.init) ?? ""
        let score = Double(overall.split(separator: " ").first { Double($0) != nil } ?? "") ?? 99
        #expect(score <= 2.5, "\(overall)")
    }
}
