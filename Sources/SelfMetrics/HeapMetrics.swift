import DurableFiles
import Prometheus

/// The allocator's figures in `/metrics`, read each maintenance round, and
/// the trims that hand its excess free memory back (see
/// `AllocatorTuning.releaseExcessFreeMemory`): what live data takes against
/// what the process holds, the first question when its RSS grows.
public final class HeapMetrics: Sendable {
    private let inUse: Gauge
    private let free: Gauge
    private let trims: Counter

    public init(registry: PrometheusCollectorRegistry) {
        inUse = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_heap_in_use", unitName: "bytes",
            helpText: "Bytes of live allocations (glibc's mallinfo2: in-use chunks and mapped chunks)."))
        free = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_heap_free", unitName: "bytes",
            helpText: "Bytes the allocator counts as freed (glibc's mallinfo2), resident or already handed back."))
        trims = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_heap_trims", unitName: "total",
            helpText: "Maintenance rounds that handed freed heap memory back to the system because more than \(AllocatorTuning.keptBetweenRoundsBytes >> 20) MiB of it was resident."))
    }

    /// Hands excess free memory back, then records the figures.
    public func maintain() {
        if AllocatorTuning.releaseExcessFreeMemory() { trims.increment() }
        let heap = AllocatorTuning.heap()
        inUse.set(Int64(heap.inUse))
        free.set(Int64(heap.free))
    }
}
