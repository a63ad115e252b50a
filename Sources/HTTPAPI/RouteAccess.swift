import HTTPTypes
import WebSecurity

/// The scope each endpoint needs when the web config asks for credentials.
/// Health checks are always open (load balancers and kubelets carry no
/// credentials); pushes need `write`; changes to the server need `admin`;
/// everything else, unknown paths included, needs `read`, so that a client
/// without credentials learns nothing, not even which paths exist.
enum RouteAccess {
    static let openPaths: Set<String> = ["/healthz", "/readyz", "/-/healthy", "/-/ready"]

    static let writePaths: Set<String> = [
        "/loki/api/v1/push", "/api/v1/logs", "/api/v1/events", "/api/v1/write", AggregateRoutes.path,
        "/v1/metrics", "/v1/logs",
    ]

    static let adminPaths: Set<String> = [ReloadRoute.path]

    /// The scope a request needs, or nil when it needs none.
    static func requiredScope(method: HTTPRequest.Method, path: String, metricsOpen: Bool) -> AccessScopes? {
        if openPaths.contains(path) { return nil }
        if path == "/metrics", metricsOpen { return nil }
        if adminPaths.contains(path) || path.hasPrefix("/api/v1/admin/") { return .admin }
        // GET /api/v1/events reads the events; POST writes one.
        if writePaths.contains(path), method != .get { return .write }
        return .read
    }
}
