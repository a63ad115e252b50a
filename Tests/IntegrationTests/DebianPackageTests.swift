import Foundation
import TallyTestKit
import Testing

/// Root, dpkg, and no tally installed already (the test installs and purges one).
private let canInstallPackage = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg")
    && !FileManager.default.fileExists(atPath: "/usr/bin/tally") && !FileManager.default.fileExists(atPath: "/var/lib/tally")

/// `Deploy/deb/build`'s package, installed on this machine with dpkg as root
/// (CI's machines are throwaway): it lays out the binary, the conffile, the
/// unit, the man page, the `tally` user and /var/lib/tally; `tally serve`
/// runs as that user from those files and answers; a purge leaves nothing
/// but the data. The package is built from the test build here
/// (`--toolchain-runtime`); `.ci/deploy-check` runs this test on the release
/// build, the Swift runtime linked in (`TALLY_DEB_BINARY`).
@Suite("Debian package", .serialized, .enabled(if: canInstallPackage, "needs root and dpkg, and no tally installed"))
struct DebianPackageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The path itself, a dangling symbolic link too.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    @Test func thePackageInstallsServesAndPurgesLeavingTheData() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-deb")
        defer {
            scratch.remove()
            _ = try? runProcess("/usr/bin/dpkg", ["--purge", "tally"])
            try? FileManager.default.removeItem(atPath: "/var/lib/tally")
        }
        // TALLY_DEB_BINARY (.ci/deploy-check): the release build, Swift runtime linked in; else this test build.
        let release = ProcessInfo.processInfo.environment["TALLY_DEB_BINARY"]
        // Uncompressed: xz would take a core for a minute from the tests running beside this one.
        let binary = try release.map { ["--binary", $0] } ?? ["--binary", try TallyProcess.binaryPath(), "--toolchain-runtime", "--compression", "none"]
        let built = try await runProcess("/bin/bash", [Self.root + "/Deploy/deb/build"] + binary + ["--out", scratch.path])
        try #require(built.status == 0, "\(built.output)")
        let deb = try #require(built.output.split(separator: "\n").last.map(String.init))
        #expect(deb.hasSuffix("_amd64.deb") && Self.exists(deb), "\(deb)")

        let installed = try await runProcess("/usr/bin/dpkg", ["-i", deb])
        try #require(installed.status == 0, "\(installed.output)")
        let contents = try await runProcess("/usr/bin/dpkg-deb", ["--contents", deb])
        for path in ["./usr/bin/tally", "./etc/tally/tally.yaml", "./lib/systemd/system/tally.service", "./usr/share/man/man1/tally.1.gz",
                     "./usr/share/doc/tally/README.md"] {
            #expect(contents.output.contains(path), "\(path) not in the package")
        }
        for path in ["/usr/bin/tally", "/etc/tally/tally.yaml", "/lib/systemd/system/tally.service"] {
            #expect(Self.exists(path), "\(path) not installed")
        }
        // Enabled for the next boot although systemd does not run here (deb-systemd-helper).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/deb-systemd-helper") {
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/systemd/system/multi-user.target.wants/tally.service"))
                == "/lib/systemd/system/tally.service")
        }
        let conffiles = try await runProcess("/usr/bin/dpkg-query", ["-W", "-f", "${Conffiles}", "tally"])
        #expect(conffiles.output.contains("/etc/tally/tally.yaml"), "\(conffiles.output)")
        let user = try await runProcess("/usr/bin/getent", ["passwd", "tally"])
        #expect(user.status == 0 && user.output.contains("/var/lib/tally"), "\(user.output)")
        let owner = try FileManager.default.attributesOfItem(atPath: "/var/lib/tally")[.ownerAccountName] as? String
        #expect(owner == "tally")
        let unit = try String(contentsOfFile: "/lib/systemd/system/tally.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/tally serve --config /etc/tally/tally.yaml --data-dir /var/lib/tally"))
        #expect(unit.contains("User=tally") && !unit.contains("DynamicUser"))
        let verify = try await runProcess("/usr/bin/systemd-analyze", ["verify", "/lib/systemd/system/tally.service"])
        #expect(verify.status == 0, "\(verify.output)")
        // Minimal images tell dpkg to leave manual pages out (path-exclude in /etc/dpkg/dpkg.cfg.d).
        if Self.exists("/usr/bin/man"), Self.exists("/usr/share/man/man1/tally.1.gz") {
            let manual = try await runProcess("/usr/bin/man", ["-w", "tally"])
            #expect(manual.output.contains("/usr/share/man/man1/tally.1.gz"), "\(manual.output)")
        }

        // tally serve as the unit runs it: the package's user, config and data directory (other ports,
        // so that it runs beside anything on this machine). setpriv execs tally itself, so SIGTERM and
        // the exit status are tally's own.
        let (http, statsd) = (freePort(), freePort())
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        serve.arguments = ["--reuid", "tally", "--regid", "tally", "--init-groups", "/usr/bin/tally", "serve", "--config", "/etc/tally/tally.yaml", "--data-dir", "/var/lib/tally",
                           "--http", "127.0.0.1:\(http)", "--statsd-udp", "127.0.0.1:\(statsd)", "--statsd-tcp", "off", "--logs-tcp", "off",
                           "--logs-udp", "off", "--syslog-tcp", "off", "--syslog-udp", "off", "--otlp", "off", "--flush-interval", "1s"]
        let log = scratch.path + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        serve.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try serve.run()
        defer { if serve.isRunning { serve.terminate() } }
        let server = "http://127.0.0.1:\(http)"
        var ready = false
        for _ in 0..<100 where !ready {
            ready = try await runProcess("/usr/bin/tally", ["health", "--server", server, "--timeout", "1"]).status == 0
            if !ready { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(ready, "tally serve did not become ready: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        try sendUDP(Array("deb.check:7|c|#from:package\n".utf8), port: statsd)
        var answer = ""
        for _ in 0..<100 where !answer.contains(#"{from="package"}"#) {
            answer = try await runProcess("/usr/bin/tally", ["query", "deb_check_total", "--server", server]).output
            if !answer.contains(#"{from="package"}"#) { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(answer.contains(#"deb_check_total{from="package"}"#) && answer.contains("7"), "\(answer)")
        serve.terminate()
        serve.waitUntilExit()
        #expect(serve.terminationStatus == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

        // Purged: nothing of the package is left but the data.
        let purged = try await runProcess("/usr/bin/dpkg", ["--purge", "tally"])
        #expect(purged.status == 0, "\(purged.output)")
        for path in ["/usr/bin/tally", "/etc/tally", "/lib/systemd/system/tally.service", "/usr/share/man/man1/tally.1.gz", "/usr/share/doc/tally",
                     "/etc/systemd/system/multi-user.target.wants/tally.service"] {
            #expect(!Self.exists(path), "\(path) left after purge")
        }
        #expect(try await runProcess("/usr/bin/getent", ["passwd", "tally"]).status != 0, "the tally user is left after purge")
        #expect(Self.exists("/var/lib/tally/wal"), "the data is kept")
        #expect(purged.output.contains("the data in /var/lib/tally is kept"))
    }
}
