import Foundation
import Testing
@testable import WebSecurity

@Suite("Checking credentials")
struct WebAccessTests {
    static let hash = PasswordHashing.bcrypt("hunter2", cost: 4)!

    static func config() -> WebConfig {
        var config = WebConfig()
        config.basicUsers["alice"] = .init(bcryptHash: hash)
        config.basicUsers["reader"] = .init(bcryptHash: hash, scopes: .read)
        config.bearerTokens = [.init(name: "ci", sha256: sha256("tok-1"), scopes: .write)]
        return config
    }

    static func sha256(_ text: String) -> [UInt8] {
        // The hex digest sha256sum prints, turned back into bytes.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let hex = Array(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
        return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(hex[$0...$0 + 1]), radix: 16)! }
    }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    @Test func basicUsersGetTheirScopesAndEveryScopeWhenTheFileGivesNone() async throws {
        let access = try WebAccess(config: Self.config())
        #expect(await access.authenticate(authorization: Self.basic("alice", "hunter2")) == .granted(name: "alice", scopes: .all))
        #expect(await access.authenticate(authorization: Self.basic("reader", "hunter2")) == .granted(name: "reader", scopes: .read))
        // The scheme is case-insensitive (RFC 7235); a password may hold colons.
        #expect(await access.authenticate(authorization: "basic " + Data("alice:hunter2".utf8).base64EncodedString())
                == .granted(name: "alice", scopes: .all))
    }

    @Test func wrongAndMalformedCredentialsAreRejectedOrMissing() async throws {
        let access = try WebAccess(config: Self.config())
        #expect(await access.authenticate(authorization: Self.basic("alice", "hunter3")) == .rejected(reason: "wrong password for user \"alice\""))
        #expect(await access.authenticate(authorization: Self.basic("mallory", "hunter2")) == .rejected(reason: "unknown user \"mallory\""))
        #expect(await access.authenticate(authorization: Self.basic("alice", "hunter2:x")) != .granted(name: "alice", scopes: .all))
        #expect(await access.authenticate(authorization: "Basic !!!") == .rejected(reason: "basic credentials that are not base64 of user:password"))
        #expect(await access.authenticate(authorization: "Basic " + Data("no-colon".utf8).base64EncodedString())
                == .rejected(reason: "basic credentials that are not base64 of user:password"))
        #expect(await access.authenticate(authorization: nil) == .missing)
        #expect(await access.authenticate(authorization: "Digest x") == .missing)
        #expect(await access.authenticate(authorization: "Basicx") == .missing)
    }

    @Test func bearerTokensAreKnownByTheirSHA256() async throws {
        let access = try WebAccess(config: Self.config())
        #expect(await access.authenticate(authorization: "Bearer tok-1") == .granted(name: "ci", scopes: .write))
        #expect(await access.authenticate(authorization: "Bearer tok-2") == .rejected(reason: "unknown bearer token"))
        #expect(await access.authenticate(authorization: "Bearer ") == .missing)
        // A config without tokens does not take bearer credentials at all.
        var usersOnly = Self.config()
        usersOnly.bearerTokens = []
        #expect(await (try WebAccess(config: usersOnly)).authenticate(authorization: "Bearer tok-1") == .missing)
    }

    @Test func htpasswdsY2HashesVerifyAsTheSameAlgorithm() {
        let y = "$2y$" + Self.hash.dropFirst(4)
        #expect(PasswordHashing.verify("hunter2", hash: y))
        #expect(!PasswordHashing.verify("hunter3", hash: y))
        #expect(!PasswordHashing.verify("hunter2", hash: "$2x$04$" + String(repeating: "a", count: 53)), "an unknown variant never matches")
        #expect(!PasswordHashing.verify("hunter2", hash: ""))
        #expect(PasswordHashing.bcrypt("x", cost: 3) == nil && PasswordHashing.bcrypt("x", cost: 32) == nil)
    }

    @Test func aReplacementTakesEffectAtOnceAndForgetsCachedOutcomes() async throws {
        let access = try WebAccess(config: Self.config())
        #expect(await access.authenticate(authorization: Self.basic("alice", "hunter2")) == .granted(name: "alice", scopes: .all))
        var next = Self.config()
        next.basicUsers["alice"] = .init(bcryptHash: PasswordHashing.bcrypt("changed", cost: 4)!)
        try access.replace(with: next)
        #expect(await access.authenticate(authorization: Self.basic("alice", "hunter2")) == .rejected(reason: "wrong password for user \"alice\""))
        #expect(await access.authenticate(authorization: Self.basic("alice", "changed")) == .granted(name: "alice", scopes: .all))
    }

    @Test func tlsCannotBeTurnedOnByAReload() throws {
        let access = try WebAccess(config: Self.config())
        var withTLS = Self.config()
        withTLS.tls = TLSServerSettings(certFile: "/nonexistent.pem", keyFile: "/nonexistent.key")
        #expect(throws: WebSecurityError.self) { try access.replace(with: withTLS) }
        #expect(access.config == Self.config())
    }

    @Test func unreadableCertificateFilesNameTheFile() {
        let settings = TLSServerSettings(certFile: "/nonexistent/cert.pem", keyFile: "/nonexistent/key.pem")
        do {
            _ = try settings.makeContext()
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "/nonexistent/cert.pem")
            #expect(error.message.hasPrefix("cannot read the certificate"))
        }
    }

    @Test func constantTimeEqualityComparesWholeStrings() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(constantTimeEquals([UInt8](), []))
    }
}
