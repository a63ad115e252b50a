import BlockCodec
import Foundation
import Hummingbird
import LogStorage
import LogWire
import NIOCore
import NIOPosix
import Synchronization
import TelemetryModel

/// Admits at most `limit` pushes at once; the others are told to retry
/// (429), so a flood of pushes cannot pile up in memory.
final class PushGate: Sendable {
    private let running = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func enter() -> Bool {
        if running.add(1, ordering: .relaxed).newValue > limit {
            running.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() {
        running.subtract(1, ordering: .relaxed)
    }
}

extension LokiRoutes {
    /// 204 when every entry was stored; 400 listing the refusals otherwise
    /// (the accepted entries are stored all the same, as Loki does). When
    /// nothing was stored and every entry wanted a new stream past
    /// `max_streams`, 429 as Loki answers its stream limit: a client retries
    /// it later (a stream idle for a whole segment period leaves the head and makes room) without
    /// sending anything twice.
    func pushAnswer(_ body: () async throws -> LogAppendResult) async throws -> Response {
        do {
            let result = try await body()
            guard result.rejectedCount == 0 else {
                let reasons = result.rejected.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }
                let onlyStreamLimit = result.accepted == 0 && result.rejected.keys.allSatisfy { $0 == .streamLimit }
                return textResponse(
                    onlyStreamLimit ? .tooManyRequests : .badRequest,
                    "\(result.rejectedCount) errors like: \(result.firstRejection ?? "refused") (\(reasons.joined(separator: ", ")); \(result.accepted) entries stored)")
            }
            return Response(status: .noContent)
        } catch let error as LokiError {
            return textResponse(error.status, error.message)
        } catch let error as HTTPError {
            throw error
        } catch {
            return textResponse(.internalServerError, "\(error)")
        }
    }

    /// The request body as it came, and its Content-Encoding.
    private func body(_ request: Request) async throws -> (bytes: [UInt8], encoding: String) {
        var request = request
        let limit = dependencies.maxPushBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw LokiError(status: .contentTooLarge, message: "the push body is larger than \(limit) bytes (logs.max_push_size)")
        }
        return (Array(buffer.readableBytesView), (request.headers[.contentEncoding] ?? "").lowercased())
    }

    /// The body inflated when it came gzip- or deflate-encoded (on the thread pool).
    private static func inflated(_ body: (bytes: [UInt8], encoding: String), limit: Int) throws -> [UInt8] {
        let raw = body.bytes
        switch body.encoding {
        case "", "identity", "snappy":
            // "snappy" says what the protobuf body always is (Loki takes it, and adds no second decoding).
            return raw
        case "gzip", "deflate":
            switch raw.withUnsafeBytes({ Inflate.decompress($0, limit: limit) }) {
            case .success(let bytes): return bytes
            case .failure(.tooLarge): throw LokiError(status: .contentTooLarge, message: "the push body inflates to more than \(limit) bytes")
            case .failure(.corrupt(let status)): throw LokiError.bad("the push body is not valid gzip or zlib data (zlib status \(status))")
            }
        case let other:
            throw LokiError(status: .unsupportedMediaType, message: "unsupported Content-Encoding \"\(other)\": tally takes gzip, deflate, snappy (protobuf) or none")
        }
    }

    /// Stores a batch off the event loop; 429 when too many pushes are being stored already.
    private func store(_ batch: LogBatch) async throws -> LogAppendResult {
        guard pushGate.enter() else {
            throw LokiError(status: .tooManyRequests, message: "too many concurrent pushes (\(pushGate.limit)); retry later")
        }
        defer { pushGate.leave() }
        let store = self.store
        let now = dependencies.clock.nowNanos()
        do {
            return try await NIOThreadPool.singleton.runIfActive { try store.append(batch, now: now) }
        } catch let failure as LogStore.AppendFailure {
            throw LokiError(status: .internalServerError, message: failure.description)
        }
    }

    /// `POST /loki/api/v1/push`: JSON (`{"streams":[{"stream":{…},"values":[["<ns>","line",{metadata}]]}]}`)
    /// or, for any other Content-Type, Loki's snappy-compressed protobuf.
    func push(_ request: Request) async throws -> LogAppendResult {
        let contentType = (request.headers[.contentType] ?? "application/json").lowercased()
        let received = try await body(request)
        let settings = PushSettings(dependencies)
        // Inflating and decoding a large body is CPU work: it runs on the thread pool, never on an event loop.
        let batch = try await NIOThreadPool.singleton.runIfActive {
            let bytes = try Self.inflated(received, limit: settings.maxPushBytes)
            return contentType.hasPrefix("application/json") ? try Self.jsonBatch(bytes, settings) : try Self.protobufBatch(bytes, settings)
        }
        return try await store(batch)
    }

    /// What decoding a push needs from the dependencies.
    struct PushSettings: Sendable {
        let labels: LogLabelConfig
        let maxLineBytes: Int
        let maxPushBytes: Int

        init(_ dependencies: APIDependencies) {
            labels = dependencies.logLabels
            maxLineBytes = dependencies.maxLogLineBytes
            maxPushBytes = dependencies.maxPushBytes
        }

        init(labels: LogLabelConfig, maxLineBytes: Int, maxPushBytes: Int) {
            self.labels = labels
            self.maxLineBytes = maxLineBytes
            self.maxPushBytes = maxPushBytes
        }
    }

    /// Decodes a push body as `POST /loki/api/v1/push` does, after any gzip: JSON or snappy
    /// protobuf, into the batch the store would get. For the fuzz targets of this package.
    static func decodePush(_ body: [UInt8], json: Bool, maxLineBytes: Int = 256 << 10, maxPushBytes: Int = 64 << 20) throws -> LogBatch {
        let settings = PushSettings(labels: LogLabelConfig(), maxLineBytes: maxLineBytes, maxPushBytes: maxPushBytes)
        return json ? try jsonBatch(body, settings) : try protobufBatch(body, settings)
    }

    private static func jsonBatch(_ bytes: [UInt8], _ settings: PushSettings) throws -> LogBatch {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw LokiError.bad("the push body is not valid JSON: \(error.localizedDescription)")
        }
        guard let object = root as? [String: Any], let streams = object["streams"] as? [Any] else {
            throw LokiError.bad("the push body must be an object with a \"streams\" array")
        }
        let decoder = LogDecoder(config: settings.labels)
        var batch = LogBatch(capacity: bytes.count + 1024)
        var log = DecodedLog()
        for (s, item) in streams.enumerated() {
            guard let stream = item as? [String: Any], let labels = stream["stream"] as? [String: Any], let values = stream["values"] as? [Any] else {
                throw LokiError.bad("streams[\(s)]: expected {\"stream\": {…}, \"values\": […]}")
            }
            var pairs: [(String, String)] = []
            for (name, value) in labels {
                guard let text = value as? String else { throw LokiError.bad("streams[\(s)].stream.\(name): label values must be strings") }
                pairs.append((name, text))
            }
            for (v, entry) in values.enumerated() {
                guard let parts = entry as? [Any], parts.count >= 2, let time = parts[0] as? String, let line = parts[1] as? String else {
                    throw LokiError.bad("streams[\(s)].values[\(v)]: expected [\"<unix nanoseconds>\", \"<line>\"]")
                }
                guard let nanos = Int64(time) else {
                    throw LokiError.bad("streams[\(s)].values[\(v)]: timestamp \"\(time)\" is not a whole number of nanoseconds")
                }
                var metadata: [(String, String)] = []
                if parts.count >= 3 {
                    guard let fields = parts[2] as? [String: Any] else {
                        throw LokiError.bad("streams[\(s)].values[\(v)]: structured metadata must be an object of strings")
                    }
                    for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                        guard let text = value as? String else {
                            throw LokiError.bad("streams[\(s)].values[\(v)]: structured metadata value \(name) must be a string")
                        }
                        metadata.append((name, text))
                    }
                }
                if let problem = decoder.makeRecord(
                    labels: pairs, line: line, timestamp: nanos, fields: metadata, source: .loki,
                    maxLineBytes: settings.maxLineBytes, into: &log)
                {
                    throw LokiError.bad("streams[\(s)]: \(problem)")
                }
                batch.append(log)
            }
        }
        return batch
    }

    private static func protobufBatch(_ compressed: [UInt8], _ settings: PushSettings) throws -> LogBatch {
        let bytes: [UInt8]
        switch compressed.withUnsafeBytes({ Snappy.decompress($0, limit: settings.maxPushBytes) }) {
        case .success(let inflated): bytes = inflated
        case .failure(.tooLarge): throw LokiError(status: .contentTooLarge, message: "the push body decompresses to more than \(settings.maxPushBytes) bytes")
        case .failure(.corrupt): throw LokiError.bad("the push body is not snappy-compressed protobuf (send Content-Type: application/json for JSON)")
        }
        let streams: [LokiPushProtobuf.Stream]
        do {
            streams = try LokiPushProtobuf.decode(bytes)
        } catch {
            throw LokiError.bad("invalid protobuf push: \(error)")
        }
        let decoder = LogDecoder(config: settings.labels)
        var batch = LogBatch(capacity: bytes.count + 1024)
        var log = DecodedLog()
        for (s, stream) in streams.enumerated() {
            for entry in stream.entries {
                if let problem = decoder.makeRecord(
                    labels: stream.labels, line: entry.line, timestamp: entry.nanos, fields: entry.metadata, source: .loki,
                    maxLineBytes: settings.maxLineBytes, into: &log)
                {
                    throw LokiError.bad("streams[\(s)]: \(problem)")
                }
                batch.append(log)
            }
        }
        return batch
    }

    /// `POST /api/v1/logs`: JSON objects, one per line, as the logs port takes them.
    func postLines(_ request: Request) async throws -> LogAppendResult {
        let received = try await body(request)
        let settings = PushSettings(dependencies)
        let batch = try await NIOThreadPool.singleton.runIfActive {
            try Self.linesBatch(try Self.inflated(received, limit: settings.maxPushBytes), settings)
        }
        return try await store(batch)
    }

    private static func linesBatch(_ bytes: [UInt8], _ settings: PushSettings) throws -> LogBatch {
        let decoder = LogDecoder(config: settings.labels)
        var batch = LogBatch(capacity: bytes.count + 1024)
        var log = DecodedLog()
        let limit = settings.maxLineBytes
        bytes.withUnsafeBytes { raw in
            var start = 0
            for i in 0...raw.count where i == raw.count || raw[i] == 0x0A {
                var line = UnsafeRawBufferPointer(rebasing: raw[start..<i])
                start = i + 1
                if line.last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
                guard !line.isEmpty else { continue }
                let cut = max(0, line.count - limit)
                decoder.decodeJSONLine(UnsafeRawBufferPointer(rebasing: line.prefix(limit)), truncatedBytes: cut, into: &log)
                batch.append(log)
            }
        }
        guard !batch.isEmpty else { throw LokiError.bad("the body holds no log lines") }
        return batch
    }
}
