import Testing
@testable import TallyApp

@Suite("Config redaction")
struct ConfigRedactionTests {
    @Test func passwordsTokensHeadersAndURLPasswordsAreHidden() {
        let yaml = """
            # a comment
            remote_write:
              - url: https://user:hunter2@vm.example:8428/api/v1/write?x=1
                basic_auth:
                  username: u
                  password: hunter2
                headers:
                  X-Scope-OrgID: team-a
                  X-Api-Key: k3y
              - url: https://vm.example/write
                bearer_token: t0ken
            report:
              webhook: https://hooks.example/services/abc
            """
        let shown = ConfigRedaction.redact(yaml: yaml)
        for secret in ["hunter2", "team-a", "k3y", "t0ken", "services/abc"] {
            #expect(!shown.contains(secret), "\(secret) shown in \(shown)")
        }
        #expect(shown.contains("url: https://user:<secret>@vm.example:8428/api/v1/write?x=1"))
        #expect(shown.contains("username: u") && shown.contains("password: <secret>") && shown.contains("bearer_token: <secret>"))
        #expect(shown.contains("X-Scope-OrgID: <secret>") && shown.contains("url: https://vm.example/write"))
        #expect(shown.contains("webhook: <secret>"))
    }

    @Test func aURLWithoutAPasswordAndTextThatIsNotYAMLAreHandled() {
        #expect(ConfigRedaction.hidingURLPassword("https://user@host/p") == "https://user@host/p")
        #expect(ConfigRedaction.hidingURLPassword("http://host/a:b@c") == "http://host/a:b@c")
        #expect(ConfigRedaction.hidingURLPassword("not a url") == "not a url")
        #expect(ConfigRedaction.redact(yaml: "a: [1, 2\n").hasPrefix("# the file does not parse"))
    }
}
