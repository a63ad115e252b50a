import NIOSSL

/// `tls_server_config` of a web config: the server's certificate and key,
/// the TLS versions, and whether clients must show a certificate signed by
/// `client_ca_file` (mutual TLS).
public struct TLSServerSettings: Sendable, Equatable {
    /// Go's `client_auth_type` names, as Prometheus's web config uses them.
    /// `RequestClientCert` and `RequireAnyClientCert` (a certificate no CA
    /// vouches for) are refused by the loader: they authenticate nobody.
    public enum ClientAuth: String, Sendable, CaseIterable {
        case noClientCert = "NoClientCert"
        case verifyClientCertIfGiven = "VerifyClientCertIfGiven"
        case requireAndVerifyClientCert = "RequireAndVerifyClientCert"
    }

    /// `TLS10` … `TLS13`, as the web config spells them.
    public static let versions: [(String, TLSVersion)] = [
        ("TLS10", .tlsv1), ("TLS11", .tlsv11), ("TLS12", .tlsv12), ("TLS13", .tlsv13),
    ]

    public var certFile: String
    public var keyFile: String
    public var clientCAFile: String?
    public var clientAuth: ClientAuth
    public var minVersion: TLSVersion
    public var maxVersion: TLSVersion?

    public init(
        certFile: String, keyFile: String, clientCAFile: String? = nil, clientAuth: ClientAuth = .noClientCert,
        minVersion: TLSVersion = .tlsv12, maxVersion: TLSVersion? = nil
    ) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        self.clientAuth = clientAuth
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }

    /// Reads the certificate, key and client CA files and builds the context
    /// new connections are served with; every problem names its file.
    public func makeContext() throws(WebSecurityError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certFile)
        } catch {
            throw WebSecurityError(file: certFile, message: "cannot read the certificate (PEM expected): \(error)")
        }
        guard !chain.isEmpty else { throw WebSecurityError(file: certFile, message: "no certificate in the file") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw WebSecurityError(file: keyFile, message: "cannot read the private key (PEM expected): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = minVersion
        configuration.maximumTLSVersion = maxVersion
        if let clientCAFile {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(clientCAFile)
            } catch {
                throw WebSecurityError(file: clientCAFile, message: "cannot read the client CA (PEM expected): \(error)")
            }
            guard !roots.isEmpty else { throw WebSecurityError(file: clientCAFile, message: "no certificate in the file") }
            configuration.trustRoots = .certificates(roots)
        }
        switch clientAuth {
        case .noClientCert: configuration.certificateVerification = .none
        case .verifyClientCertIfGiven: configuration.certificateVerification = .optionalVerification
        case .requireAndVerifyClientCert: configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw WebSecurityError(file: certFile, message: "the certificate and key do not make a TLS context (does the key match?): \(error)")
        }
    }
}
