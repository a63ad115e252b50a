/// The aggregates an agent sends (`POST /api/v1/aggregates`, after snappy),
/// decoded as the central tally does, open to the fuzz targets of this
/// package; a refusal is the expected outcome.
package enum AggregationDecoderProbes {
    package static func aggregateRequest(_ raw: UnsafeRawBufferPointer) {
        _ = try? AggregateWire.decode(raw, relativeAccuracy: 0.01, hllPrecision: 14, maxNameLength: 1024)
    }
}
