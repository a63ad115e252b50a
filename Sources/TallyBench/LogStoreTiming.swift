import Foundation
import LogStorage
import LogWire
import TelemetryModel

/// Decoding and storing a log file (gen-logs.py output) in process: ns per
/// line for decoding into batches, for appending them to a store, and the
/// bytes the store's segments take beside the raw size.
func timeLogStore(file: String, decodeRepeats: Int) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: file))
    let bytes = [UInt8](data)
    var lines: [Range<Int>] = []
    var start = 0
    for (i, byte) in bytes.enumerated() where byte == 0x0A {
        if i > start { lines.append(start..<i) }
        start = i + 1
    }
    let syslog = bytes.first == UInt8(ascii: "<")
    let decoder = LogDecoder()
    let now = Int64(Date().timeIntervalSince1970 * 1e9)
    func decodeAll() -> [LogBatch] {
        var batches: [LogBatch] = []
        var batch = LogBatch()
        var log = DecodedLog()
        bytes.withUnsafeBytes { raw in
            for range in lines {
                let line = UnsafeRawBufferPointer(rebasing: raw[range])
                if syslog { decoder.decodeSyslog(line, now: now, into: &log) } else { decoder.decodeLine(line, into: &log) }
                batch.append(log)
                if batch.bytes.count >= 60_000 {
                    batches.append(batch)
                    batch = LogBatch()
                }
            }
        }
        if !batch.isEmpty { batches.append(batch) }
        return batches
    }
    var best = UInt64.max
    var batches: [LogBatch] = []
    for _ in 0..<max(1, decodeRepeats) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        batches = decodeAll()
        best = min(best, DispatchTime.now().uptimeNanoseconds - t0)
    }
    print(String(format: "decode into batches      %8.1f ns/line  (%d lines, %.1f MB)", Double(best) / Double(lines.count), lines.count, Double(bytes.count) / 1e6))

    let directory = NSTemporaryDirectory() + "tally-bench-logs-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = LogStoreOptions()
    options.retentionNanos = Int64.max / 4
    options.maxFutureNanos = Int64.max / 4
    options.fsync = .never
    let store = try LogStore(directory: directory, options: options, now: now)
    let t0 = DispatchTime.now().uptimeNanoseconds
    var accepted = 0
    for batch in batches { accepted += try store.append(batch, now: now).accepted }
    let t1 = DispatchTime.now().uptimeNanoseconds
    store.writeSegment(now: now)
    let t2 = DispatchTime.now().uptimeNanoseconds
    print(String(format: "append to the store       %8.1f ns/line  (%d accepted; WAL written, chunks cut and compressed)", Double(t1 - t0) / Double(lines.count), accepted))
    print(String(format: "write the segment         %8.1f ns/line", Double(t2 - t1) / Double(lines.count)))
    let segments = try FileManager.default.contentsOfDirectory(atPath: directory + "/segments")
    var size = 0
    for name in segments {
        size += (try FileManager.default.attributesOfItem(atPath: directory + "/segments/" + name)[.size] as? Int) ?? 0
    }
    print(String(format: "segment bytes             %d (%.4f of raw %d)", size, Double(size) / Double(bytes.count), bytes.count))
    var count = 0
    let t3 = DispatchTime.now().uptimeNanoseconds
    for stream in try store.select([], start: 0, end: .max) {
        try stream.forEachEntry(start: 0, end: .max) { _ in
            count += 1
            return true
        }
    }
    let t4 = DispatchTime.now().uptimeNanoseconds
    print(String(format: "read every entry back     %8.1f ns/line  (%d entries)", Double(t4 - t3) / Double(max(count, 1)), count))
}
