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

/// A sample sink that keeps every flush with its labels, and counts the
/// references it hands out and gets back, for assertions.
public final class CapturingSampleSink: SampleSink {
    private struct State {
        var labels: [Labels] = []
        var index: [Labels: UInt32] = [:]
        var holders: [Int] = []
        var samples: [Sample] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func register(_ labels: Labels) -> SeriesRef {
        state.withLock { state in
            if let ref = state.index[labels] {
                state.holders[Int(ref)] += 1
                return SeriesRef(raw: ref)
            }
            let ref = UInt32(state.labels.count)
            state.labels.append(labels)
            state.holders.append(1)
            state.index[labels] = ref
            return SeriesRef(raw: ref)
        }
    }

    public func find(_ labels: Labels) -> SeriesRef? {
        state.withLock { $0.index[labels].map { SeriesRef(raw: $0) } }
    }

    /// How many distinct series were ever registered.
    public var registeredSeries: Int { state.withLock { $0.labels.count } }

    public func release(_ refs: [SeriesRef]) {
        state.withLock { state in
            for ref in refs { state.holders[Int(ref.raw)] -= 1 }
        }
    }

    public func append(_ samples: [RefSample]) {
        state.withLock { state in
            for sample in samples {
                state.samples.append(Sample(labels: state.labels[Int(sample.ref.raw)], timestamp: sample.timestamp, value: sample.value))
            }
        }
    }

    /// Every sample appended so far, with its labels.
    public var samples: [Sample] { state.withLock { $0.samples } }

    /// The labels of a reference.
    public func labels(of ref: SeriesRef) -> Labels { state.withLock { $0.labels[Int(ref.raw)] } }

    /// How many references to the series with these labels are held.
    public func holders(of labels: Labels) -> Int {
        state.withLock { state in state.index[labels].map { state.holders[Int($0)] } ?? 0 }
    }
}
