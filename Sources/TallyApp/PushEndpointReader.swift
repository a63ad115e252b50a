import Forwarding
import Yams

/// Reads the keys a `remote_write:` and a `loki_push:` entry share (url,
/// name, headers, credentials, TLS, timeout, max_disk_usage); every error
/// names its line and key.

/// The entry's `url`, which must be there and be http(s).
func readEndpointURL(_ item: Node, _ path: String, reader: Reader) throws(ConfigError) -> String {
    guard let url = item.mapping?["url"] else { throw reader.error(item, path, "a destination needs a url") }
    let text = try reader.string(url, path + ".url")
    guard text.hasPrefix("http://") || text.hasPrefix("https://"), text.count > 8 else {
        throw reader.error(url, path + ".url", "expected an http:// or https:// URL")
    }
    return text
}

/// Reads `key` into `endpoint` when it is one of the shared keys; returns
/// false for a key the caller reads itself. `timeoutKey` is the request
/// timeout's name (Prometheus says `remote_timeout`, Promtail `timeout`).
func readEndpointKey(
    _ key: String, _ value: Node, _ path: String, into endpoint: inout PushEndpoint, timeoutKey: String, reader: Reader
) throws(ConfigError) -> Bool {
    switch key {
    case "url": break
    case "name":
        endpoint.name = try reader.string(value, path)
        guard endpoint.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw reader.error(value, path, "a name holds letters, digits, '-', '_' and '.' (it names a folder)")
        }
    case "headers":
        try reader.section(value, path: path) { name, header, path throws(ConfigError) in
            endpoint.headers[name] = try reader.string(header, path)
        }
    case "basic_auth":
        var username = ""
        var password: String?
        var passwordFile: String?
        try reader.section(value, path: path) { key, value, path throws(ConfigError) in
            switch key {
            case "username": username = try reader.string(value, path)
            case "password": password = try reader.string(value, path)
            case "password_file": passwordFile = try reader.string(value, path)
            default: throw reader.unknown(key, value, path)
            }
        }
        endpoint.basicAuth = .init(username: username, password: password, passwordFile: passwordFile)
    case "bearer_token": endpoint.bearerToken = try reader.string(value, path)
    case "bearer_token_file": endpoint.bearerTokenFile = try reader.string(value, path)
    case "tls_config":
        try reader.section(value, path: path) { key, value, path throws(ConfigError) in
            switch key {
            case "ca_file": endpoint.tls.caFile = try reader.string(value, path)
            case "cert_file": endpoint.tls.certFile = try reader.string(value, path)
            case "key_file": endpoint.tls.keyFile = try reader.string(value, path)
            case "server_name": endpoint.tls.serverName = try reader.string(value, path)
            case "insecure_skip_verify": endpoint.tls.insecureSkipVerify = try reader.bool(value, path)
            default: throw reader.unknown(key, value, path)
            }
        }
    case timeoutKey: endpoint.timeoutMillis = try reader.duration(value, path, minimum: 1)
    case "max_disk_usage": endpoint.maxDiskUsageBytes = Int64(try reader.bytes(value, path, range: 0...(1 << 50)))
    default: return false
    }
    return true
}

/// Checks what only the whole entry shows: one kind of credentials, and a
/// name no earlier entry of the same list has (it names a folder).
func checkEndpoint(_ endpoint: PushEndpoint, _ item: Node, _ path: String, others: [PushEndpoint], reader: Reader) throws(ConfigError) {
    guard endpoint.basicAuth == nil || (endpoint.bearerToken == nil && endpoint.bearerTokenFile == nil) else {
        throw reader.error(item, path, "give basic_auth or a bearer token, not both")
    }
    guard !others.contains(where: { $0.effectiveName == endpoint.effectiveName }) else {
        throw reader.error(item, path, "two destinations are named \(endpoint.effectiveName); give each a different name")
    }
}
