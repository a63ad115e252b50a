import Foundation
import TallyTestKit
import Testing

/// Asked for (`.ci/deploy-check` sets TALLY_IMAGE_CHECK=1), as root with buildah, podman (runc) and
/// apt-get. Not in every CI run: copying the image's layers several times over (buildah and podman's
/// vfs storage) floods the disk for minutes on a CI machine and stalls the fsyncing tests beside it.
private let canBuildImages = ProcessInfo.processInfo.environment["TALLY_IMAGE_CHECK"] == "1" && getuid() == 0
    && ["/usr/bin/buildah", "/usr/bin/podman", "/usr/sbin/runc", "/usr/bin/apt-get"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

/// Deploy/container/build's image, made of Debian packages and no registry
/// image, run with podman as Kubernetes would run it: a read-only root file
/// system, no capabilities, its own non-root user, ports published on
/// 127.0.0.1. It becomes healthy by its own HEALTHCHECK (`tally health`),
/// takes StatsD, answers the query, and stops cleanly on SIGTERM. Built from
/// the release build in `.ci/deploy-check` (`TALLY_IMAGE_BINARY`), else from
/// the test build with the toolchain's Swift runtime copied in.
@Suite("Container image", .serialized, .enabled(if: canBuildImages, "TALLY_IMAGE_CHECK=1 (.ci/deploy-check), as root with buildah, podman, runc and apt-get"))
struct ContainerImageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `podman run -d`, with every descriptor past stderr closed first: the conmon and slirp4netns it
    /// leaves running would otherwise inherit the socket by which Foundation's Process sees its child
    /// end, and the run would never be seen to end.
    func detached(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let closeInherited = #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#
        return try await runProcess("/bin/bash", ["-c", closeInherited, "podman", "/usr/bin/podman"] + arguments)
    }

    @Test func theImageRunsLockedDownBecomesHealthyAndServes() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-image")
        defer {
            _ = try? runProcess("/bin/sh", ["-c", "podman --root '\(scratch.path)/storage' --runroot '\(scratch.path)/run' rm -af -t 0 >/dev/null 2>&1; true"])
            scratch.remove()
        }
        let release = ProcessInfo.processInfo.environment["TALLY_IMAGE_BINARY"]
        let binary = try release.map { ["--binary", $0] } ?? ["--binary", try TallyProcess.binaryPath(), "--toolchain-runtime"]
        let built = try await runProcess("/bin/bash", [Self.root + "/Deploy/container/build"] + binary + ["--out", scratch.path + "/out", "--archives", "docker"])
        try #require(built.status == 0, "\(built.output)")
        let archive = try #require(built.output.split(separator: "\n").last.map(String.init))
        #expect(archive.hasSuffix("_image.docker.tar"), "\(built.output)")

        // podman with storage of its own; runc, and this machine's own limits (it may not raise them).
        // (runc could not set this machine's own process limit again, 96,367; a lower one it can.)
        let limits = try await runProcess("/bin/bash", ["-c", "ulimit -n; ulimit -u"]).output.split(separator: "\n").map(String.init)
        try #require(limits.count == 2, "\(limits)")
        let processes = min(Int(limits[1]) ?? 4096, 4096)
        let podman = ["--root", scratch.path + "/storage", "--runroot", scratch.path + "/run", "--storage-driver", "vfs",
                      "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            try await runProcess("/usr/bin/podman", podman + arguments)
        }
        let loaded = try await run(["load", "-q", "-i", archive])
        try #require(loaded.status == 0, "\(loaded.output)")
        let image = try #require(loaded.output.split(separator: "\n").last?.components(separatedBy: "Loaded image: ").last)

        // What the image says of itself: user, entrypoint, health check, ports, volume.
        let inspected = try await run(["image", "inspect", image, "--format",
                                       "{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Healthcheck.Test}}|{{json .Config.Volumes}}|{{len .Config.ExposedPorts}}"])
        #expect(inspected.output.contains(#"10001:10001|["/usr/bin/tally"]|["CMD","/usr/bin/tally","health","--timeout","4"]|{"/var/lib/tally":{}}|8"#),
                "\(inspected.output)")

        let (http, statsd) = (freePort(), freePort())
        let started = try await detached(podman + [
            "run", "-d", "--name", "tally-image-test", "--network", "slirp4netns",
            "--ulimit", "nofile=\(limits[0]):\(limits[0])", "--ulimit", "nproc=\(processes):\(processes)",
            "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            // No systemd here to run podman's health timer: the image's check is run by hand below.
            "--health-interval", "disable",
            "-p", "127.0.0.1:\(http):9470/tcp", "-p", "127.0.0.1:\(statsd):8125/udp",
            image, "serve", "--config", "/etc/tally/tally.yaml", "--data-dir", "/var/lib/tally", "--flush-interval", "1s",
        ])
        try #require(started.status == 0, "\(started.output)")

        // Its own HEALTHCHECK, run by podman inside the container.
        var healthy = false
        for _ in 0..<150 where !healthy {
            healthy = try await run(["healthcheck", "run", "tally-image-test"]).status == 0
            if !healthy { try await Task.sleep(for: .milliseconds(200)) }
        }
        func logs() async -> String { (try? await run(["logs", "tally-image-test"]).output) ?? "" }
        let afterStart = await logs()
        try #require(healthy, "never healthy: \(afterStart)")
        let user = try await run(["top", "tally-image-test", "user", "comm"])
        #expect(user.output.contains("10001") || user.output.contains("tally"), "\(user.output)")

        // StatsD in through the published port, the answer out of the HTTP API.
        let server = "http://127.0.0.1:\(http)"
        var answer = ""
        for _ in 0..<150 where !answer.contains(#"{from="image"}"#) {
            try sendUDP(Array("image.check:5|c|#from:image\n".utf8), port: statsd)
            answer = try await runProcess(try TallyProcess.binaryPath(), ["query", "image_check_total", "--server", server]).output
            if !answer.contains(#"{from="image"}"#) { try await Task.sleep(for: .milliseconds(200)) }
        }
        let afterQuery = await logs()
        #expect(answer.contains(#"image_check_total{from="image"}"#), "\(answer)\n\(afterQuery)")

        // SIGTERM (podman stop): tally drains, flushes and exits 0.
        let stopped = try await run(["stop", "-t", "30", "tally-image-test"])
        #expect(stopped.status == 0, "\(stopped.output)")
        let exit = try await run(["inspect", "tally-image-test", "--format", "{{.State.ExitCode}}"])
        let afterStop = await logs()
        #expect(exit.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(exit.output)\n\(afterStop)")
    }
}
