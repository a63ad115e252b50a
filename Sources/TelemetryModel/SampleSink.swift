/// A stored series' handle, from `SampleSink.register` until the matching
/// `release`: appends by handle need no label lookup, and whoever appends
/// need not keep the labels at all (Prometheus's appender works the same way).
public struct SeriesRef: Hashable, Sendable {
    public let raw: UInt32

    public init(raw: UInt32) {
        self.raw = raw
    }
}

/// One point for a registered series.
public struct RefSample: Sendable {
    public var ref: SeriesRef
    public var timestamp: Int64
    public var value: Double

    public init(ref: SeriesRef, timestamp: Int64, value: Double) {
        self.ref = ref
        self.timestamp = timestamp
        self.value = value
    }
}

/// Where aggregated samples go at every flush: the on-disk time-series
/// engine implements it (and, later, the forwarders).
///
/// A writer registers each series once (when it first sees it), appends by
/// reference at every flush, and releases the reference when the series goes
/// idle; the sink keeps the labels. Implementations must accept calls from
/// several aggregation shards at once and must not block for long: a shard
/// does not aggregate while it appends.
public protocol SampleSink: Sendable {
    /// The reference of the series with these labels, created if new. Each
    /// call must be balanced by one `release` of the returned reference.
    func register(_ labels: Labels) -> SeriesRef

    /// The writer no longer appends to these series. The sink may forget a
    /// series once nobody holds a reference and its samples have aged out.
    func release(_ refs: [SeriesRef])

    /// The reference of a series the sink already holds, without creating
    /// it or taking a reference: how a writer at its series cap recognises
    /// a series it has, without adding one to the store.
    func find(_ labels: Labels) -> SeriesRef?

    /// Appends one flush's samples. They are all stamped with the same
    /// timestamp (the end of the flushed interval).
    func append(_ samples: [RefSample])

    /// Registers several series at once (one lock round trip for a whole
    /// remote_write request); each reference must be released.
    func register(_ labels: [Labels]) -> [SeriesRef]

    /// Appends samples of any timestamps and says which were refused and
    /// why: what a receiver answers its sender with.
    func appendReporting(_ samples: [RefSample]) -> SampleAppendReport

    /// Registers pushed series (remote_write, OTLP) within `limits`: a new
    /// series past them is not created. Each registered reference must be released.
    func register(_ labels: [Labels], within limits: SeriesLimits) -> [SeriesLimits.Registration]
}

extension SampleSink {
    /// Sinks without a lookup recognise nothing.
    public func find(_ labels: Labels) -> SeriesRef? { nil }

    public func register(_ labels: [Labels]) -> [SeriesRef] {
        labels.map { register($0) }
    }

    /// Sinks that hold no count of their series take every one.
    public func register(_ labels: [Labels], within limits: SeriesLimits) -> [SeriesLimits.Registration] {
        register(labels).map { .registered($0) }
    }

    /// Sinks that refuse nothing take every sample.
    public func appendReporting(_ samples: [RefSample]) -> SampleAppendReport {
        append(samples)
        var report = SampleAppendReport()
        report.accepted = samples.count
        return report
    }

    /// Appends samples named by their labels: for tests and cold paths
    /// (a register, an append and a release per series).
    public func append(_ samples: [Sample]) {
        let refs = samples.map { register($0.labels) }
        append(zip(refs, samples).map { RefSample(ref: $0, timestamp: $1.timestamp, value: $1.value) })
        release(refs)
    }
}

/// Reads series back for queries. PromQL and the HTTP API use only
/// this protocol, so the storage engine can change behind it.
public protocol SeriesQuerier: Sendable {
    /// The series matching every matcher with at least one point in
    /// `[start, end]` (milliseconds, inclusive), with those points in time
    /// order. Fails when data in the range is damaged or cannot be read.
    func select(_ matchers: [LabelMatcher], start: Int64, end: Int64) throws(StoredDataError) -> [SeriesPoints]

    /// The label sets of the matching series with a point in `[start, end]`.
    func series(_ matchers: [LabelMatcher], start: Int64, end: Int64) -> [Labels]

    /// The same series as `select`, handed to `body` in batches of at most
    /// `seriesPerBatch`, so a caller can work through each batch while its
    /// points are still in cache and let them go; `body` returns false to stop.
    func select(
        _ matchers: [LabelMatcher], start: Int64, end: Int64, seriesPerBatch: Int, _ body: ([SeriesPoints]) -> Bool
    ) throws(StoredDataError)
}

extension SeriesQuerier {
    /// One batch of everything, for stores that keep their points in memory anyway.
    public func select(
        _ matchers: [LabelMatcher], start: Int64, end: Int64, seriesPerBatch: Int, _ body: ([SeriesPoints]) -> Bool
    ) throws(StoredDataError) {
        _ = body(try select(matchers, start: start, end: end))
    }
}
