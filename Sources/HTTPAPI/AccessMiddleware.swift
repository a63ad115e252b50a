import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import WebSecurity

/// Asks for credentials where the web config requires them, checks the
/// scope each endpoint needs, and adds the config's response headers.
/// Missing or wrong credentials get 401 with `WWW-Authenticate`; a known
/// credential without the scope gets 403. Both in Prometheus's error JSON.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = TallyRequestContext

    let access: WebAccess
    let metrics: AccessMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let config = access.config
        var response: Response
        if config.requiresCredentials,
           let scope = RouteAccess.requiredScope(method: request.method, path: request.uri.path, metricsOpen: config.metricsOpen)
        {
            switch await access.authenticate(authorization: request.headers[.authorization]) {
            case .granted(let name, let scopes) where scopes.contains(scope):
                var context = context
                context.credential = name
                response = try await Self.run(next, request, context)
            case .granted(let name, _):
                metrics.refused(.forbidden)
                logger.notice("refused: missing scope", metadata: ["credential": "\(name)", "scope": "\(scope)", "path": "\(request.uri.path)"])
                response = errorResponse(APIError(
                    type: .forbidden, message: "\"\(name)\" does not have the \(scope) scope that \(request.uri.path) needs"))
            case .missing:
                metrics.refused(.missingCredentials)
                response = unauthorized(config, "credentials are required")
            case .rejected(let reason):
                metrics.refused(.wrongCredentials)
                logger.notice("refused: wrong credentials", metadata: ["reason": "\(reason)", "path": "\(request.uri.path)"])
                response = unauthorized(config, "the credentials are not valid")
            case .busy:
                metrics.refused(.busy)
                response = errorResponse(APIError(type: .unavailable, message: "too many password checks in progress; retry"))
                response.headers[.retryAfter] = "1"
            }
        } else {
            response = try await Self.run(next, request, context)
        }
        for header in config.headers {
            if let name = HTTPField.Name(header.name) { response.headers[name] = header.value }
        }
        return response
    }

    /// Runs the endpoint; an error it throws with its own status becomes that response, so the
    /// config's headers reach it too.
    private static func run(_ next: (Request, Context) async throws -> Response, _ request: Request, _ context: Context) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        }
    }

    private func unauthorized(_ config: WebConfig, _ message: String) -> Response {
        var response = errorResponse(APIError(type: .unauthorized, message: message))
        var challenges: [String] = []
        if !config.basicUsers.isEmpty { challenges.append(#"Basic realm="tally", charset="UTF-8""#) }
        if !config.bearerTokens.isEmpty { challenges.append(#"Bearer realm="tally""#) }
        response.headers[.wwwAuthenticate] = challenges.joined(separator: ", ")
        return response
    }
}
