#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cuts a byte stream into messages: newline-delimited lines, or for syslog
/// over TCP (RFC 6587) each message either octet-counted (`LEN SP MSG`, told
/// by its leading digit) or newline-delimited. A message longer than
/// `maxBytes` is cut there: its first `maxBytes` are given with the count of
/// bytes left out, and the rest is skipped. Only the start of an unfinished
/// message is kept between reads, never more than `maxBytes` of it.
struct MessageFramer {
    enum Mode {
        case lines
        case syslog
    }

    let mode: Mode
    let maxBytes: Int
    /// The start of a message whose end has not arrived.
    private var pending: [UInt8] = []
    /// Bytes of the current message beyond `maxBytes`, skipped so far.
    private var skipped = 0
    /// True while skipping the rest of an over-long newline-delimited message.
    private var skipping = false
    /// Octet counting: bytes of the current message still to come.
    private var remaining: Int?
    /// Octet counting: the digits of a length whose space has not arrived.
    private var lengthDigits: Int?

    init(mode: Mode, maxBytes: Int) {
        self.mode = mode
        self.maxBytes = max(1, maxBytes)
    }

    /// Bytes held between reads.
    var pendingBytes: Int { pending.count }

    /// Feeds one read; `emit` gets each complete message and how many of its bytes were left out.
    mutating func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer, Int) -> Void) {
        var i = 0
        while i < input.count {
            if let left = remaining {
                // Inside an octet-counted message.
                let take = min(left, input.count - i)
                keep(UnsafeRawBufferPointer(rebasing: input[i..<i + take]))
                i += take
                if take == left {
                    remaining = nil
                    emitPending(emit)
                } else {
                    remaining = left - take
                }
                continue
            }
            if let digits = lengthDigits {
                let byte = input[i]
                i += 1
                if byte >= 48, byte <= 57 {
                    lengthDigits = min(digits * 10 + Int(byte - 48), Int(Int32.max))
                } else {
                    // The space after the length (or a malformed header: then it is taken as a space too).
                    lengthDigits = nil
                    remaining = digits
                    if digits == 0 {
                        emitPending(emit)
                        remaining = nil
                    }
                }
                continue
            }
            if skipping {
                guard let newline = find(input, from: i) else {
                    skipped += input.count - i
                    return
                }
                skipped += newline - i
                skipping = false
                i = newline + 1
                emitPending(emit)
                continue
            }
            if pending.isEmpty, mode == .syslog {
                // Between messages: skip blank bytes; a digit starts an octet count.
                let byte = input[i]
                if byte == 0x0A || byte == 0x0D || byte == 0x20 {
                    i += 1
                    continue
                }
                if byte >= 49, byte <= 57 {
                    lengthDigits = Int(byte - 48)
                    i += 1
                    continue
                }
            }
            guard let newline = find(input, from: i) else {
                keep(UnsafeRawBufferPointer(rebasing: input[i...]))
                if pending.count >= maxBytes, skipped > 0 { skipping = true }
                return
            }
            if pending.isEmpty && skipped == 0 {
                // The whole message is in this read: no copy.
                var message = UnsafeRawBufferPointer(rebasing: input[i..<newline])
                if message.last == 0x0D { message = UnsafeRawBufferPointer(rebasing: message.dropLast()) }
                if !message.isEmpty {
                    let cut = max(0, message.count - maxBytes)
                    emit(UnsafeRawBufferPointer(rebasing: message.prefix(maxBytes)), cut)
                }
            } else {
                keep(UnsafeRawBufferPointer(rebasing: input[i..<newline]))
                emitPending(emit)
            }
            i = newline + 1
        }
    }

    /// At the end of the stream, an unfinished message is kept as far as it
    /// came. The bytes its octet count promised but the sender never sent are
    /// not counted as left out: they were never received (a count of
    /// 2147483647 once added 2 GiB a connection to the received-bytes total).
    mutating func finish(_ emit: (UnsafeRawBufferPointer, Int) -> Void) {
        remaining = nil
        lengthDigits = nil
        skipping = false
        emitPending(emit)
    }

    /// Appends to the pending message, up to `maxBytes`; the rest is counted as left out.
    private mutating func keep(_ bytes: UnsafeRawBufferPointer) {
        let room = max(0, maxBytes - pending.count)
        pending.append(contentsOf: bytes.prefix(room))
        skipped += max(0, bytes.count - room)
    }

    private mutating func emitPending(_ emit: (UnsafeRawBufferPointer, Int) -> Void) {
        if pending.last == 0x0D { pending.removeLast() }
        if !pending.isEmpty { pending.withUnsafeBytes { emit($0, skipped) } }
        pending.removeAll(keepingCapacity: pending.capacity <= 1 << 16)
        skipped = 0
    }

    private func find(_ input: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < input.count, let base = input.baseAddress else { return nil }
        guard let hit = memchr(base + start, 0x0A, input.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }
}
