import Foundation
import TallyTestKit
import Testing
import Yams

private let canValidate = (try? runProcess("/usr/bin/env", ["python3", "-m", "kubernetes_validate", "--version"]).status) == 0

/// Deploy/kubernetes: the central StatefulSet and the agent DaemonSet valid
/// against current Kubernetes schemas (`kubernetes-validate --strict`, from
/// PyPI), their embedded tally configs accepted by `tally check-config`, and
/// the settings an operator relies on in place: non-root, read-only root
/// file system, no capabilities, requests and limits, probes on the ports
/// the config listens on, and agents that reach the central's Service.
@Suite("Kubernetes manifests")
struct KubernetesManifestTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Deploy/kubernetes").path
    static let manifests = ["central.yaml", "agent.yaml"]

    /// The documents of a manifest, by kind.
    static func documents(_ name: String) throws -> [String: [String: Any]] {
        let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        var byKind: [String: [String: Any]] = [:]
        for document in try Yams.load_all(yaml: text) {
            guard let object = document as? [String: Any], let kind = object["kind"] as? String else { continue }
            byKind[kind + "/" + ((object["metadata"] as? [String: Any])?["name"] as? String ?? "")] = object
        }
        return byKind
    }

    @Test(.enabled(if: canValidate, "needs kubernetes-validate (.ci/deps --test installs it)"), arguments: ["1.37.0", "1.31.0"])
    func theManifestsValidateStrictly(kubernetes: String) async throws {
        for name in Self.manifests {
            let checked = try await runProcess("/usr/bin/env", ["python3", "-m", "kubernetes_validate", "--strict", "-k", kubernetes, Self.directory + "/" + name])
            #expect(checked.status == 0, "\(name): \(checked.output)")
            #expect(!checked.output.contains("ERROR"), "\(name): \(checked.output)")
        }
        // And the validator does refuse a wrong field: a misspelt key in a copy.
        let scratch = try TemporaryDirectory(prefix: "tally-k8s")
        defer { scratch.remove() }
        let broken = try String(contentsOfFile: Self.directory + "/central.yaml", encoding: .utf8)
            .replacingOccurrences(of: "readOnlyRootFilesystem: true", with: "readOnlyRootFileSystem: true")
        try broken.write(toFile: scratch.path + "/broken.yaml", atomically: true, encoding: .utf8)
        let refused = try await runProcess("/usr/bin/env", ["python3", "-m", "kubernetes_validate", "--strict", "-k", kubernetes, scratch.path + "/broken.yaml"])
        #expect(refused.status != 0, "\(refused.output)")
    }

    @Test(arguments: ["central.yaml", "agent.yaml"])
    func theEmbeddedConfigPassesCheckConfig(manifest: String) async throws {
        let documents = try Self.documents(manifest)
        let configMap = try #require(documents.first { $0.key.hasPrefix("ConfigMap/") }?.value)
        let config = try #require((configMap["data"] as? [String: Any])?["tally.yaml"] as? String)
        let scratch = try TemporaryDirectory(prefix: "tally-k8s-config")
        defer { scratch.remove() }
        try config.write(toFile: scratch.path + "/tally.yaml", atomically: true, encoding: .utf8)
        let checked = try await runProcess(try TallyProcess.binaryPath(), ["check-config", scratch.path + "/tally.yaml"])
        #expect(checked.status == 0, "\(manifest): \(checked.output)")
    }

    @Test(arguments: ["central.yaml", "agent.yaml"])
    func theWorkloadRunsLockedDownWithProbesAndLimits(manifest: String) throws {
        let documents = try Self.documents(manifest)
        let workload = try #require(documents.first { $0.key.hasPrefix("StatefulSet/") || $0.key.hasPrefix("DaemonSet/") }?.value)
        let pod = try #require(((workload["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let podSecurity = try #require(pod["securityContext"] as? [String: Any])
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        #expect(podSecurity["runAsUser"] as? Int == 10001)
        let containers = try #require(pod["containers"] as? [[String: Any]])
        let tally = try #require(containers.first { $0["name"] as? String == "tally" })
        let security = try #require(tally["securityContext"] as? [String: Any])
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect((security["capabilities"] as? [String: Any])?["drop"] as? [String] == ["ALL"])
        #expect(security["runAsUser"] == nil, "the container must not undo the pod's non-root user")
        let resources = try #require(tally["resources"] as? [String: Any])
        #expect((resources["requests"] as? [String: Any])?["memory"] != nil && (resources["limits"] as? [String: Any])?["memory"] != nil)
        for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let get = try #require((tally[probe] as? [String: Any])?["httpGet"] as? [String: Any], "\(probe)")
            #expect(get["port"] as? String == "http")
        }
        #expect(((tally["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String == "/readyz")
        // The named ports are the ones the config listens on.
        let ports = try #require(tally["ports"] as? [[String: Any]])
        let config = try #require(((documents.first { $0.key.hasPrefix("ConfigMap/") }?.value["data"]) as? [String: Any])?["tally.yaml"] as? String)
        #expect(config.contains(#"listen: "0.0.0.0:9470""#))
        #expect(ports.contains { $0["name"] as? String == "http" && $0["containerPort"] as? Int == 9470 })
        #expect(ports.contains { $0["name"] as? String == "statsd-udp" && $0["containerPort"] as? Int == 8125 && $0["protocol"] as? String == "UDP" })
        // Every volume mounted is declared (or a claim template), and the data directory is one of them.
        let mounts = try #require(tally["volumeMounts"] as? [[String: Any]])
        let volumes = Set(((pod["volumes"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
        let claims = Set((((workload["spec"] as? [String: Any])?["volumeClaimTemplates"] as? [[String: Any]]) ?? [])
            .compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String })
        for mount in mounts {
            let name = mount["name"] as? String ?? ""
            #expect(volumes.contains(name) || claims.contains(name), "\(name) is mounted and not declared")
        }
        #expect(mounts.contains { $0["mountPath"] as? String == "/var/lib/tally" })
        #expect(config.contains("data_dir: /var/lib/tally"))
    }

    /// The two embedded configs run as they are, but for the addresses a pod would have: the
    /// central's Service name is 127.0.0.1 and its port, listeners and data directories are the
    /// test's (flags, which win over the file). StatsD sent to the agent is counted at the central
    /// (agent:), a log line sent to the agent is found there (loki_push), and so are the agent's
    /// own figures (remote_write of job="tally-agent").
    @Test func theAgentAndCentralConfigsWorkTogether() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-k8s-topology")
        defer { scratch.remove() }
        func config(_ manifest: String) throws -> String {
            let documents = try Self.documents(manifest)
            return try #require((documents.first { $0.key.hasPrefix("ConfigMap/") }?.value["data"] as? [String: Any])?["tally.yaml"] as? String)
        }
        try config("central.yaml").write(toFile: scratch.path + "/central.yaml", atomically: true, encoding: .utf8)
        let central = try TallyProcess(extraArguments: ["--config", scratch.path + "/central.yaml"])
        _ = try await central.waitFor("/readyz") { status, _ in status == 200 }
        try config("agent.yaml").replacingOccurrences(of: "http://tally-central:9470", with: "http://127.0.0.1:\(central.httpPort)")
            .write(toFile: scratch.path + "/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try TallyProcess(extraArguments: ["--config", scratch.path + "/agent.yaml", "--self-monitoring-interval", "500ms"])
        _ = try await agent.waitFor("/readyz") { status, _ in status == 200 }

        try sendUDP(Array("k8s.requests:1|c|#route:/\nk8s.requests:2|c|#route:/\n".utf8), port: agent.statsdPort)
        try sendUDP(Array(#"{"service":"k8s","level":"info","msg":"from a node"}"#.utf8), port: agent.logsPort)
        let counted = try await central.waitFor("/api/v1/query?query=" + urlEncoded("k8s_requests_total"), timeout: .seconds(60)) { _, body in
            body.contains(#""3"]"#)
        }
        #expect(counted.contains(#""route":"/""#) && counted.contains(#""3"]"#), "\(counted)")
        let logged = try await central.waitFor("/loki/api/v1/query_range?query=" + urlEncoded(#"{service="k8s"}"#), timeout: .seconds(60)) { _, body in
            body.contains("from a node")
        }
        #expect(logged.contains("from a node"), "\(logged)")
        let figures = try await central.waitFor("/api/v1/query?query=" + urlEncoded(#"up{job="tally-agent"}"#), timeout: .seconds(60)) { _, body in
            body.contains(#""1"]"#)
        }
        #expect(figures.contains(#""job":"tally-agent""#), "\(figures)")
        // Only the agent's own figures go by remote_write: its StatsD series reach the central once, by agent:.
        let once = try await central.get("/api/v1/query?query=" + urlEncoded("count(k8s_requests_total)")).body
        #expect(once.contains(#""1"]"#), "\(once)")
        #expect(await agent.stop() == 0)
        #expect(await central.stop() == 0)
    }

    @Test func theAgentsReachTheCentralsServiceAndTheSocketIsOnTheNode() throws {
        let central = try Self.documents("central.yaml")
        let agent = try Self.documents("agent.yaml")
        let service = try #require(central["Service/tally-central"])
        let servicePorts = try #require((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]])
        #expect(servicePorts.contains { $0["name"] as? String == "http" && $0["port"] as? Int == 9470 })
        #expect(central["PodDisruptionBudget/tally-central"] != nil)
        let statefulSet = try #require(central["StatefulSet/tally-central"])
        #expect((statefulSet["spec"] as? [String: Any])?["serviceName"] as? String == "tally-central-pods")
        #expect(central["Service/tally-central-pods"].flatMap { ($0["spec"] as? [String: Any])?["clusterIP"] as? String } == "None")

        let config = try #require((agent["ConfigMap/tally-agent-config"]?["data"] as? [String: Any])?["tally.yaml"] as? String)
        for path in ["/api/v1/aggregates", "/api/v1/write", "/loki/api/v1/push"] {
            #expect(config.contains("http://tally-central:9470" + path), "the agent does not send to the central's \(path)")
        }
        let daemonSet = try #require(agent["DaemonSet/tally-agent"])
        let pod = try #require(((daemonSet["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let tally = try #require((pod["containers"] as? [[String: Any]])?.first)
        let ports = try #require(tally["ports"] as? [[String: Any]])
        #expect(ports.contains { $0["hostPort"] as? Int == 8125 && $0["protocol"] as? String == "UDP" })
        let socketVolume = try #require((pod["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == "socket" })
        #expect((socketVolume["hostPath"] as? [String: Any])?["path"] as? String == "/var/run/tally")
        #expect(config.contains("unix: /var/run/tally/dsd.socket"))
    }
}
