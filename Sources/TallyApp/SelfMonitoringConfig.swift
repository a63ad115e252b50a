#if canImport(Glibc)
import Glibc
#endif
import IngestServer

/// `self_monitoring:`: how often tally stores its own `/metrics` in its own
/// store, and the labels it gives them (as a Prometheus scrape of tally would).
public struct SelfMonitoringConfig: Sendable, Equatable {
    /// 0 turns the self-scrape off.
    public var intervalMillis: Int64 = 15_000
    /// Set on every stored sample; `job` defaults to `tally` and `instance`
    /// to HOSTNAME:HTTP-PORT, as the target Prometheus would scrape.
    public var labels: [String: String] = [:]

    public init() {}

    /// The labels of the stored samples: the configured ones over the defaults.
    public func targetLabels(http: HostPort) -> [String: String] {
        var host = [CChar](repeating: 0, count: 256)
        let name = gethostname(&host, host.count) == 0 ? String(cString: host) : "localhost"
        return ["job": "tally", "instance": "\(name):\(http.port)"].merging(labels) { _, configured in configured }
    }
}
