import AsyncHTTPClient
import Foundation
import NIOCore

/// `tally serve` as a child process on free ports, with its own temporary
/// data directory, for end-to-end tests. Its stderr goes to a file.
public final class TallyProcess: @unchecked Sendable {
    // Unchecked: the process and paths are set in `init` and only read after;
    // Foundation's Process is thread-safe for terminate/wait.
    public let statsdPort: Int
    public let httpPort: Int
    /// JSON-lines/logfmt (TCP and UDP) and syslog (TCP and UDP) ports.
    public let logsPort: Int
    public let syslogPort: Int
    /// The OTLP/HTTP listener's port.
    public let otlpPort: Int
    public let directory: String
    public let unixSocket: String
    private let process: Process
    private let logPath: String

    /// The built `tally` executable: `TALLY_BINARY`, or beside the test bundle.
    public static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["TALLY_BINARY"] { return path }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("tally").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw SocketError(description: "cannot find the tally executable near \(testBinary.path); run `swift build` first or set TALLY_BINARY")
    }

    public convenience init(extraArguments: [String] = [], flushInterval: String = "200ms") throws {
        var taken: Set<Int> = []
        // Free ports asked one after the other can be the same one.
        func another() -> Int {
            var port = freePort()
            while taken.contains(port) { port = freePort() }
            taken.insert(port)
            return port
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try self.init(
            ports: (another(), another(), another(), another(), another()), directory: directory, ownsDirectory: true,
            extraArguments: extraArguments, flushInterval: flushInterval)
    }

    /// A new process on the ports and data of a stopped one (a restart); the
    /// first one keeps the directory and removes it.
    public convenience init(reusing stopped: TallyProcess, extraArguments: [String] = [], flushInterval: String = "200ms") throws {
        try self.init(
            ports: (stopped.statsdPort, stopped.httpPort, stopped.logsPort, stopped.syslogPort, stopped.otlpPort), directory: stopped.directory,
            ownsDirectory: false, extraArguments: extraArguments, flushInterval: flushInterval)
    }

    /// A second process on the ports of a running one, with a data
    /// directory of its own (to test what a tally started by mistake does).
    public convenience init(sharingPortsOf other: TallyProcess, extraArguments: [String] = []) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-test-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try self.init(
            ports: (other.statsdPort, other.httpPort, other.logsPort, other.syslogPort, other.otlpPort), directory: directory,
            ownsDirectory: true, extraArguments: extraArguments, flushInterval: "200ms")
    }

    private let ownsDirectory: Bool

    private init(
        ports: (statsd: Int, http: Int, logs: Int, syslog: Int, otlp: Int), directory: String, ownsDirectory: Bool, extraArguments: [String],
        flushInterval: String
    ) throws {
        statsdPort = ports.statsd
        httpPort = ports.http
        logsPort = ports.logs
        syslogPort = ports.syslog
        otlpPort = ports.otlp
        self.directory = directory
        self.ownsDirectory = ownsDirectory
        unixSocket = directory + "/dsd.sock"
        logPath = directory + "/stderr\(ownsDirectory ? "" : "-restart").log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binaryPath())
        process.arguments = [
            "serve",
            "--statsd-udp", "127.0.0.1:\(statsdPort)",
            "--statsd-tcp", "127.0.0.1:\(statsdPort)",
            "--statsd-unix", unixSocket,
            "--http", "127.0.0.1:\(httpPort)",
            "--otlp", "127.0.0.1:\(otlpPort)",
            "--logs-tcp", "127.0.0.1:\(logsPort)", "--logs-udp", "127.0.0.1:\(logsPort)",
            "--syslog-tcp", "127.0.0.1:\(syslogPort)", "--syslog-udp", "127.0.0.1:\(syslogPort)",
            "--data-dir", directory + "/data",
            "--flush-interval", flushInterval,
            // tally's own series would change every count a test makes of the store; the tests
            // of self-monitoring turn it on again (the last value of a flag wins).
            "--self-monitoring-interval", "0",
        ] + extraArguments
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// What the process wrote on stderr so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    public var isRunning: Bool { process.isRunning }

    /// The child's process id (for kill -9 in crash tests).
    public var pid: Int32 { process.processIdentifier }

    /// Sends a signal and waits for the exit status (or nil after the timeout).
    /// The default allows a graceful stop (drain, flush, WAL fsync) a minute
    /// on a CI machine running the whole suite at once; a crash still ends
    /// the wait at once with its status.
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(60)) async -> Int32? {
        if process.isRunning { kill(process.processIdentifier, signal) }
        return await waitForExit(timeout: timeout)
    }

    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// GETs a path on tally's HTTP port.
    public func get(_ path: String) async throws -> (status: Int, body: String) {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(httpPort)\(path)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    /// POSTs a body to a path on tally's HTTP port (or on `port`, such as the OTLP one).
    public func post(
        _ path: String, body: [UInt8], headers: [(String, String)] = [], port: Int? = nil
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port ?? httpPort)\(path)")
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let answer = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), String(buffer: answer))
    }

    /// Polls until `condition` holds on a GET's answer, or fails after the timeout.
    public func waitFor(_ path: String, timeout: Duration = .seconds(30),
                        _ condition: (Int, String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            if let (status, body) = try? await get(path) {
                last = "\(status) \(body)"
                if condition(status, body) { return body }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let state = process.isRunning ? "running (pid \(process.processIdentifier))" : "exited with \(process.terminationStatus) (\(process.terminationReason == .uncaughtSignal ? "signal" : "exit"))"
        throw SocketError(description: "timed out waiting on \(path); last answer: \(last); tally \(state); log:\n\(log)")
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }
}
