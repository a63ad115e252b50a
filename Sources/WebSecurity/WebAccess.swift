import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import NIOSSL
import Synchronization

/// The web config in force and the TLS context built from it, swapped
/// whole when the file or its certificates change. Requests and new TLS
/// connections read the current one; open connections keep theirs.
public final class WebAccess: Sendable {
    private struct Current: Sendable {
        var config: WebConfig
        var tlsContext: NIOSSLContext?
    }

    private let current: Mutex<Current>
    /// Outcomes of recent password checks, keyed by a digest of user, password and
    /// stored hash, so a client that sends the same credentials on every request
    /// costs one bcrypt run, not one per request (as Prometheus's exporter-toolkit).
    private let verified = Mutex<[SHA256Digest: Bool]>([:])
    private let checksInFlight = Atomic<Int>(0)
    private let pool: NIOThreadPool

    /// Password checks running or queued at once; more are answered `busy`.
    public static let maxChecksInFlight = 64
    static let maxCachedOutcomes = 4_096

    /// Builds the access from a checked config; throws when its TLS files do not serve.
    public init(config: WebConfig, pool: NIOThreadPool = .singleton) throws(WebSecurityError) {
        let context = try config.tls?.makeContext()
        current = Mutex(Current(config: config, tlsContext: context))
        self.pool = pool
    }

    /// Open access: no credentials, no TLS (tally without a web config).
    public static func open() -> WebAccess {
        do {
            return try WebAccess(config: WebConfig())
        } catch {
            preconditionFailure("a web config without TLS builds no context and cannot fail: \(error)")
        }
    }

    public var config: WebConfig { current.withLock { $0.config } }

    /// The context a new TLS connection is served with, or nil for plain HTTP.
    public var tlsContext: NIOSSLContext? { current.withLock { $0.tlsContext } }

    /// Puts a new config in force. Its TLS context is built first: if that
    /// fails, the old config stays and the error says why. TLS cannot be
    /// turned on or off this way, since the listeners were set up for one or
    /// the other.
    public func replace(with config: WebConfig) throws(WebSecurityError) {
        let wasTLS = current.withLock { $0.config.tls != nil }
        guard wasTLS == (config.tls != nil) else {
            throw WebSecurityError(
                file: "tls_server_config",
                message: wasTLS ? "turning TLS off takes a restart; the old config stays in force"
                    : "turning TLS on takes a restart; the old config stays in force")
        }
        let context = try config.tls?.makeContext()
        current.withLock { $0 = Current(config: config, tlsContext: context) }
        verified.withLock { $0.removeAll() }
    }

    /// Checks an `Authorization` header against the config in force:
    /// `Basic` against the users' bcrypt hashes (off the event loop),
    /// `Bearer` against the tokens' SHA-256 in constant time.
    public func authenticate(authorization: String?) async -> Authentication {
        let config = self.config
        guard let authorization else { return .missing }
        if let token = Self.credential(authorization, scheme: "Bearer") {
            guard !config.bearerTokens.isEmpty else { return .missing }
            return Self.matchToken(token, in: config.bearerTokens)
        }
        if let encoded = Self.credential(authorization, scheme: "Basic") {
            guard !config.basicUsers.isEmpty else { return .missing }
            guard let decoded = Data(base64Encoded: String(encoded)),
                  let pair = String(data: decoded, encoding: .utf8),
                  let colon = pair.firstIndex(of: ":")
            else { return .rejected(reason: "basic credentials that are not base64 of user:password") }
            let user = String(pair[..<colon])
            let password = String(pair[pair.index(after: colon)...])
            return await checkPassword(user: user, password: password, users: config.basicUsers)
        }
        return .missing
    }

    private func checkPassword(user: String, password: String, users: [String: WebConfig.BasicUser]) async -> Authentication {
        let known = users[user]
        // An unknown user costs one bcrypt run as a known one does, so timing does not tell who exists.
        let hash = known?.bcryptHash ?? users.values.first?.bcryptHash ?? ""
        var hasher = SHA256()
        for part in [user, password, hash] {
            hasher.update(data: Array(part.utf8))
            hasher.update(data: [0])
        }
        let key = hasher.finalize()
        let matches: Bool
        if let cached = verified.withLock({ $0[key] }) {
            matches = cached
        } else {
            guard checksInFlight.add(1, ordering: .relaxed).newValue <= Self.maxChecksInFlight else {
                checksInFlight.subtract(1, ordering: .relaxed)
                return .busy
            }
            defer { checksInFlight.subtract(1, ordering: .relaxed) }
            let result = try? await pool.runIfActive { Bcrypt.verify(password, hash: Self.bcryptVariantB(hash)) }
            matches = result ?? false
            verified.withLock { cache in
                if cache.count >= Self.maxCachedOutcomes { cache.removeAll() }
                cache[key] = matches
            }
        }
        guard let known else { return .rejected(reason: "unknown user \"\(user)\"") }
        guard matches else { return .rejected(reason: "wrong password for user \"\(user)\"") }
        return .granted(name: user, scopes: known.scopes)
    }

    private static func matchToken(_ token: Substring, in tokens: [WebConfig.BearerToken]) -> Authentication {
        let digest = Array(SHA256.hash(data: Array(token.utf8)))
        var found: WebConfig.BearerToken?
        for candidate in tokens where constantTimeEquals(candidate.sha256, digest) && found == nil {
            found = candidate
        }
        guard let found else { return .rejected(reason: "unknown bearer token") }
        return .granted(name: found.name, scopes: found.scopes)
    }

    /// The credential after `scheme ` (case-insensitive scheme), or nil.
    private static func credential(_ header: String, scheme: String) -> Substring? {
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme.lowercased() else { return nil }
        let rest = header.dropFirst(scheme.count)
        guard rest.first == " " else { return nil }
        let credential = rest.drop(while: { $0 == " " })
        return credential.isEmpty ? nil : credential
    }

    /// `$2y$` (htpasswd's) and `$2b$` are the same algorithm; the bcrypt code here knows `$2b$`.
    static func bcryptVariantB(_ hash: String) -> String {
        hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash
    }
}

extension WebAccess {
    /// True when a request with this `Authorization` header may use `scope`
    /// (always, when the config asks for no credentials).
    public func allows(authorization: String?, scope: AccessScopes) async -> Bool {
        guard config.requiresCredentials else { return true }
        if case .granted(_, let scopes) = await authenticate(authorization: authorization) { return scopes.contains(scope) }
        return false
    }
}
