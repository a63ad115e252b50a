import Aggregation

/// One hour's rollups that are not written yet, merged by family name. The
/// rollups sit in an array and a dictionary maps each name to its place:
/// a family costs its rollup and a 20-byte bucket, where a dictionary of
/// rollups cost 128-byte buckets, about half of them empty.
struct PendingRollups: Sendable {
    private var places: [String: Int32] = [:]
    private(set) var rollups: [SketchRollup] = []

    /// Merges a rollup into its family's, or keeps it as the family's first.
    mutating func merge(_ rollup: SketchRollup) {
        if let at = places[rollup.name] {
            rollups[Int(at)].merge(rollup)
        } else {
            places[rollup.name] = Int32(rollups.count)
            rollups.append(rollup)
        }
    }
}
