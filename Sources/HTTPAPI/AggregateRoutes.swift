import BlockCodec
import Hummingbird
import NIOCore
import TelemetryModel

/// `POST /api/v1/aggregates`: a central tally taking its agents' StatsD
/// state (a snappy-compressed `AggregateRequest`, docs/scale-out.md), merged
/// into the aggregation so that quantiles and distinct counts are global.
/// 204 when taken; a request that cannot be read, or was built with other
/// sketch settings, is refused whole with 400 (the agent drops it and
/// counts it), 413 over `http.max_write_size`, 503 with Retry-After when a
/// shutdown cut it short (the agent sends it again). Errors are plain text.
struct AggregateRoutes: Sendable {
    let dependencies: APIDependencies
    let intake: any AggregateIntake

    static let path = "/api/v1/aggregates"

    func register(on router: Router<TallyRequestContext>) {
        router.post("\(Self.path)") { request, _ in
            try await receive(request)
        }
    }

    func receive(_ request: Request) async throws -> Response {
        var request = request
        let limit = dependencies.maxWriteBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            return textResponse(.contentTooLarge, "the request body is larger than \(limit) bytes (http.max_write_size)")
        }
        guard buffer.readableBytes > 0 else {
            return textResponse(.badRequest, "empty request body: expected a snappy-compressed AggregateRequest")
        }
        let body: [UInt8]
        switch buffer.readableBytesView.withUnsafeBytes({ Snappy.decompress($0, limit: limit) }) {
        case .success(let bytes): body = bytes
        case .failure(.tooLarge): return textResponse(.contentTooLarge, "the request body decompresses to more than \(limit) bytes")
        case .failure: return textResponse(.badRequest, "the request body is not snappy block-compressed data")
        }
        switch await intake.importAggregates(body) {
        case .success: return Response(status: .noContent)
        case .failure(let refusal) where refusal.retryable:
            var response = textResponse(.serviceUnavailable, refusal.description)
            response.headers[.retryAfter] = "1"
            return response
        case .failure(let refusal): return textResponse(.badRequest, refusal.description)
        }
    }
}
