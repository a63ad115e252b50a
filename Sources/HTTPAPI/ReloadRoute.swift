import Hummingbird

/// `POST /-/reload`: re-reads the web config and its certificate files now,
/// as Prometheus's lifecycle endpoint does (tally also reloads them on
/// change and on SIGHUP). Needs the `admin` scope. 200 when the new files
/// are in force; 500 with the reason when they were refused and the old
/// ones stay.
struct ReloadRoute: Sendable {
    static let path = "/-/reload"
    let reload: @Sendable () async -> String?

    func register(on router: Router<TallyRequestContext>) {
        router.post("\(Self.path)") { _, _ -> Response in
            if let problem = await reload() {
                return errorResponse(APIError(type: .internalError, message: "reload refused, the previous web config stays: \(problem)"))
            }
            return jsonResponse(.ok, Array(#"{"status":"success"}"#.utf8))
        }
    }
}
