import Testing
import WebSecurity
@testable import TallyApp

@Suite("Web config file")
struct WebConfigLoaderTests {
    static let hash = "$2y$10$mDwo.lAisC94iLAtpnVwx.2mT2d79oBHZtl4kVvBiHXXIZvpAqcZm"
    static let digest = String(repeating: "ab", count: 32)

    func load(_ yaml: String) throws(ConfigError) -> WebConfig {
        try WebConfigLoader.parse(yaml: yaml, file: "web.yml", directory: "/etc/tally")
    }

    func problem(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return "loaded"
        } catch {
            return error.description
        }
    }

    @Test func prometheusFormatWithTallysScopesAndTokens() throws {
        let config = try load("""
            tls_server_config:
              cert_file: tls/server.pem
              key_file: /abs/server.key
              client_ca_file: ca.pem
              min_version: TLS13
              prefer_server_cipher_suites: true
            http_server_config:
              http2: true
              headers:
                strict-transport-security: max-age=31536000
            basic_auth_users:
              alice: \(Self.hash)
              bob: \(Self.hash)
            basic_auth_scopes:
              bob: [read, write]
            bearer_tokens:
              - name: grafana
                sha256: \(Self.digest)
                scopes: [read]
            metrics_open: true
            """)
        let tls = try #require(config.tls)
        #expect(tls.certFile == "/etc/tally/tls/server.pem", "relative to the web config's directory, as Prometheus")
        #expect(tls.keyFile == "/abs/server.key")
        #expect(tls.clientCAFile == "/etc/tally/ca.pem")
        #expect(tls.clientAuth == .requireAndVerifyClientCert, "a client CA alone asks for verified certificates")
        #expect(tls.minVersion == .tlsv13)
        #expect(config.headers == [WebConfig.Header(name: "Strict-Transport-Security", value: "max-age=31536000")])
        #expect(config.basicUsers["alice"] == WebConfig.BasicUser(bcryptHash: Self.hash, scopes: .all))
        #expect(config.basicUsers["bob"]?.scopes == [.read, .write])
        #expect(config.bearerTokens == [WebConfig.BearerToken(name: "grafana", sha256: Array(repeating: 0xAB, count: 32), scopes: .read)])
        #expect(config.metricsOpen)
        #expect(config.certificateFiles == ["/etc/tally/tls/server.pem", "/abs/server.key", "/etc/tally/ca.pem"])
    }

    @Test func anEmptyFileAndAnEmptyTLSSectionServePlainAndOpen() throws {
        #expect(try load("") == WebConfig())
        #expect(try load("tls_server_config: {}\n").tls == nil)
        #expect(!WebConfig().requiresCredentials)
    }

    @Test func everyMistakeNamesItsLineAndKey() {
        #expect(problem("basic_auth_users:\n  alice: secret\n")
                == "web.yml:2: basic_auth_users.alice: expected a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters), as `tally hash-password` prints")
        #expect(problem("basic_auth_scopes:\n  ghost: [read]\n") == "web.yml:2: basic_auth_scopes.ghost: no such user in basic_auth_users")
        #expect(problem("basic_auth_users:\n  a: \(Self.hash)\nbasic_auth_scopes:\n  a: [root]\n")
                == "web.yml:4: basic_auth_scopes.a: unknown scope \"root\"; expected read, write or admin")
        #expect(problem("basic_auth_users:\n  a: \(Self.hash)\nbasic_auth_scopes:\n  a: []\n")
                == "web.yml:4: basic_auth_scopes.a: list at least one of read, write, admin")
        #expect(problem("bearer_tokens:\n  - {name: x, sha256: abc, scopes: [read]}\n").hasPrefix(
            "web.yml:2: bearer_tokens[0].sha256: expected the token's SHA-256 as 64 hex digits"))
        #expect(problem("bearer_tokens:\n  - {name: x, sha256: \(Self.digest)}\n") == "web.yml:2: bearer_tokens[0].scopes: required: a list of read, write, admin")
        #expect(problem("bearer_tokens:\n  - {name: x, sha256: \(Self.digest), scopes: [read]}\n  - {name: x, sha256: \(Self.digest), scopes: [read]}\n")
                == "web.yml:3: bearer_tokens[1].name: \"x\" is used twice")
        #expect(problem("tls_server_config:\n  cert_file: a.pem\n") == "web.yml:2: tls_server_config.key_file: required when TLS is configured")
        #expect(problem("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n")
                == "web.yml:2: tls_server_config.client_ca_file: required when client_auth_type is RequireAndVerifyClientCert")
        #expect(problem("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAnyClientCert\n")
                == "web.yml:4: tls_server_config.client_auth_type: tally does not take certificates that no CA vouches for; use NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert")
        #expect(problem("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS9\n")
                == "web.yml:4: tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13")
        #expect(problem("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n")
                == "web.yml:2: tls_server_config.max_version: is lower than min_version")
        #expect(problem("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")
                == "web.yml:4: tls_server_config.cipher_suites: not supported by tally (see docs/security.md)")
        #expect(problem("http_server_config:\n  headers:\n    Set-Cookie: x\n").hasPrefix(
            "web.yml:3: http_server_config.headers.Set-Cookie: not a header the web config may set"))
        #expect(problem("basic_auth_user: x\n") == "web.yml:1: basic_auth_user: unknown key")
    }

    @Test func bcryptHashesAreCheckedForShapeAndCost() {
        #expect(WebConfigLoader.isBcryptHash(Self.hash))
        #expect(WebConfigLoader.isBcryptHash("$2b$04$" + String(repeating: "a", count: 53)))
        #expect(!WebConfigLoader.isBcryptHash("$2b$03$" + String(repeating: "a", count: 53)), "cost below 4")
        #expect(!WebConfigLoader.isBcryptHash("$2x$10$" + String(repeating: "a", count: 53)))
        #expect(!WebConfigLoader.isBcryptHash("$2b$10$" + String(repeating: "a", count: 52) + "!"))
        #expect(WebConfigLoader.hexBytes("0aFF") == [0x0A, 0xFF])
        #expect(WebConfigLoader.hexBytes("0g") == nil && WebConfigLoader.hexBytes("abc") == nil)
    }

    @Test func tallyYamlNamesTheWebConfig() throws {
        let config = try ConfigLoader.load(yaml: "http:\n  web_config: /etc/tally/web.yml\n", file: "tally.yaml")
        #expect(config.webConfigFile == "/etc/tally/web.yml")
        #expect(try ConfigLoader.load(yaml: "http:\n  web_config: \"\"\n", file: "tally.yaml").webConfigFile == nil)
    }
}
