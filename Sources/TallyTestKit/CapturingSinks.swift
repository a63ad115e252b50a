import Synchronization
import TelemetryModel

/// An event sink that keeps everything, for assertions.
public final class CapturingEventSink: EventSink {
    private let stored = Mutex<[TelemetryEvent]>([])

    public init() {}

    public func record(_ event: TelemetryEvent) {
        stored.withLock { $0.append(event) }
    }

    public var events: [TelemetryEvent] { stored.withLock { $0 } }
}

/// A sample sink that keeps every flush, for assertions.
public final class CapturingSampleSink: SampleSink {
    private let stored = Mutex<[Sample]>([])

    public init() {}

    public func append(_ samples: [Sample]) {
        stored.withLock { $0.append(contentsOf: samples) }
    }

    public var samples: [Sample] { stored.withLock { $0 } }

    /// The newest value of the series with exactly these labels.
    public func latest(_ labels: Labels) -> Double? {
        samples.last { $0.labels == labels }?.value
    }
}
