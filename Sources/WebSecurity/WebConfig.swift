/// The web config in force: who may call the HTTP API (basic-auth users,
/// bearer tokens, their scopes), whether it speaks TLS, and the headers
/// added to every answer. Prometheus's web config file format
/// (`tls_server_config`, `http_server_config`, `basic_auth_users`) plus
/// tally's `basic_auth_scopes`, `bearer_tokens` and `metrics_open`.
///
/// With no users and no tokens, every request is served without
/// credentials (the default, as Prometheus without a web config).
public struct WebConfig: Sendable, Equatable {
    /// A basic-auth user: its bcrypt hash and what it may do.
    public struct BasicUser: Sendable, Equatable {
        public var bcryptHash: String
        public var scopes: AccessScopes

        public init(bcryptHash: String, scopes: AccessScopes = .all) {
            self.bcryptHash = bcryptHash
            self.scopes = scopes
        }
    }

    /// A bearer token known by the SHA-256 of its text, so the file holds no secret.
    public struct BearerToken: Sendable, Equatable {
        public var name: String
        public var sha256: [UInt8]
        public var scopes: AccessScopes

        public init(name: String, sha256: [UInt8], scopes: AccessScopes) {
            self.name = name
            self.sha256 = sha256
            self.scopes = scopes
        }
    }

    /// A header added to every answer (`http_server_config.headers`).
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The HTTP listeners' TLS settings; nil serves plain HTTP.
    public var tls: TLSServerSettings?
    public var headers: [Header] = []
    public var basicUsers: [String: BasicUser] = [:]
    public var bearerTokens: [BearerToken] = []
    /// `/metrics` without credentials even when credentials are required elsewhere,
    /// for scrapers that carry none. Off by default.
    public var metricsOpen = false

    public init() {}

    /// True when requests other than health checks must carry credentials.
    public var requiresCredentials: Bool { !basicUsers.isEmpty || !bearerTokens.isEmpty }

    /// The files whose change reloads this config: the certificate, key and client CA.
    public var certificateFiles: [String] {
        guard let tls else { return [] }
        return [tls.certFile, tls.keyFile] + (tls.clientCAFile.map { [$0] } ?? [])
    }

    /// The Prometheus header names `http_server_config.headers` may set.
    public static let settableHeaders = [
        "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection",
        "Content-Security-Policy",
    ]
}
