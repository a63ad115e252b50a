import Testing
import TelemetryModel
@testable import HTTPAPI

/// The remote_write series cache hands every reference it was given back
/// exactly once (as a duplicate, as evicted, or when drained), never while
/// a request that looked it up is still in flight.
@Suite("remote_write series cache")
struct WriteSeriesCacheTests {
    static func key(_ i: Int) -> [UInt8] { Array("series-\(i)".utf8) }

    @Test func everyReferenceComesBackExactlyOnce() {
        let cache = WriteSeriesCache(capacity: 3)
        var given: [UInt32] = []
        var returned: [UInt32] = []
        var next: UInt32 = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let ids = (0..<4).map { _ in Int.random(in: 0..<12, using: &generator) }
            let keys = ids.map(Self.key)
            keys.withUnsafeBufferPointers { raws in
                let found = cache.begin(raws.map { Optional($0) })
                var entries: [(key: UnsafeRawBufferPointer, ref: SeriesRef)] = []
                for (raw, ref) in zip(raws, found) where ref == nil {
                    next += 1
                    given.append(next)
                    entries.append((raw, SeriesRef(raw: next)))
                }
                returned += cache.insert(entries).map(\.raw)
                // A second lookup in the same request finds what was just inserted.
                #expect(cache.begin(raws.map { Optional($0) }).allSatisfy { $0 != nil })
                returned += cache.end().map(\.raw)
            }
            returned += cache.end().map(\.raw)
        }
        returned += cache.drain().map(\.raw)
        #expect(given.count > 12, "evictions made some series register again")
        #expect(returned.sorted() == given.sorted())
    }

    @Test func evictedReferencesWaitForRequestsInFlight() {
        let cache = WriteSeriesCache(capacity: 1)
        let a = Self.key(1), b = Self.key(2), c = Self.key(3)
        a.withUnsafeBytes { ra in b.withUnsafeBytes { rb in c.withUnsafeBytes { rc in
            _ = cache.begin([ra])
            _ = cache.insert([(ra, SeriesRef(raw: 1))])
            _ = cache.insert([(rb, SeriesRef(raw: 2))])   // a moves to the previous generation
            // Still in flight: a request that began before may hold 1.
            _ = cache.begin([rb])
            _ = cache.insert([(rc, SeriesRef(raw: 3))])   // a is evicted
            #expect(cache.end().isEmpty)
            #expect(cache.end().map(\.raw) == [1])
        } } }
    }
}

extension Array where Element == [UInt8] {
    /// Calls `body` with a raw buffer for each element, all valid at once.
    func withUnsafeBufferPointers<R>(_ body: ([UnsafeRawBufferPointer]) -> R) -> R {
        func recurse(_ index: Int, _ acc: [UnsafeRawBufferPointer]) -> R {
            guard index < count else { return body(acc) }
            return self[index].withUnsafeBytes { recurse(index + 1, acc + [$0]) }
        }
        return recurse(0, [])
    }
}
