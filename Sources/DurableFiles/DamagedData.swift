/// A file or directory a store found damaged when it opened and left out.
/// Its data cannot be read, so a query whose range may touch it fails,
/// naming it, rather than answer without it; moving it out of the data
/// directory (or restoring it) ends that.
package struct DamagedData: Sendable {
    /// Where it is now.
    package let path: String
    /// The times it holds, in the store's unit, or nil when the damage hides
    /// them (then every query may touch it).
    package let range: ClosedRange<Int64>?
    /// The range as a reader should see it.
    package let span: String
    /// What was found wrong.
    package let reason: String

    package init(path: String, range: ClosedRange<Int64>?, span: String, reason: String) {
        self.path = path
        self.range = range
        self.span = span
        self.reason = reason
    }

    /// Whether `[start, end]` may include some of its data.
    package func overlaps(start: Int64, end: Int64) -> Bool {
        guard let range else { return true }
        return range.upperBound >= start && range.lowerBound <= end
    }

    /// The error a query that may need it fails with.
    package var queryError: StorageError {
        StorageError(.corrupt(
            "damaged data that this query would read (\(span)) is left out: \(reason); "
                + "`tally verify` lists the damage; move it out of the data directory to query without it"), path: path)
    }
}
