import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals
import WebSecurity

/// Keeps the web config in force up to date: re-reads the file and its
/// certificate files when any of them changes (checked every second), on
/// SIGHUP, and on `POST /-/reload`. A file that does not load is logged
/// and counted, and the config in force stays, so a typo never locks
/// everyone out or drops TLS.
public final class WebConfigWatcher: Service, Sendable {
    let file: String
    let access: WebAccess
    let logger: Logger
    let pollInterval: Duration
    private let lastReloadSuccessful: Gauge
    private let reloads: Counter
    private let failures: Counter
    private let lastSuccess: Gauge

    public init(file: String, access: WebAccess, registry: PrometheusCollectorRegistry, logger: Logger, pollInterval: Duration = .seconds(1)) {
        self.file = file
        self.access = access
        self.pollInterval = pollInterval
        var logger = logger
        logger[metadataKey: "component"] = "web-config"
        self.logger = logger
        lastReloadSuccessful = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_web_config_last_reload_successful", unitName: "",
            helpText: "1 when the last reading of the web config (or its certificates) was put in force, 0 when it was refused."))
        lastSuccess = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_web_config_last_reload_success_timestamp_seconds", unitName: "",
            helpText: "When the web config in force was read."))
        reloads = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "tally_web_config_reloads", unitName: "total", helpText: "Readings of the web config and its certificates, by result."),
            labels: [("result", "success")])
        failures = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "tally_web_config_reloads", unitName: "total", helpText: "Readings of the web config and its certificates, by result."),
            labels: [("result", "failure")])
        lastReloadSuccessful.set(Double(1))
        lastSuccess.set(Date().timeIntervalSince1970)
    }

    /// Reads the files now and puts them in force; returns the problem when they were refused.
    public func reload(reason: String) -> String? {
        do {
            let config = try WebConfigLoader.load(file: file)
            try access.replace(with: config)
        } catch {
            // A ConfigError or WebSecurityError: each describes itself with its file.
            return refused("\(error)", reason)
        }
        reloads.increment()
        lastReloadSuccessful.set(Double(1))
        lastSuccess.set(Date().timeIntervalSince1970)
        logger.info("web config reloaded", metadata: ["file": "\(file)", "reason": "\(reason)"])
        return nil
    }

    private func refused(_ problem: String, _ reason: String) -> String {
        failures.increment()
        lastReloadSuccessful.set(Double(0))
        logger.error("web config not reloaded; the previous one stays in force", metadata: ["problem": "\(problem)", "reason": "\(reason)"])
        return problem
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let initial = fingerprint()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in hangups {
                        _ = self.reload(reason: "SIGHUP")
                    }
                }
                group.addTask {
                    var seen = initial
                    while (try? await Task.sleep(for: self.pollInterval)) != nil {
                        let now = self.fingerprint()
                        if now != seen {
                            seen = now
                            _ = self.reload(reason: "a file changed")
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Size, modification time and inode of the web config and the certificate files in force
    /// (a rename over the file, as editors and cert-manager do it, changes the inode).
    private func fingerprint() -> [String] {
        ([file] + access.config.certificateFiles).map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return "\(path) missing" }
            return "\(path) \(info.st_ino) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
    }
}
