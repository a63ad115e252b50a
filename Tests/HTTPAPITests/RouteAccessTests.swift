import HTTPTypes
import Testing
import WebSecurity
@testable import HTTPAPI

@Suite("The scope each endpoint needs")
struct RouteAccessTests {
    func scope(_ method: HTTPRequest.Method, _ path: String, metricsOpen: Bool = false) -> AccessScopes? {
        RouteAccess.requiredScope(method: method, path: path, metricsOpen: metricsOpen)
    }

    @Test func healthChecksAreOpenAndMetricsOnlyWhenTheConfigSays() {
        for path in ["/healthz", "/readyz", "/-/healthy", "/-/ready"] { #expect(scope(.get, path) == nil) }
        #expect(scope(.get, "/metrics") == .read)
        #expect(scope(.get, "/metrics", metricsOpen: true) == nil)
    }

    @Test func pushesNeedWriteAndReadingTheSamePathNeedsRead() {
        for path in ["/loki/api/v1/push", "/api/v1/logs", "/api/v1/events", "/api/v1/write", "/api/v1/aggregates", "/v1/metrics", "/v1/logs"] {
            #expect(scope(.post, path) == .write, "\(path)")
        }
        #expect(scope(.get, "/api/v1/events") == .read)
    }

    @Test func queriesTheReportAndUnknownPathsNeedRead() {
        for path in ["/api/v1/query", "/api/v1/query_range", "/loki/api/v1/query_range", "/loki/api/v1/tail", "/report/daily", "/", "/nope"] {
            #expect(scope(.get, path) == .read, "\(path)")
        }
        #expect(scope(.post, "/api/v1/query") == .read, "a POSTed query reads")
    }

    @Test func reloadAndAdminPathsNeedAdmin() {
        #expect(scope(.post, "/-/reload") == .admin)
        #expect(scope(.post, "/api/v1/admin/tsdb/snapshot") == .admin)
    }
}
