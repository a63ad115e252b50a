#if canImport(Glibc)
import Glibc
#endif
import Prometheus

/// The space left on the file system of the data directory, in `/metrics`
/// (as node_exporter's `node_filesystem_avail_bytes` and `_size_bytes`), read
/// each maintenance round: what the disk-nearly-full alert needs without a
/// node exporter beside tally.
public final class FilesystemMetrics: Sendable {
    private let directory: String
    private let available: Gauge
    private let size: Gauge

    public init(directory: String, registry: PrometheusCollectorRegistry) {
        self.directory = directory
        available = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_filesystem_avail", unitName: "bytes",
            helpText: "Bytes an unprivileged writer may still use on the data directory's file system (statvfs f_bavail)."))
        size = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_storage_filesystem_size", unitName: "bytes",
            helpText: "Size of the data directory's file system in bytes."))
        update()
    }

    /// Reads the file system's figures again; a failed statvfs leaves the last ones.
    public func update() {
        var figures = statvfs()
        guard statvfs(directory, &figures) == 0 else { return }
        let block = Int64(figures.f_frsize)
        available.set(Int64(figures.f_bavail) * block)
        size.set(Int64(figures.f_blocks) * block)
    }
}
