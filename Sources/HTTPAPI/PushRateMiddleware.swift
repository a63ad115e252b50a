import Hummingbird

/// Answers `429` with `Retry-After` to a client that pushes faster than
/// `limits.push_rate_per_client` (see `PushRateLimiter`). A push is
/// charged its `Content-Length`, or `chunkedCharge` bytes when sent chunked.
struct PushRateMiddleware: RouterMiddleware {
    typealias Context = TallyRequestContext

    let limiter: PushRateLimiter
    let metrics: AccessMetrics
    static let chunkedCharge = 64 << 10

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard RouteAccess.requiredScope(method: request.method, path: request.uri.path, metricsOpen: false) == .write else {
            return try await next(request, context)
        }
        let bytes = request.headers[.contentLength].flatMap { Int($0) } ?? Self.chunkedCharge
        if let wait = limiter.admit(client: context.clientKey, bytes: bytes) {
            metrics.rateLimited()
            var response = errorResponse(APIError(
                type: .tooManyRequests,
                message: "push rate limit: this client sends more than \(Int(limiter.bytesPerSecond)) bytes a second (limits.push_rate_per_client); retry after \(wait)s"))
            response.headers[.retryAfter] = String(wait)
            return response
        }
        return try await next(request, context)
    }
}
