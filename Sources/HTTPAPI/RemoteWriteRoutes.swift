import BlockCodec
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import ProtobufWire
import TelemetryModel

/// `POST /api/v1/write`: Prometheus remote_write 1.0, so that Prometheus,
/// vmagent, Grafana Alloy and the OpenTelemetry Collector can send to tally.
///
/// Answers as Prometheus's receiver does: 204 when everything was stored;
/// 400 naming what was refused (samples out of order, too old, series with
/// invalid labels), while everything valid in the request is stored all the
/// same, so a sender that drops the batch on 400 loses only what tally could
/// never take. A request tally cannot read at all (bad snappy, bad protobuf)
/// is refused whole with 400; 413 over the body limit; 415 for remote_write
/// 2.0 and unknown encodings, which tells 2.0 senders to fall back to 1.0;
/// 429 when more than `http.max_concurrent_writes` are being stored. Errors are plain
/// text, as Prometheus writes them.
struct RemoteWriteRoutes: Sendable {
    let dependencies: APIDependencies
    let sink: any SampleSink
    let gate: PushGate
    let metrics: RemoteWriteMetrics
    let cache: WriteSeriesCache

    init(dependencies: APIDependencies, sink: any SampleSink) {
        self.dependencies = dependencies
        self.sink = sink
        gate = PushGate(limit: dependencies.maxConcurrentWrites)
        metrics = RemoteWriteMetrics(registry: dependencies.registry)
        cache = WriteSeriesCache(capacity: dependencies.writeSeriesCacheSize)
    }

    static let path = "/api/v1/write"

    func register(on router: Router<TallyRequestContext>) {
        router.post("\(Self.path)") { request, _ in
            try await receive(request)
        }
    }

    /// A request refused whole: its status, its text, and the counter it bumps.
    struct Refusal: Error {
        var status: HTTPResponse.Status
        var reason: RemoteWriteMetrics.RequestReason
        var message: String
    }

    func receive(_ request: Request) async throws -> Response {
        do {
            let outcome = try await store(request)
            guard let problem = outcome.problem else { return Response(status: .noContent) }
            return textResponse(.badRequest, problem)
        } catch let refusal as Refusal {
            metrics.requestsRejected[refusal.reason]?.increment()
            var response = textResponse(refusal.status, refusal.message)
            if refusal.status == .tooManyRequests { response.headers[.retryAfter] = "1" }
            return response
        }
    }

    private func store(_ request: Request) async throws -> StoreOutcome {
        try Self.checkHeaders(request.headers)
        var request = request
        let limit = dependencies.maxWriteBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw Refusal(status: .contentTooLarge, reason: .tooLarge, message: "the request body is larger than \(limit) bytes (http.max_write_size)")
        }
        guard buffer.readableBytes > 0 else {
            throw Refusal(status: .badRequest, reason: .empty, message: "empty request body: expected a snappy-compressed prometheus.WriteRequest")
        }
        guard gate.enter() else {
            throw Refusal(
                status: .tooManyRequests, reason: .overloaded,
                message: "too many remote_write requests being stored at once (\(gate.limit), http.max_concurrent_writes); retry later")
        }
        defer { gate.leave() }
        let compressed = Array(buffer.readableBytesView)
        let (sink, metrics, catalog, cache, limits, seriesLimits, refusedByName) = (
            self.sink, self.metrics, dependencies.catalog, self.cache, dependencies.labelLimits, dependencies.seriesLimits,
            dependencies.seriesPerMetricRefusals)
        // Decompressing, decoding and storing are CPU work: on the thread pool, never on an event loop.
        return try await NIOThreadPool.singleton.runIfActive {
            let bytes: [UInt8]
            switch compressed.withUnsafeBytes({ Snappy.decompress($0, limit: limit) }) {
            case .success(let inflated): bytes = inflated
            case .failure(.tooLarge):
                throw Refusal(status: .contentTooLarge, reason: .tooLarge, message: "the request body decompresses to more than \(limit) bytes")
            case .failure(.corrupt):
                throw Refusal(status: .badRequest, reason: .badSnappy, message: "the request body is not snappy block-compressed data")
            }
            return try bytes.withUnsafeBytes { raw throws(Refusal) in
                let request: RemoteWriteRequest
                do {
                    request = try RemoteWriteRequest.decode(raw)
                } catch {
                    throw Refusal(status: .badRequest, reason: .badProtobuf, message: "invalid prometheus.WriteRequest: \(error)")
                }
                return try RemoteWriteIntake(
                    raw: raw, request: request, sink: sink, metrics: metrics, catalog: catalog, cache: cache, limits: limits,
                    seriesLimits: seriesLimits, refusedByName: refusedByName
                ).run()
            }
        }
    }

    /// 1.0 is `application/x-protobuf` (optionally `;proto=prometheus.WriteRequest`)
    /// with snappy; 2.0 names `io.prometheus.write.v2.Request` and is refused with
    /// 415 so the sender falls back, as the 2.0 specification asks.
    static func checkHeaders(_ headers: HTTPFields) throws(Refusal) {
        let contentType = (headers[.contentType] ?? "application/x-protobuf").lowercased()
        if let proto = contentType.split(separator: ";").dropFirst().first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("proto=") }) {
            let name = proto.trimmingCharacters(in: .whitespaces).dropFirst("proto=".count)
            guard name == "prometheus.writerequest" else {
                throw Refusal(
                    status: .unsupportedMediaType, reason: .unsupportedVersion,
                    message: "unsupported remote_write message \(name): tally receives remote_write 1.0 (proto=prometheus.WriteRequest)")
            }
        }
        let encoding = (headers[.contentEncoding] ?? "snappy").lowercased().trimmingCharacters(in: .whitespaces)
        guard encoding == "snappy" else {
            throw Refusal(
                status: .unsupportedMediaType, reason: .unsupportedEncoding,
                message: "unsupported Content-Encoding \"\(encoding)\": remote_write bodies are snappy block-compressed")
        }
    }
}

/// What storing one request did.
struct StoreOutcome: Sendable {
    var stored = 0
    /// The text of a 400, when anything was refused.
    var problem: String?
}
