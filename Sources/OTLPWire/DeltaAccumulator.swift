import Synchronization
import TelemetryModel

/// Running totals that turn delta sums and histograms into the cumulative
/// series Prometheus queries expect: each delta point adds to its series'
/// total and the total is stored. Held in memory for the process's life,
/// at most `maxSeries` series (a series past the cap is refused, counted).
/// A restart starts the totals again from zero, which `rate()` and
/// `increase()` read as a counter reset.
public final class DeltaAccumulator: Sendable {
    private let totals = Mutex<[Labels: Double]>([:])
    public let maxSeries: Int

    public init(maxSeries: Int = 1_000_000) {
        self.maxSeries = maxSeries
    }

    /// Adds each delta to its series' total and returns the totals, or nil
    /// for a series that would pass the cap.
    func accumulate(_ deltas: [(labels: Labels, delta: Double)]) -> [Double?] {
        totals.withLock { totals in
            deltas.map { labels, delta in
                if let total = totals[labels] {
                    let sum = total + delta
                    totals[labels] = sum
                    return sum
                }
                guard totals.count < maxSeries else { return nil }
                totals[labels] = delta
                return delta
            }
        }
    }

    /// The number of series with a running total.
    public var count: Int { totals.withLock { $0.count } }
}
