import Synchronization
import TelemetryModel
import StatsDWire

/// Logs rejected lines at most once a second, with how many were not logged
/// in between, so junk traffic cannot flood the log. Shared by all routers.
public final class BadLineLog: Sendable {
    private let lastLogged = Atomic<Int64>(0)
    private let suppressed = Atomic<Int>(0)
    private let clock: any WallClock
    private let emit: @Sendable (String) -> Void

    /// `emit` receives one ready-made message (the caller's logger).
    public init(clock: any WallClock, emit: @escaping @Sendable (String) -> Void) {
        self.clock = clock
        self.emit = emit
    }

    public func report(_ error: StatsDParseError, _ line: UnsafeRawBufferPointer) {
        let now = clock.nowMillis()
        let last = lastLogged.load(ordering: .relaxed)
        guard now - last >= 1000,
              lastLogged.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else {
            suppressed.add(1, ordering: .relaxed)
            return
        }
        let skipped = suppressed.exchange(0, ordering: .relaxed)
        let shown = line.prefix(120).map { byte -> String in
            (0x20..<0x7F).contains(byte) && byte != UInt8(ascii: "\\") ? String(UnicodeScalar(byte)) : "\\x" + hex(byte)
        }.joined()
        let more = line.count > 120 ? "… (\(line.count) bytes)" : ""
        emit("rejected StatsD line: \(error); line: \"\(shown)\(more)\"; \(skipped) more rejected since the last report")
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }
}
