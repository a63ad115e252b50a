import Foundation
import TallyTestKit
import Testing

/// Asked for (`.ci/deploy-check` sets TALLY_NSPAWN_CHECK=1), as root with debootstrap and systemd-nspawn:
/// it fetches a Debian root file system (about 60 MB) from the mirror.
private let canBoot = ProcessInfo.processInfo.environment["TALLY_NSPAWN_CHECK"] == "1" && getuid() == 0
    && ["/usr/sbin/debootstrap", "/usr/bin/systemd-nspawn", "/usr/bin/nsenter"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

/// tally's Debian package under a real systemd: a debootstrapped Debian
/// booted with `systemd-nspawn --boot`, the package installed in it before
/// the boot. systemd starts the packaged unit as the `tally` user with its
/// sandboxing; tally takes StatsD and answers; the unit's exposure is read
/// online (`systemd-analyze security`); a power-off stops it cleanly. The
/// container shares this machine's network, so the config it is given
/// listens on free ports of 127.0.0.1. Built from the release build in
/// `.ci/deploy-check` (`TALLY_DEB_BINARY`), else from the test build with the
/// toolchain's Swift runtime mounted read-only into the container.
@Suite("systemd boot", .serialized, .enabled(if: canBoot, "TALLY_NSPAWN_CHECK=1 (.ci/deploy-check), as root with debootstrap and systemd-nspawn"))
struct SystemdBootTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func systemdStartsThePackagedUnitAndStopsItCleanly() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-nspawn")
        defer { scratch.remove() }
        let machine = scratch.path + "/root"
        let bootstrapped = try await runProcess("/usr/sbin/debootstrap", [
            "--variant=minbase", "--include=systemd,systemd-sysv,dbus,adduser,libsnappy1v5,libstdc++6,zlib1g",
            "bookworm", machine, "http://deb.debian.org/debian",
        ])
        try #require(bootstrapped.status == 0, "\(bootstrapped.output.suffix(2000))")

        let release = ProcessInfo.processInfo.environment["TALLY_DEB_BINARY"]
        let binary = try release.map { ["--binary", $0] } ?? ["--binary", try TallyProcess.binaryPath(), "--toolchain-runtime"]
        let built = try await runProcess("/bin/bash", [Self.root + "/Deploy/deb/build"] + binary + ["--out", scratch.path + "/deb", "--compression", "none"])
        try #require(built.status == 0, "\(built.output)")
        let deb = try #require(built.output.split(separator: "\n").last.map(String.init))
        try FileManager.default.copyItem(atPath: deb, toPath: machine + "/tmp/tally.deb")
        // Installed before the boot, as an image is built: postinst enables the unit for the first boot.
        let installed = try await runProcess("/usr/sbin/chroot", [machine, "dpkg", "-i", "/tmp/tally.deb"])
        try #require(installed.status == 0, "\(installed.output)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: machine + "/etc/systemd/system/multi-user.target.wants/tally.service"))
            == "/lib/systemd/system/tally.service")
        // The operator's edit of the conffile: free ports on 127.0.0.1, as the container shares this network.
        let (http, statsd) = (freePort(), freePort())
        try """
        http:
          listen: "127.0.0.1:\(http)"
        statsd:
          udp: "127.0.0.1:\(statsd)"
          tcp: "off"
        otlp:
          listen: "off"
        logs:
          tcp: "off"
          udp: "off"
          syslog_tcp: "off"
          syslog_udp: "off"
        flush_interval: 1s
        """.write(toFile: machine + "/etc/tally/tally.yaml", atomically: true, encoding: .utf8)

        let boot = Process()
        boot.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-nspawn")
        // No machined or host systemd here: no registration, no scope of its own.
        boot.arguments = ["-D", machine, "--boot", "--register=no", "--keep-unit", "--console=pipe"]
            + (release == nil ? ["--bind-ro=/opt/swift"] : [])
        boot.standardOutput = FileHandle.nullDevice
        boot.standardError = FileHandle.nullDevice
        try boot.run()
        defer { if boot.isRunning { kill(boot.processIdentifier, SIGKILL) } }

        let server = "http://127.0.0.1:\(http)"
        var ready = false
        for _ in 0..<300 where !ready {
            ready = try await runProcess(try TallyProcess.binaryPath(), ["health", "--server", server, "--timeout", "1"]).status == 0
            if !ready { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(ready, "systemd did not start tally")

        // The unit as systemd runs it, asked inside the container.
        let children = try await runProcess("/usr/bin/pgrep", ["-P", "\(boot.processIdentifier)"])
        let initPID = try #require(children.output.split(separator: "\n").first.map(String.init))
        let shown = try await runProcess("/usr/bin/nsenter", ["--target", initPID, "--all", "systemctl", "show", "tally",
                                                               "-p", "ActiveState", "-p", "User", "-p", "NRestarts"])
        #expect(shown.output.contains("ActiveState=active") && shown.output.contains("User=tally") && shown.output.contains("NRestarts=0"),
                "\(shown.output)")
        let security = try await runProcess("/usr/bin/nsenter", ["--target", initPID, "--all", "systemd-analyze", "security", "tally", "--no-pager"])
        let exposure = security.output.split(separator: "\n").last { $0.contains("Overall exposure level") }.map(String.init) ?? security.output
        print("systemd-analyze security, online:", exposure)
        let score = exposure.split(separator: " ").compactMap { Double($0) }.first
        #expect((score ?? 10) <= 2.5, "\(exposure)")

        try sendUDP(Array("nspawn.check:3|c|#under:systemd\n".utf8), port: statsd)
        var answer = ""
        for _ in 0..<100 where !answer.contains(#"{under="systemd"}"#) {
            answer = try await runProcess(try TallyProcess.binaryPath(), ["query", "nspawn_check_total", "--server", server]).output
            if !answer.contains(#"{under="systemd"}"#) { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(answer.contains(#"nspawn_check_total{under="systemd"}"#), "\(answer)")

        // SIGTERM to nspawn powers the container off: systemd stops the unit, tally drains and exits 0.
        kill(boot.processIdentifier, SIGTERM)
        for _ in 0..<300 where boot.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!boot.isRunning, "the container did not power off")
        let journal = try await runProcess("/usr/bin/journalctl", ["-D", machine + "/var/log/journal", "-u", "tally", "--no-pager", "-o", "cat"])
        #expect(journal.output.contains("the metrics store closed: what it held is on disk"), "\(journal.output)")
        #expect(journal.output.contains("tally.service: Deactivated successfully"), "\(journal.output)")
        #expect(!journal.output.contains("Failed with result"), "\(journal.output)")
    }
}
