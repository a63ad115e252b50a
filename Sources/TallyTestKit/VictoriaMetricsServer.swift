import AsyncHTTPClient
import Foundation
import NIOCore

/// A real VictoriaMetrics (Debian's `victoria-metrics` package) as a child
/// process on a free port of 127.0.0.1 with its own temporary storage: a
/// remote_write receiver that can be killed and started again on the same
/// port and data. Identical samples are deduplicated (as a cluster
/// deduplicates replicas), so a batch sent twice is stored once.
public final class VictoriaMetricsServer: @unchecked Sendable {
    // Unchecked: `process` is replaced only by `start`, which tests call from
    // one task; Foundation's Process is thread-safe for terminate/wait.
    public let port: Int
    public let directory: String
    private var process: Process?

    public init() throws {
        guard PrometheusServer.tool("victoria-metrics") != nil else {
            throw SocketError(description: "victoria-metrics is not installed: apt-get install victoria-metrics (.ci/deps --test does)")
        }
        port = freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-vm-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try start()
    }

    /// Starts (again) on the same port and data.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PrometheusServer.tool("victoria-metrics")!)
        process.arguments = [
            "-storageDataPath=" + directory + "/data", "-httpListenAddr=127.0.0.1:\(port)", "-retentionPeriod=100y",
            "-dedup.minScrapeInterval=1ms", "-search.latencyOffset=0s",
        ]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// Stops it with `signal` and waits for the exit. SIGTERM lets it write
    /// what it acknowledged; SIGKILL loses the last second or so of that
    /// (VictoriaMetrics buffers in memory before it writes parts).
    public func stop(signal: Int32 = SIGTERM) {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Wall-clock time, so generous: on a loaded 2-core CI machine the rest of the suite can
    /// keep this task from running for tens of seconds.
    public func waitReady(timeout: Duration = .seconds(180)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await get("/health"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SocketError(description: "victoria-metrics on port \(port) not ready after \(timeout)")
    }

    public func get(_ path: String) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "Accept-Encoding", value: "identity")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 256 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    /// Every stored sample of the series matching `selector`, by series
    /// (`name{a="b",…}` with labels sorted), from `/api/v1/export`.
    public func export(_ selector: String) async throws -> [String: [SeriesSample]] {
        _ = try await get("/internal/force_flush")
        let (status, body) = try await get("/api/v1/export?" + urlEncoded("match[]") + "=" + urlEncoded(selector))
        guard status == 200 else { throw SocketError(description: "victoria-metrics export answered \(status): \(body.prefix(300))") }
        var out: [String: [SeriesSample]] = [:]
        for line in body.split(separator: "\n") where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let metric = object["metric"] as? [String: String],
                  let values = object["values"] as? [Any], let times = object["timestamps"] as? [Int64]
            else { continue }
            let samples = zip(times, values).map { t, v in SeriesSample(timestamp: t, value: (v as? Double) ?? (v as? NSNumber)?.doubleValue ?? .nan) }
            out[seriesKey(metric), default: []] += samples
        }
        return out.mapValues { $0.sorted { $0.timestamp < $1.timestamp } }
    }

    deinit {
        stop(signal: SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// One sample as a store answered it.
public struct SeriesSample: Hashable, Sendable, CustomStringConvertible {
    public var timestamp: Int64
    public var value: Double

    public init(timestamp: Int64, value: Double) {
        self.timestamp = timestamp
        self.value = value
    }

    public var description: String { "\(value)@\(timestamp)" }
}

/// A series' labels as one comparable key: `{a="b",…}` sorted by name.
public func seriesKey(_ metric: [String: String]) -> String {
    "{" + metric.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
}

/// The raw samples of a range selector answer (`query?query=SEL[RANGE]`)
/// of the Prometheus API, by series key, timestamps in milliseconds.
public func rangeSamples(_ body: String) throws -> [String: [SeriesSample]] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
        throw SocketError(description: "not a query answer: \(body.prefix(300))")
    }
    let result = (object["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
    var out: [String: [SeriesSample]] = [:]
    for series in result {
        let metric = series["metric"] as? [String: String] ?? [:]
        let values = (series["values"] as? [[Any]] ?? []).compactMap { pair -> SeriesSample? in
            guard pair.count == 2, let value = pair[1] as? String else { return nil }
            let seconds = (pair[0] as? Double) ?? (pair[0] as? NSNumber)?.doubleValue ?? 0
            return SeriesSample(timestamp: Int64((seconds * 1000).rounded()), value: Double(value) ?? .nan)
        }
        out[seriesKey(metric)] = values
    }
    return out
}
