import Foundation
import Testing
import IngestServer
import LogStorage
@testable import TallyApp

/// The repository's Config/tally.yaml, found from this file's path.
func shippedConfig() throws -> String {
    let path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    let file = "/" + path + "/Config/tally.yaml"
    return try String(contentsOfFile: file, encoding: .utf8)
}

@Suite("Configuration file")
struct ConfigLoaderTests {
    @Test func theShippedFileParsesAndStatesTheDefaults() throws {
        let loaded = try ConfigLoader.load(yaml: try shippedConfig(), file: "Config/tally.yaml")
        let defaults = TallyConfig()
        #expect(loaded.dataDir == defaults.dataDir)
        #expect(loaded.flushIntervalMillis == defaults.flushIntervalMillis)
        #expect(loaded.http == defaults.http)
        #expect(loaded.maxBodyBytes == defaults.maxBodyBytes)
        #expect(loaded.maxHTTPConnections == defaults.maxHTTPConnections)
        #expect(loaded.httpIdleTimeoutMillis == defaults.httpIdleTimeoutMillis)
        #expect(loaded.httpReadHeaderTimeoutMillis == defaults.httpReadHeaderTimeoutMillis)
        #expect(loaded.otlpListen == defaults.otlpListen)
        #expect(loaded.otlp.maxRequestBytes == defaults.otlp.maxRequestBytes)
        #expect(loaded.otlp.maxConcurrentRequests == defaults.otlp.maxConcurrentRequests)
        #expect(loaded.otlp.maxDeltaSeries == defaults.otlp.maxDeltaSeries)
        #expect(loaded.statsd.udp == defaults.statsd.udp)
        #expect(loaded.statsd.tcp == defaults.statsd.tcp)
        #expect(loaded.statsd.unixPath == defaults.statsd.unixPath)
        #expect(loaded.statsd.receiveBufferBytes == defaults.statsd.receiveBufferBytes)
        #expect(loaded.statsd.maxLineBytes == defaults.statsd.maxLineBytes)
        #expect(loaded.statsd.maxTCPConnections == defaults.statsd.maxTCPConnections)
        #expect(loaded.maxSeries == defaults.maxSeries)
        #expect(loaded.ringCapacity == defaults.ringCapacity)
        #expect(loaded.aggregation.quantiles == defaults.aggregation.quantiles)
        #expect(loaded.aggregation.seriesExpiryMillis == defaults.aggregation.seriesExpiryMillis)
        #expect(loaded.aggregation.maxSeriesPerMetric == defaults.aggregation.maxSeriesPerMetric)
        #expect(loaded.labelLimits == defaults.labelLimits)
        #expect(loaded.pushRateBytesPerSecond == defaults.pushRateBytesPerSecond)
        #expect(loaded.pushBurstBytes == defaults.pushBurstBytes)
        #expect(loaded.seriesLimits == defaults.seriesLimits)
        #expect(loaded.aggregation.sketchRelativeAccuracy == defaults.aggregation.sketchRelativeAccuracy)
        #expect(loaded.aggregation.setExactLimit == defaults.aggregation.setExactLimit)
        #expect(loaded.storage.retentionMillis == defaults.storage.retentionMillis)
        #expect(loaded.storage.blockDurationMillis == defaults.storage.blockDurationMillis)
        #expect(loaded.storage.compactionRangesMillis == defaults.storage.compactionRangesMillis)
        #expect(loaded.storage.fsync == defaults.storage.fsync)
        #expect(loaded.storage.walSegmentBytes == defaults.storage.walSegmentBytes)
        #expect(loaded.storage.chunkSamples == defaults.storage.chunkSamples)
        #expect(loaded.storage.blockChunkSamples == defaults.storage.blockChunkSamples)
        #expect(loaded.storage.compressionLevel == defaults.storage.compressionLevel)
        #expect(loaded.storage.chunkGroupBytes == defaults.storage.chunkGroupBytes)
        #expect(loaded.storage.groupCacheBytes == defaults.storage.groupCacheBytes)
        #expect(loaded.storage.maxBytes == defaults.storage.maxBytes)
        #expect(loaded.maxEvents == defaults.maxEvents)
        #expect(loaded.query.timeout == defaults.query.timeout)
        #expect(loaded.query.maxSamples == defaults.query.maxSamples)
        #expect(loaded.query.lookbackMillis == defaults.query.lookbackMillis)
        #expect(loaded.query.defaultSubqueryStepMillis == defaults.query.defaultSubqueryStepMillis)
        #expect(loaded.maxConcurrentQueries == defaults.maxConcurrentQueries)
        #expect(loaded.maxPointsPerSeries == defaults.maxPointsPerSeries)
        #expect(loaded.logs.tcp == defaults.logs.tcp)
        #expect(loaded.logs.udp == defaults.logs.udp)
        #expect(loaded.logs.syslogTCP == defaults.logs.syslogTCP)
        #expect(loaded.logs.syslogUDP == defaults.logs.syslogUDP)
        #expect(loaded.logs.maxLineBytes == defaults.logs.maxLineBytes)
        #expect(loaded.logs.maxTCPConnections == defaults.logs.maxTCPConnections)
        #expect(loaded.logs.receiveBufferBytes == defaults.logs.receiveBufferBytes)
        #expect(loaded.logs.writers == defaults.logs.writers)
        #expect(loaded.logs.ringCapacity == defaults.logs.ringCapacity)
        #expect(loaded.logs.labels == defaults.logs.labels)
        #expect(loaded.logQuery.maxEntries == defaults.logQuery.maxEntries)
        #expect(loaded.logQuery.maxSeries == defaults.logQuery.maxSeries)
        #expect(loaded.logQuery.timeout == defaults.logQuery.timeout)
        #expect(loaded.maxPushBytes == defaults.maxPushBytes)
        #expect(loaded.maxConcurrentPushes == defaults.maxConcurrentPushes)
        #expect(loaded.report.timeZone == defaults.report.timeZone)
        #expect(loaded.report.failureWindowMillis == defaults.report.failureWindowMillis)
        #expect(loaded.report.maxServices == defaults.report.maxServices)
        #expect(loaded.report.health == defaults.report.health)
        #expect(loaded.report.serviceHealth.isEmpty && loaded.report.sloObjectives.isEmpty)
        #expect(loaded.report.dailyAtMinutes == nil && loaded.report.webhookURL == nil)
        #expect(loaded.report.webhookFormat == defaults.report.webhookFormat && loaded.report.webhookAttempts == defaults.report.webhookAttempts)
        let store = loaded.logStore, storeDefaults = defaults.logStore
        #expect(store.retentionNanos == storeDefaults.retentionNanos)
        #expect(store.maxBytes == storeDefaults.maxBytes)
        #expect(store.maxStreams == storeDefaults.maxStreams)
        #expect(store.maxLabelsPerStream == storeDefaults.maxLabelsPerStream)
        #expect(store.outOfOrderWindowNanos == storeDefaults.outOfOrderWindowNanos)
        let rules = { (options: LogStoreOptions) in
            options.retentionStreams.map { "\($0.matchers) \($0.periodNanos) \($0.outOfOrderWindowNanos ?? -1)" }
        }
        #expect(rules(store) == rules(storeDefaults))
        #expect(rules(store) == [#"[event=~"deployment|incident"] 34560000000000000 34560000000000000"#])
        #expect(store.maxFutureNanos == storeDefaults.maxFutureNanos)
        #expect(store.chunkTargetBytes == storeDefaults.chunkTargetBytes)
        #expect(store.segmentDurationNanos == storeDefaults.segmentDurationNanos)
        #expect(store.segmentMaxBytes == storeDefaults.segmentMaxBytes)
        #expect(store.headMaxBytes == storeDefaults.headMaxBytes)
        #expect(store.compressionLevel == storeDefaults.compressionLevel)
        #expect(store.fsync == storeDefaults.fsync)
        #expect(store.walSegmentBytes == storeDefaults.walSegmentBytes)
    }

    @Test func reportServicesAndObjectives() throws {
        let yaml = "report:\n  services:\n    checkout:\n      slo_objective: 0.999\n      request_rate: \"sum(rate(x_total[1d]))\"\n"
        let config = try ConfigLoader.load(yaml: yaml, file: "t.yaml")
        #expect(config.report.sloObjectives == ["checkout": 0.999])
        #expect(config.report.serviceHealth["checkout"]?.requestRate == "sum(rate(x_total[1d]))")
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "report:\n  health:\n    p99_latency: \"max(\"\n", file: "t.yaml") }
        let latency = try ConfigLoader.load(yaml: "report:\n  health:\n    latency_metric: $service_rpc_seconds\n", file: "t.yaml")
        #expect(latency.report.health.latencyMetric == "$service_rpc_seconds" && latency.report.health.p99Latency == nil)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "report:\n  health:\n    latency_metric: \"a-b{}\"\n", file: "t.yaml") }
    }

    /// The sketch archive keeps the families the report reads: the latency
    /// metric of every service whose p99 does not come from PromQL.
    @Test func theReportNamesTheSketchFamiliesItReads() throws {
        #expect(try ConfigLoader.load(yaml: "", file: "t.yaml").report.sketchFamilies == ["$service_latency_seconds"])
        let yaml = """
            report:
              services:
                checkout:
                  latency_metric: rpc_$service_seconds
                search:
                  p99_latency: "max(search_p99)"
            """
        let config = try ConfigLoader.load(yaml: yaml, file: "t.yaml")
        #expect(config.report.sketchFamilies == ["$service_latency_seconds", "rpc_checkout_seconds"])
        let promql = try ConfigLoader.load(yaml: "report:\n  health:\n    p99_latency: \"max(x)\"\n", file: "t.yaml")
        #expect(promql.report.sketchFamilies.isEmpty)
    }

    @Test func reportTimeZonesAreChecked() throws {
        #expect(try ConfigLoader.load(yaml: "report:\n  timezone: Europe/Berlin\n", file: "t.yaml").report.timeZone.identifier == "Europe/Berlin")
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "report:\n  timezone: Mars/Olympus\n", file: "t.yaml") }
    }

    @Test func retentionStreamRulesAreRead() throws {
        let yaml = "logs:\n  storage:\n    retention_stream:\n      - selector: '{team=\"infra\", env!=\"dev\"}'\n        period: 90d\n"
        let rules = try ConfigLoader.load(yaml: yaml, file: "t.yaml").logStore.retentionStreams
        #expect(rules.count == 1)
        #expect(rules.first?.matchers.map(\.description) == [#"team="infra""#, #"env!="dev""#])
        #expect(rules.first?.periodNanos == Int64(90 * 86_400) * 1_000_000_000)
        #expect(rules.first?.outOfOrderWindowNanos == nil)
        for (bad, message) in [
            ("[{period: 1d}]", "missing `selector`"), ("[{selector: '{a=\"b\"}'}]", "missing `period`"),
            ("[{selector: '{a=\"b\"} |= \"x\"', period: 1d}]", "a stream selector alone"),
            ("[{selector: 'a=b', period: 1d}]", "not a LogQL stream selector"),
        ] {
            #expect { try ConfigLoader.load(yaml: "logs:\n  storage:\n    retention_stream: \(bad)\n", file: "t.yaml") } throws: {
                "\($0)".contains(message)
            }
        }
    }

    @Test func logLabelFieldsAreChecked() {
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "logs:\n  label_fields: [ok, not-ok]\n", file: "t.yaml") }
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "logs:\n  storage:\n    chunk_size: 1KiB\n", file: "t.yaml") }
    }

    @Test func remoteWriteDestinationsAreReadAsPrometheusShapesThem() throws {
        let yaml = """
        remote_write:
          - url: http://vm:8428/api/v1/write
          - url: https://mimir.example/api/v1/push
            name: mimir
            headers: {X-Scope-OrgID: team-a}
            basic_auth: {username: u, password_file: /etc/tally/pw}
            tls_config: {ca_file: /etc/ca.pem, insecure_skip_verify: true}
            write_relabel_configs:
              - source_labels: [__name__]
                regex: "go_.*"
                action: drop
              - {action: labeldrop, regex: "instance"}
            queue_config: {capacity: 5000, max_shards: 4, max_samples_per_send: 500, batch_send_deadline: 1s, min_backoff: 50ms, max_backoff: 10s, retry_on_http_429: false}
            remote_timeout: 10s
            max_disk_usage: 2GiB
        """
        let config = try ConfigLoader.load(yaml: yaml, file: "t.yaml")
        #expect(config.remoteWrite.count == 2)
        #expect(config.remoteWrite[0].endpoint.effectiveName == "vm_8428_api_v1_write")
        let mimir = config.remoteWrite[1]
        #expect(mimir.endpoint.name == "mimir" && mimir.endpoint.headers == ["X-Scope-OrgID": "team-a"])
        #expect(mimir.endpoint.basicAuth?.passwordFile == "/etc/tally/pw" && mimir.endpoint.tls.insecureSkipVerify)
        #expect(mimir.relabel.map(\.action) == [.drop, .labeldrop])
        #expect(mimir.queue.capacity == 5000 && mimir.queue.maxShards == 4 && mimir.queue.maxSamplesPerSend == 500)
        #expect(mimir.queue.batchSendDeadlineMillis == 1_000 && mimir.queue.minBackoffMillis == 50 && !mimir.queue.retryOnHTTP429)
        #expect(mimir.endpoint.timeoutMillis == 10_000 && mimir.endpoint.maxDiskUsageBytes == 2 << 30)
        for (bad, message) in [
            ("remote_write:\n  - name: x\n", "needs a url"),
            ("remote_write:\n  - url: ftp://x\n", "http:// or https://"),
            ("remote_write:\n  - url: http://a/w\n    queue_config: {min_shards: 5, max_shards: 2}\n", "min_shards"),
            ("remote_write:\n  - url: http://a/w\n    write_relabel_configs: [{action: explode}]\n", "expected one of"),
            ("remote_write:\n  - url: http://a/w\n    write_relabel_configs: [{regex: \"([\"}]\n", "invalid regular expression"),
            ("remote_write:\n  - url: http://a/w\n  - url: http://a/w\n", "named"),
            ("remote_write:\n  - url: http://a/w\n    colour: blue\n", "unknown key"),
        ] {
            #expect { try ConfigLoader.load(yaml: bad, file: "t.yaml") } throws: { "\($0)".contains(message) }
        }
    }

    @Test func lokiPushDestinationsAreReadAsPromtailShapesThem() throws {
        let yaml = """
        loki_push:
          - url: http://loki:3100/loki/api/v1/push
          - url: https://central:9470/loki/api/v1/push
            name: central
            tenant_id: team-a
            external_labels: {host: edge-1}
            bearer_token_file: /etc/tally/token
            batch_size: 256KiB
            batch_wait: 2s
            min_backoff: 100ms
            max_backoff: 1m
            timeout: 5s
            max_disk_usage: 0
        """
        let config = try ConfigLoader.load(yaml: yaml, file: "t.yaml")
        #expect(config.lokiPush.count == 2)
        let first = config.lokiPush[0]
        #expect(first.endpoint.effectiveName == "loki_3100_loki_api_v1_push" && first.batchBytes == 1 << 20 && first.batchWaitMillis == 1_000)
        #expect(first.endpoint.timeoutMillis == 10_000 && first.minBackoffMillis == 500 && first.maxBackoffMillis == 300_000)
        let central = config.lokiPush[1]
        #expect(central.endpoint.name == "central" && central.tenantID == "team-a" && central.externalLabels == ["host": "edge-1"])
        #expect(central.endpoint.bearerTokenFile == "/etc/tally/token" && central.batchBytes == 256 << 10 && central.batchWaitMillis == 2_000)
        #expect(central.minBackoffMillis == 100 && central.maxBackoffMillis == 60_000 && central.endpoint.timeoutMillis == 5_000)
        #expect(central.endpoint.maxDiskUsageBytes == 0)
        for (bad, message) in [
            ("loki_push:\n  - name: x\n", "needs a url"),
            ("loki_push: {url: http://a/p}\n", "expected a list"),
            ("loki_push:\n  - url: http://a/p\n    external_labels: {\"bad-name\": x}\n", "not a valid label name"),
            ("loki_push:\n  - url: http://a/p\n    min_backoff: 2m\n    max_backoff: 1m\n", "min_backoff"),
            ("loki_push:\n  - url: http://a/p\n    remote_timeout: 1s\n", "unknown key"),
            ("loki_push:\n  - url: http://a/p\n    basic_auth: {username: u}\n    bearer_token: t\n", "not both"),
        ] {
            #expect { try ConfigLoader.load(yaml: bad, file: "t.yaml") } throws: { "\($0)".contains(message) }
        }
    }

    @Test func agentModeNamesItsCentralTally() throws {
        #expect(try ConfigLoader.load(yaml: "flush_interval: 1s\n", file: "t.yaml").agent == nil)
        let config = try ConfigLoader.load(yaml: """
            agent:
              url: https://central:9470/api/v1/aggregates
              basic_auth: {username: edge, password_file: /etc/tally/pw}
              batch_size: 1MiB
              min_backoff: 200ms
              max_backoff: 10s
              max_disk_usage: 512MiB
            """, file: "t.yaml")
        let agent = try #require(config.agent)
        #expect(agent.endpoint.url == "https://central:9470/api/v1/aggregates" && agent.endpoint.basicAuth?.username == "edge")
        #expect(agent.batchBytes == 1 << 20 && agent.minBackoffMillis == 200 && agent.maxBackoffMillis == 10_000)
        #expect(agent.endpoint.maxDiskUsageBytes == 512 << 20)
        for (bad, message) in [
            ("agent:\n  batch_size: 1MiB\n", "needs a url"),
            ("agent: [http://a]\n", "expected a section"),
            ("agent:\n  url: http://a/x\n  name: x\n", "unknown key"),
            ("agent:\n  url: http://a/x\n  min_backoff: 1m\n  max_backoff: 1s\n", "min_backoff"),
        ] {
            #expect { try ConfigLoader.load(yaml: bad, file: "t.yaml") } throws: { "\($0)".contains(message) }
        }
    }

    @Test func valuesOverrideDefaults() throws {
        let yaml = """
        flush_interval: 500ms
        statsd:
          udp: 127.0.0.1:9125
          tcp: off
          receive_buffer: 4MiB
        aggregation:
          quantiles: [0.99, 0.5]
          series_expiry: 1h
        http:
          listen: "[::1]:9999"
        """
        let config = try ConfigLoader.load(yaml: yaml, file: "t.yaml")
        #expect(config.flushIntervalMillis == 500)
        #expect(config.statsd.udp == HostPort(host: "127.0.0.1", port: 9125))
        #expect(config.statsd.tcp == nil)
        #expect(config.statsd.receiveBufferBytes == 4 << 20)
        #expect(config.aggregation.quantiles == [0.5, 0.99])
        #expect(config.aggregation.seriesExpiryMillis == 3_600_000)
        #expect(config.http == HostPort(host: "::1", port: 9999))
    }

    @Test(arguments: [
        ("flsh_interval: 10s", "t.yaml:1: flsh_interval: unknown key"),
        ("statsd:\n  udp: 1.2.3.4:8125\n  buffer: 1", "t.yaml:3: statsd.buffer: unknown key"),
        ("flush_interval: ten", "t.yaml:1: flush_interval: expected a duration"),
        ("statsd:\n  udp: nowhere", "t.yaml:2: statsd.udp: expected HOST:PORT, or off"),
        ("aggregation:\n  quantiles: [1.5]", "t.yaml:2: aggregation.quantiles: quantiles must be between 0 and 1"),
        ("aggregation:\n  max_series: -1", "t.yaml:2: aggregation.max_series: must be between"),
        ("aggregation:\n  max_series_per_metric: -5", "t.yaml:2: aggregation.max_series_per_metric: must be between"),
        ("limits:\n  max_labels_per_series: 0", "t.yaml:2: limits.max_labels_per_series: must be between"),
        ("limits:\n  max_label_values: 3", "t.yaml:2: limits.max_label_values: unknown key"),
        ("statsd: 5", "t.yaml:1: statsd: expected a mapping"),
        ("a: [unclosed", "t.yaml: not valid YAML"),
        // Kept in nanoseconds: 99999999999d once trapped instead of being refused.
        ("logs:\n  storage:\n    retention: 99999999999d", "t.yaml:3: logs.storage.retention: must be at most 292y"),
        ("logs:\n  storage:\n    segment_duration: 300y", "t.yaml:3: logs.storage.segment_duration: must be at most 292y"),
    ])
    func mistakesAreReportedWithFileLineAndKey(_ yaml: String, _ message: String) {
        do {
            _ = try ConfigLoader.load(yaml: yaml, file: "t.yaml")
            Issue.record("\(yaml) should be refused")
        } catch {
            #expect(error.description.hasPrefix(message), "got: \(error.description)")
        }
    }

    @Test func byteSizes() {
        #expect(parseByteSize("8MiB") == 8 << 20)
        #expect(parseByteSize("64KiB") == 65_536)
        #expect(parseByteSize("1000") == 1000)
        #expect(parseByteSize("5MB") == 5_000_000)
        #expect(parseByteSize("lots") == nil)
    }

    @Test func addresses() {
        #expect(HostPort(parsing: ":8125") == HostPort(host: "0.0.0.0", port: 8125))
        #expect(HostPort(parsing: "localhost:1") == HostPort(host: "localhost", port: 1))
        #expect(HostPort(parsing: "[::1]:80") == HostPort(host: "::1", port: 80))
        #expect(HostPort(parsing: "host:99999") == nil)
        #expect(HostPort(parsing: "host") == nil)
    }
}

extension ConfigLoaderTests {
    @Test func theOTLPListenerCanBeTurnedOffOrMoved() throws {
        #expect(try ConfigLoader.load(yaml: "otlp:\n  listen: 'off'\n", file: "t.yaml").otlpListen == nil)
        let moved = try ConfigLoader.load(yaml: "otlp:\n  listen: 127.0.0.1:14318\n  max_request_size: 1MiB\n", file: "t.yaml")
        #expect(moved.otlpListen == HostPort(host: "127.0.0.1", port: 14_318) && moved.otlp.maxRequestBytes == 1 << 20)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "otlp:\n  max_delta_series: 0\n", file: "t.yaml") }
    }
}

/// A file with several problems reports each of them, in file order, in one error.
@Test func everyProblemOfAFileIsReportedAtOnce() {
    let yaml = """
        flush_interval: 10q
        http:
          max_connections: 0
        storage:
          typo_key: 1
        query:
          timeout: 2m
          max_samples: many
        """
    do {
        _ = try ConfigLoader.load(yaml: yaml, file: "t.yaml")
        Issue.record("loaded a file with four problems")
    } catch {
        #expect(error.all.map(\.key) == ["flush_interval", "http.max_connections", "storage.typo_key", "query.max_samples"], "\(error)")
        #expect(error.all.map(\.line) == [1, 3, 5, 8])
        #expect(error.description.split(separator: "\n").count == 4)
        #expect(error.description.hasPrefix("t.yaml:1: flush_interval: "))
    }
}
