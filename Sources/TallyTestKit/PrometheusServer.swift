import AsyncHTTPClient
import Foundation
import NIOCore

/// A real Prometheus (Debian's `prometheus` package) as a child process on a
/// free port of 127.0.0.1, with its own temporary storage, optionally
/// pre-loaded from an OpenMetrics file through `promtool tsdb
/// create-blocks-from openmetrics`: the reference that tally's PromQL is
/// compared with.
public final class PrometheusServer: @unchecked Sendable {
    // Unchecked: the process and paths are set in `init` and only read after;
    // Foundation's Process is thread-safe for terminate/wait.
    public let port: Int
    public let directory: String
    private let process: Process

    /// Where a Debian tool is installed, or nil.
    public static func tool(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// `configuration` writes prometheus.yml given Prometheus's own port
    /// (to scrape itself); by default nothing is scraped. A Prometheus
    /// pre-loaded with samples is made by `loaded(from:)`.
    public convenience init(configuration: ((Int) -> String)? = nil, extraArguments: [String] = []) throws {
        let (port, directory) = try Self.prepare(configuration: configuration)
        try self.init(port: port, directory: directory, extraArguments: extraArguments)
    }

    /// A Prometheus whose storage `promtool tsdb create-blocks-from
    /// openmetrics` filled from `openMetrics` first; promtool runs on a
    /// thread of its own, not on the test's executor.
    public static func loaded(from openMetrics: String, extraArguments: [String] = []) async throws -> PrometheusServer {
        guard let promtool = PrometheusServer.tool("promtool") else {
            throw SocketError(description: "promtool is not installed: apt-get install prometheus")
        }
        let (port, directory) = try prepare(configuration: nil)
        let (status, output) = try await runProcess(promtool, ["tsdb", "create-blocks-from", "openmetrics", openMetrics, directory + "/data"])
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw SocketError(description: "promtool create-blocks-from failed with status \(status): \(output.suffix(2_000))")
        }
        return try PrometheusServer(port: port, directory: directory, extraArguments: extraArguments)
    }

    /// A port, and a temporary directory with `data/` and `prometheus.yml`.
    private static func prepare(configuration: ((Int) -> String)?) throws -> (port: Int, directory: String) {
        let port = freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-prom-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let yaml = configuration?(port) ?? "global:\n  scrape_interval: 1h\nscrape_configs: []\n"
        try yaml.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        return (port, directory)
    }

    private init(port: Int, directory: String, extraArguments: [String]) throws {
        guard let binary = PrometheusServer.tool("prometheus") else {
            try? FileManager.default.removeItem(atPath: directory)
            throw SocketError(description: "prometheus is not installed: apt-get install prometheus (.ci/deps does)")
        }
        self.port = port
        self.directory = directory
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=" + directory + "/prometheus.yml",
            "--storage.tsdb.path=" + directory + "/data",
            "--storage.tsdb.retention.time=100y",
            "--web.listen-address=127.0.0.1:\(port)",
        ] + extraArguments
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until Prometheus answers `/-/ready`.
    /// Wall-clock time, so generous: on a loaded 2-core CI machine the rest of the suite can
    /// keep this task from running for tens of seconds.
    public func waitReady(timeout: Duration = .seconds(180)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await get("/-/ready"), status == 200 { return }
            guard process.isRunning else { throw SocketError(description: "prometheus exited with \(process.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SocketError(description: "prometheus on port \(port) not ready after \(timeout)")
    }

    /// GETs a path (with its query string) on Prometheus's port.
    public func get(_ path: String) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        // Uncompressed: large, repetitive answers would exceed the client's inflation ratio limit.
        request.headers.add(name: "Accept-Encoding", value: "identity")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A query-string value, percent-encoded.
public func urlEncoded(_ value: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}
