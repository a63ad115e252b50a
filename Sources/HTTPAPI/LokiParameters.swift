import TelemetryModel

/// Loki's reading of times and steps in its query parameters.
enum LokiParameters {
    /// A time as Loki takes it: float seconds when it has a fraction, an
    /// integer of up to 10 digits as seconds and a longer one as nanoseconds,
    /// or RFC 3339. Nanoseconds.
    static func time(_ text: String) -> Int64? {
        if text.contains("."), let seconds = Double(text), seconds.isFinite, abs(seconds) < 9.2e9 {
            return Int64((seconds * 1000).rounded()) * 1_000_000
        }
        if let integer = Int64(text) {
            guard text.trimmingPrefix("-").count <= 10 else { return integer }
            let (nanos, overflow) = integer.multipliedReportingOverflow(by: 1_000_000_000)
            return overflow ? nil : nanos
        }
        let bytes = Array(text.utf8)
        if case .success(let nanos) = bytes.withUnsafeBytes({ parseRFC3339Nanoseconds($0) }) { return nanos }
        return nil
    }

    /// A step or duration: float seconds or a Prometheus duration; nanoseconds.
    static func duration(_ text: String) -> Int64? {
        if let seconds = Double(text), seconds.isFinite, abs(seconds) < 9.2e9 { return Int64((seconds * 1e9).rounded()) }
        guard let millis = try? parseDuration(text) else { return nil }
        let (nanos, overflow) = millis.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? nil : nanos
    }
}

extension String {
    fileprivate func trimmingPrefix(_ prefix: String) -> Substring {
        hasPrefix(prefix) ? dropFirst(prefix.count) : self[...]
    }
}
