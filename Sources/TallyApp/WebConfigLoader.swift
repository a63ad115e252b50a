import Foundation
import NIOSSL
import WebSecurity
import Yams

/// Reads a web config file: Prometheus's format (`tls_server_config`,
/// `http_server_config`, `basic_auth_users`) plus tally's
/// `basic_auth_scopes`, `bearer_tokens` and `metrics_open`. Unknown keys
/// and malformed hashes are errors with the line, as in tally.yaml.
/// Relative certificate paths are taken from the file's own directory, as
/// Prometheus does.
public enum WebConfigLoader {
    public static func load(file: String) throws(ConfigError) -> WebConfig {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, line: nil, key: "", message: "cannot read the web config: \(error.localizedDescription)")
        }
        let directory = (file as NSString).deletingLastPathComponent
        return try parse(yaml: text, file: file, directory: directory.isEmpty ? "." : directory)
    }

    public static func parse(yaml: String, file: String, directory: String) throws(ConfigError) -> WebConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(file: file, line: nil, key: "", message: "not valid YAML: \(error)")
        }
        var config = WebConfig()
        guard let root else { return config }
        let reader = Reader(file: file)
        var scopesByUser: [(String, AccessScopes, Node)] = []
        try reader.section(root, path: "") { key, value, path throws(ConfigError) in
            switch key {
            case "tls_server_config": config.tls = try readTLS(value, path, reader, directory)
            case "http_server_config":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "headers": config.headers = try readHeaders(value, path, reader)
                    // Tally answers HTTP/1.1; the key is taken so Prometheus's files load.
                    case "http2": _ = try reader.bool(value, path)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            case "basic_auth_users":
                try reader.section(value, path: path) { user, hashNode, path throws(ConfigError) in
                    let hash = try reader.string(hashNode, path)
                    guard isBcryptHash(hash) else {
                        throw reader.error(hashNode, path, "expected a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters), as `tally hash-password` prints")
                    }
                    config.basicUsers[user] = WebConfig.BasicUser(bcryptHash: hash)
                }
            case "basic_auth_scopes":
                try reader.section(value, path: path) { user, scopesNode, path throws(ConfigError) in
                    scopesByUser.append((user, try readScopes(scopesNode, path, reader), scopesNode))
                }
            case "bearer_tokens": config.bearerTokens = try readTokens(value, path, reader)
            case "metrics_open": config.metricsOpen = try reader.bool(value, path)
            default: throw reader.unknown(key, value, path)
            }
        }
        try reader.throwProblems()
        for (user, scopes, node) in scopesByUser {
            guard config.basicUsers[user] != nil else {
                throw reader.error(node, "basic_auth_scopes.\(user)", "no such user in basic_auth_users")
            }
            config.basicUsers[user]?.scopes = scopes
        }
        return config
    }

    private static func readTLS(_ node: Node, _ path: String, _ reader: Reader, _ directory: String) throws(ConfigError) -> TLSServerSettings? {
        var cert: String?
        var key: String?
        var clientCA: String?
        var clientAuth: TLSServerSettings.ClientAuth?
        var minVersion = TLSVersion.tlsv12
        var maxVersion: TLSVersion?
        func resolve(_ file: String) -> String { file.hasPrefix("/") ? file : "\(directory)/\(file)" }
        try reader.section(node, path: path) { key_, value, path throws(ConfigError) in
            switch key_ {
            case "cert_file": cert = resolve(try reader.string(value, path))
            case "key_file": key = resolve(try reader.string(value, path))
            case "client_ca_file": clientCA = resolve(try reader.string(value, path))
            case "client_auth_type":
                let name = try reader.string(value, path)
                guard let type = TLSServerSettings.ClientAuth(rawValue: name) else {
                    let known = TLSServerSettings.ClientAuth.allCases.map(\.rawValue).joined(separator: ", ")
                    let why = ["RequestClientCert", "RequireAnyClientCert"].contains(name)
                        ? "tally does not take certificates that no CA vouches for; use " : "expected "
                    throw reader.error(value, path, why + known)
                }
                clientAuth = type
            case "min_version": minVersion = try version(value, path, reader)
            case "max_version": maxVersion = try version(value, path, reader)
            // Go's preference order switch; BoringSSL's order is used. Taken so Prometheus's files load.
            case "prefer_server_cipher_suites": _ = try reader.bool(value, path)
            case "cipher_suites", "curve_preferences", "client_allowed_sans", "cert", "key":
                throw reader.error(value, path, "not supported by tally (see docs/security.md)")
            default: throw reader.unknown(key_, value, path)
            }
        }
        // An empty section, as Prometheus's examples leave it, means plain HTTP.
        if cert == nil, key == nil, clientCA == nil { return nil }
        guard let cert else { throw reader.error(node, "\(path).cert_file", "required when TLS is configured") }
        guard let key else { throw reader.error(node, "\(path).key_file", "required when TLS is configured") }
        // As Prometheus: a client CA alone asks for verified client certificates.
        let auth = clientAuth ?? (clientCA == nil ? .noClientCert : .requireAndVerifyClientCert)
        if auth != .noClientCert, clientCA == nil {
            throw reader.error(node, "\(path).client_ca_file", "required when client_auth_type is \(auth.rawValue)")
        }
        func rank(_ version: TLSVersion) -> Int { TLSServerSettings.versions.firstIndex { $0.1 == version } ?? 0 }
        if let maxVersion, rank(maxVersion) < rank(minVersion) {
            throw reader.error(node, "\(path).max_version", "is lower than min_version")
        }
        return TLSServerSettings(
            certFile: cert, keyFile: key, clientCAFile: clientCA, clientAuth: auth, minVersion: minVersion, maxVersion: maxVersion)
    }

    private static func version(_ node: Node, _ path: String, _ reader: Reader) throws(ConfigError) -> TLSVersion {
        let name = try reader.string(node, path)
        guard let match = TLSServerSettings.versions.first(where: { $0.0 == name }) else {
            throw reader.error(node, path, "expected one of " + TLSServerSettings.versions.map(\.0).joined(separator: ", "))
        }
        return match.1
    }

    private static func readHeaders(_ node: Node, _ path: String, _ reader: Reader) throws(ConfigError) -> [WebConfig.Header] {
        var headers: [WebConfig.Header] = []
        try reader.section(node, path: path) { name, value, path throws(ConfigError) in
            guard let known = WebConfig.settableHeaders.first(where: { $0.lowercased() == name.lowercased() }) else {
                throw reader.error(value, path, "not a header the web config may set; expected one of " + WebConfig.settableHeaders.joined(separator: ", "))
            }
            headers.append(WebConfig.Header(name: known, value: try reader.string(value, path)))
        }
        return headers
    }

    private static func readScopes(_ node: Node, _ path: String, _ reader: Reader) throws(ConfigError) -> AccessScopes {
        var scopes: AccessScopes = []
        for name in try reader.strings(node, path) {
            guard let scope = AccessScopes(name: name) else { throw reader.error(node, path, "unknown scope \"\(name)\"; expected read, write or admin") }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw reader.error(node, path, "list at least one of read, write, admin") }
        return scopes
    }

    private static func readTokens(_ node: Node, _ path: String, _ reader: Reader) throws(ConfigError) -> [WebConfig.BearerToken] {
        guard let items = node.sequence else { throw reader.error(node, path, "expected a list of {name, sha256, scopes}") }
        var tokens: [WebConfig.BearerToken] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            var name: String?
            var digest: [UInt8]?
            var scopes: AccessScopes?
            try reader.section(item, path: itemPath) { key, value, path throws(ConfigError) in
                switch key {
                case "name": name = try reader.string(value, path)
                case "sha256":
                    guard let bytes = hexBytes(try reader.string(value, path)), bytes.count == 32 else {
                        throw reader.error(value, path, "expected the token's SHA-256 as 64 hex digits (printf %s TOKEN | sha256sum)")
                    }
                    digest = bytes
                case "scopes": scopes = try readScopes(value, path, reader)
                default: throw reader.unknown(key, value, path)
                }
            }
            guard let name, !name.isEmpty else { throw reader.error(item, "\(itemPath).name", "required") }
            guard let digest else { throw reader.error(item, "\(itemPath).sha256", "required") }
            guard let scopes else { throw reader.error(item, "\(itemPath).scopes", "required: a list of read, write, admin") }
            guard !tokens.contains(where: { $0.name == name }) else { throw reader.error(item, "\(itemPath).name", "\"\(name)\" is used twice") }
            tokens.append(WebConfig.BearerToken(name: name, sha256: digest, scopes: scopes))
        }
        return tokens
    }

    static func isBcryptHash(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
              [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
              bytes[6] == UInt8(ascii: "$"), let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)), (4...31).contains(cost)
        else { return false }
        return bytes[7...].allSatisfy { byte in
            byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") || (byte >= 0x30 && byte <= 0x39)
                || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.lowercased().utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for k in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[k]), let low = hexValue(digits[k + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        default: nil
        }
    }
}
