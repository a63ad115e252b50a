import LogWire

/// Decodes the log lines of one connection or socket into one batch per
/// writer lane, and hands the batches over. Owned by one event loop; nothing
/// is allocated per line once its buffers have grown.
final class LogLineRouter {
    enum Format {
        /// JSON or logfmt, told per line (the logs port).
        case lines
        case syslog
    }

    enum Policy {
        /// Keep batches a full ring refused, for a retry (TCP: the connection pauses).
        case keep
        /// Drop them and count the lines (UDP).
        case drop
    }

    private let decoder: LogDecoder
    private let writers: LogWriters
    private let metrics: LogIngestMetrics
    private let listener: LogIngestMetrics.Listener
    private let format: Format
    private let policy: Policy
    private var batches: [LogBatch]
    private var log = DecodedLog()
    /// Batches are handed over once this big.
    static let batchBytes = 64 * 1024

    private var lines = 0
    private var bytes = 0

    init(decoder: LogDecoder, writers: LogWriters, metrics: LogIngestMetrics, listener: String, format: Format, policy: Policy) {
        self.decoder = decoder
        self.writers = writers
        self.metrics = metrics
        // Listener names are the fixed set LogIngestMetrics registers.
        self.listener = metrics.listeners[listener]!
        self.format = format
        self.policy = policy
        batches = (0..<writers.laneCount).map { _ in LogBatch() }
    }

    /// Decodes one message; `truncated` is how much of it the framing left out.
    func ingest(_ message: UnsafeRawBufferPointer, truncated: Int, now: Int64) {
        lines += 1
        bytes += message.count + truncated
        switch format {
        case .lines: decoder.decodeLine(message, truncatedBytes: truncated, into: &log)
        case .syslog: decoder.decodeSyslog(message, now: now, truncatedBytes: truncated, into: &log)
        }
        if let error = log.parseError { metrics.parseErrors[error.format]?.increment() }
        if truncated > 0 { metrics.truncated.increment() }
        if log.repairedUTF8 { metrics.invalidUTF8.increment() }
        let lane = laneFor(log)
        batches[lane].append(log)
        if batches[lane].bytes.count >= Self.batchBytes { hand(lane) }
    }

    /// Which lane a record's stream goes to.
    private func laneFor(_ log: DecodedLog) -> Int {
        guard batches.count > 1 else { return 0 }
        var hash: UInt64 = 0
        for pair in log.labels {
            for k in pair.name { hash = (hash ^ UInt64(log.bytes[k])) &* 0x100_0000_01b3 }
            for k in pair.value { hash = (hash ^ UInt64(log.bytes[k])) &* 0x100_0000_01b3 }
        }
        return Int(hash % UInt64(batches.count))
    }

    /// Batches waiting for room in their ring.
    var hasPending: Bool { batches.contains { !$0.isEmpty } }

    /// Hands over every non-empty batch; true when all went (or were dropped under `.drop`).
    @discardableResult
    func flush() -> Bool {
        var all = true
        for lane in batches.indices where !batches[lane].isEmpty {
            if !hand(lane) { all = false }
        }
        publish()
        return all
    }

    @discardableResult
    private func hand(_ lane: Int) -> Bool {
        if writers.push(batches[lane], lane: lane) {
            batches[lane] = LogBatch()
            return true
        }
        switch policy {
        case .keep:
            return false
        case .drop:
            metrics.droppedRingFull.increment(by: Int64(batches[lane].count))
            batches[lane].removeAll()
            return true
        }
    }

    private func publish() {
        if lines > 0 {
            listener.lines.increment(by: Int64(lines))
            listener.bytes.increment(by: Int64(bytes))
            lines = 0
            bytes = 0
        }
    }
}
