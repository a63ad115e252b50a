/// A name and a value, as ranges of `DecodedLog.bytes`.
public struct LogPair: Sendable, Equatable {
    public var name: Range<Int>
    public var value: Range<Int>
}

/// One decoded log record, reused from line to line so that decoding
/// allocates nothing once its buffers have grown: the line, every name and
/// every value are copied into `bytes`, and the rest are ranges of it.
///
/// `labels` are the stream labels, sorted by name, `source` always among
/// them; `fields` are the record's other data (structured metadata), in the
/// order they came.
public struct DecodedLog: Sendable {
    public internal(set) var bytes: [UInt8] = []
    public internal(set) var line: Range<Int> = 0..<0
    public internal(set) var labels: [LogPair] = []
    public internal(set) var fields: [LogPair] = []
    /// Nanoseconds since the epoch, when the record carries its time.
    public internal(set) var timestamp: Int64?
    /// Where in the line (offsets from its start) the text of the time is,
    /// when the time was read from the line itself.
    public internal(set) var timestampText: Range<Int>?
    /// Set when the line was not the format it claimed; the line is then kept raw.
    public internal(set) var parseError: LogParseError?
    /// Bytes of the line left out because it was longer than the limit.
    public internal(set) var truncatedBytes = 0
    /// The path the record came by (its `source` label).
    public internal(set) var source: LogSource = .raw
    /// Set when invalid UTF-8 was replaced by U+FFFD.
    public internal(set) var repairedUTF8 = false
    /// Where `bytes` are repaired before decoding; kept for reuse.
    var repairScratch: [UInt8] = []

    public init() {
        bytes.reserveCapacity(1024)
        labels.reserveCapacity(16)
        fields.reserveCapacity(32)
    }

    /// Forgets the previous record, keeping the memory.
    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        line = 0..<0
        labels.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        timestamp = nil
        timestampText = nil
        parseError = nil
        truncatedBytes = 0
        repairedUTF8 = false
    }

    // MARK: Building

    /// Copies bytes in and returns where they are.
    mutating func append(_ source: UnsafeRawBufferPointer) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: source)
        return start..<bytes.count
    }

    mutating func append(_ text: StaticString) -> Range<Int> {
        let start = bytes.count
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        return start..<bytes.count
    }

    /// Whether `range` of `bytes` spells `name`.
    func bytes(_ range: Range<Int>, equal name: [UInt8]) -> Bool {
        guard range.count == name.count else { return false }
        var i = range.lowerBound
        for byte in name {
            if bytes[i] != byte { return false }
            i += 1
        }
        return true
    }

    func hasLabel(_ name: [UInt8]) -> Bool {
        labels.contains { bytes($0.name, equal: name) }
    }

    /// Sorts the labels by name (insertion sort: there are at most a handful).
    mutating func sortLabels() {
        guard labels.count > 1 else { return }
        for i in 1..<labels.count {
            let item = labels[i]
            var j = i - 1
            while j >= 0, compare(labels[j].name, item.name) > 0 {
                labels[j + 1] = labels[j]
                j -= 1
            }
            labels[j + 1] = item
        }
    }

    private func compare(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        let n = min(a.count, b.count)
        for k in 0..<n where bytes[a.lowerBound + k] != bytes[b.lowerBound + k] {
            return bytes[a.lowerBound + k] < bytes[b.lowerBound + k] ? -1 : 1
        }
        return a.count - b.count
    }

    // MARK: Reading (allocates; for tests, tools and the slow paths)

    /// The text of a range of `bytes`.
    public func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    public var lineText: String { text(line) }

    /// The stream labels as name-value pairs, sorted by name.
    public var labelPairs: [(name: String, value: String)] { labels.map { (text($0.name), text($0.value)) } }

    /// The fields as name-value pairs, in the order they came.
    public var fieldPairs: [(name: String, value: String)] { fields.map { (text($0.name), text($0.value)) } }

    /// A label's value, if the record has it.
    public func label(_ name: String) -> String? {
        labels.first { text($0.name) == name }.map { text($0.value) }
    }

    /// A field's first value, if the record has it.
    public func field(_ name: String) -> String? {
        fields.first { text($0.name) == name }.map { text($0.value) }
    }
}
