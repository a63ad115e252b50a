/// Prometheus's staleness marker: a sample whose value is the NaN with this
/// bit pattern says that its series ended at that time, so that instant
/// queries stop returning it at once instead of for the lookback window.
/// Tally writes it when a StatsD output stops and when tally shuts down;
/// remote_write senders send it; PromQL honours it.
public enum StaleMarker {
    public static let bits: UInt64 = 0x7FF0_0000_0000_0002
    public static let value = Double(bitPattern: bits)
}

extension Double {
    /// Whether this is the staleness marker (not merely any NaN).
    @inlinable
    public var isStaleMarker: Bool { bitPattern == StaleMarker.bits }
}
