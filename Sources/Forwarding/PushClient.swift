#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import DurableFiles
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// POSTs a forwarder's requests to one destination with the content
/// headers of its protocol and the destination's credentials, and sorts the
/// answer into accepted, retry (5xx, 429, no answer) or refused (other 4xx).
/// Shared by the remote_write and Loki push forwarders.
final class PushClient: Sendable {
    enum Outcome: Sendable {
        case accepted
        /// Worth sending again; `afterMillis` is the destination's Retry-After, when it gave one.
        case retry(afterMillis: Int64?, reason: String)
        /// Refused for good: its status and the start of its body.
        case refused(status: Int, body: String)
    }

    let endpoint: PushEndpoint
    /// The protocol's headers (content type and encoding, version), sent before the endpoint's own.
    let contentHeaders: [(String, String)]
    let retryOnHTTP429: Bool
    let userAgent: String
    private let http: HTTPClient

    init(
        endpoint: PushEndpoint, contentHeaders: [(String, String)], retryOnHTTP429: Bool = true, maxConnections: Int,
        version: String
    ) throws(ForwardingError) {
        self.endpoint = endpoint
        self.contentHeaders = contentHeaders
        self.retryOnHTTP429 = retryOnHTTP429
        userAgent = "tally/\(version)"
        var configuration = HTTPClient.Configuration()
        configuration.decompression = .disabled
        configuration.httpVersion = .http1Only
        configuration.timeout = .init(connect: .seconds(10))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, maxConnections))
        if endpoint.url.lowercased().hasPrefix("https://") || endpoint.tls.caFile != nil || endpoint.tls.certFile != nil {
            configuration.tlsConfiguration = try Self.tlsConfiguration(endpoint.tls)
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func tlsConfiguration(_ settings: PushEndpoint.TLSSettings) throws(ForwardingError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = settings.caFile { tls.trustRoots = .file(ca) }
            if let cert = settings.certFile {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                guard let key = settings.keyFile else { throw ForwardingError(description: "tls_config: cert_file needs key_file") }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
        } catch let error as ForwardingError {
            throw error
        } catch {
            throw ForwardingError(description: "tls_config: \(error)")
        }
        if settings.insecureSkipVerify { tls.certificateVerification = .none }
        return tls
    }

    /// Sends one request body.
    func send(_ body: [UInt8]) async -> Outcome {
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        for (name, value) in contentHeaders { request.headers.add(name: name, value: value) }
        request.headers.add(name: "User-Agent", value: userAgent)
        for (name, value) in endpoint.headers.sorted(by: { $0.key < $1.key }) { request.headers.replaceOrAdd(name: name, value: value) }
        if let auth = authorization() { request.headers.replaceOrAdd(name: "Authorization", value: auth) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await http.execute(request, timeout: .milliseconds(endpoint.timeoutMillis))
            let status = Int(response.status.code)
            let text = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            switch status {
            case 200..<300:
                return .accepted
            case 429:
                guard retryOnHTTP429 else { return .refused(status: status, body: String(text.prefix(512))) }
                return .retry(afterMillis: Self.retryAfter(response.headers), reason: "429 \(text.prefix(200))")
            case 500..<600:
                return .retry(afterMillis: Self.retryAfter(response.headers), reason: "\(status) \(text.prefix(200))")
            default:
                return .refused(status: status, body: String(text.prefix(512)))
            }
        } catch {
            return .retry(afterMillis: nil, reason: "\(error)")
        }
    }

    /// `Retry-After: SECONDS` in milliseconds (the HTTP-date form is not honoured: backoff applies).
    static func retryAfter(_ headers: HTTPHeaders) -> Int64? {
        guard let value = headers.first(name: "Retry-After"), let seconds = Int64(value.trimmingCharacters(in: [" "])), seconds >= 0 else {
            return nil
        }
        return min(seconds, 3_600) * 1_000
    }

    private func authorization() -> String? {
        if let basic = endpoint.basicAuth {
            let password = basic.password ?? basic.passwordFile.flatMap(Self.readSecret) ?? ""
            return "Basic " + Data("\(basic.username):\(password)".utf8).base64EncodedString()
        }
        if let token = endpoint.bearerToken ?? endpoint.bearerTokenFile.flatMap(Self.readSecret) {
            return "Bearer " + token
        }
        return nil
    }

    /// A secret file's content without its trailing newline.
    static func readSecret(_ path: String) -> String? {
        guard var bytes = try? FileSystem.readFile(path) else { return nil }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func shutdown() async {
        try? await http.shutdown()
    }
}
