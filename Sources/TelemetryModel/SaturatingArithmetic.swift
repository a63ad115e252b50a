/// Arithmetic on times that come from requests, where a bound like
/// `9999-12-31` or `end=9223372036854775807` must clamp, not trap.
extension Int64 {
    /// The product, clamped to `Int64.min...Int64.max`.
    public func saturatingMultiplied(by factor: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: factor)
        guard overflow else { return product }
        return (self < 0) != (factor < 0) ? .min : .max
    }

    /// The sum, clamped to `Int64.min...Int64.max`.
    public func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }

    /// The difference, clamped to `Int64.min...Int64.max`.
    public func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }
}
