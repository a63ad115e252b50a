import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// How the client subcommands (`query`, `logs`, `report`) reach a tally:
/// its URL, the credentials its web config asks for, and TLS settings
/// for a server whose certificate a private CA signed or that asks for a
/// client certificate. Secrets come from files, never from the command line.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The server (https:// when it serves TLS).", valueName: "url"))
    var server = "http://127.0.0.1:9470"

    @Option(name: .long, help: ArgumentHelp("Send the token in this file as Authorization: Bearer.", valueName: "file"))
    var bearerTokenFile: String?

    @Option(name: .long, help: ArgumentHelp("Basic-auth user; the password is read from --password-file.", valueName: "name"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("The basic-auth password's file.", valueName: "file"))
    var passwordFile: String?

    @Option(name: .long, help: ArgumentHelp("CA certificate (PEM) that signed the server's certificate.", valueName: "file"))
    var caFile: String?

    @Option(name: .long, help: ArgumentHelp("Client certificate (PEM) for mutual TLS.", valueName: "file"))
    var certFile: String?

    @Option(name: .long, help: ArgumentHelp("The client certificate's key (PEM).", valueName: "file"))
    var keyFile: String?

    func validate() throws {
        if user != nil, passwordFile == nil { throw ValidationError("--user needs --password-file") }
        if passwordFile != nil, user == nil { throw ValidationError("--password-file needs --user") }
        if user != nil, bearerTokenFile != nil { throw ValidationError("give --user or --bearer-token-file, not both") }
        if (certFile == nil) != (keyFile == nil) { throw ValidationError("--cert-file and --key-file go together") }
    }

    /// The server's URL for a path (and query).
    func url(_ pathAndQuery: String) -> String {
        server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + pathAndQuery
    }

    /// Sends a request with the credentials and TLS settings given and reads the whole answer.
    func fetch(_ request: HTTPClientRequest, timeout: TimeAmount, maxBytes: Int) async throws -> (status: HTTPResponseStatus, body: Data) {
        var request = request
        if let bearerTokenFile {
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer " + (try secret(bearerTokenFile)))
        } else if let user, let passwordFile {
            let pair = Data("\(user):\(try secret(passwordFile))".utf8).base64EncodedString()
            request.headers.replaceOrAdd(name: "Authorization", value: "Basic " + pair)
        }
        guard caFile != nil || certFile != nil else {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            return (response.status, Data(buffer: try await response.body.collect(upTo: maxBytes)))
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        if let certFile, let keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = Data(buffer: try await response.body.collect(upTo: maxBytes))
            try await client.shutdown()
            return (response.status, body)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func secret(_ file: String) throws -> String {
        do {
            return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ValidationError("cannot read \(file): \(error.localizedDescription)")
        }
    }
}
