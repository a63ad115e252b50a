import LogWire

let fuzzNow: Int64 = 1_700_000_000 * 1_000_000_000

/// Log lines as the log listeners decode them, and the batch they go into.
let logTargets: [FuzzTarget] = [
    FuzzTarget("log_json") { input in decodeLog(input) { $0.decodeJSONLine(input, into: &$1) } },
    FuzzTarget("log_logfmt") { input in decodeLog(input) { $0.decodeLogfmtLine(input, into: &$1) } },
    FuzzTarget("log_syslog") { input in decodeLog(input) { $0.decodeSyslog(input, now: fuzzNow, into: &$1) } },
]

private func decodeLog(_ input: UnsafeRawBufferPointer, _ decode: (LogDecoder, inout DecodedLog) -> Void) {
    let decoder = LogDecoder()
    var log = DecodedLog()
    decode(decoder, &log)
    var batch = LogBatch()
    batch.append(log)
}
