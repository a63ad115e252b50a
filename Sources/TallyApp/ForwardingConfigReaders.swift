import Forwarding
import TelemetryModel
import Yams

/// Reads the top-level `loki_push:` list of tally.yaml, shaped like
/// Promtail's `clients:`, into destinations; every error names its line and key.
func readLokiPush(_ node: Node, _ path: String, reader: Reader) throws(ConfigError) -> [LokiPushConfig] {
    guard let sequence = node.sequence else {
        throw reader.error(node, path, "expected a list of destinations, each at least `- url: http://host:3100/loki/api/v1/push`")
    }
    var destinations: [LokiPushConfig] = []
    for (index, item) in sequence.enumerated() {
        let itemPath = "\(path)[\(index)]"
        var config = LokiPushConfig(url: try readEndpointURL(item, itemPath, reader: reader))
        try reader.section(item, path: itemPath) { key, value, path throws(ConfigError) in
            if try readEndpointKey(key, value, path, into: &config.endpoint, timeoutKey: "timeout", reader: reader) { return }
            switch key {
            case "tenant_id": config.tenantID = try reader.string(value, path)
            case "batch_size": config.batchBytes = try reader.bytes(value, path, range: 1...(64 << 20))
            case "batch_wait": config.batchWaitMillis = try reader.duration(value, path, minimum: 1)
            case "min_backoff": config.minBackoffMillis = try reader.duration(value, path, minimum: 1)
            case "max_backoff": config.maxBackoffMillis = try reader.duration(value, path, minimum: 1)
            case "external_labels":
                try reader.section(value, path: path) { name, label, path throws(ConfigError) in
                    guard Labels.isValidName(name) else { throw reader.error(label, path, "\(name) is not a valid label name") }
                    config.externalLabels[name] = try reader.string(label, path)
                }
            default: throw reader.unknown(key, value, path)
            }
        }
        guard config.minBackoffMillis <= config.maxBackoffMillis else {
            throw reader.error(item, itemPath, "min_backoff must not exceed max_backoff")
        }
        try checkEndpoint(config.endpoint, item, itemPath, others: destinations.map(\.endpoint), reader: reader)
        destinations.append(config)
    }
    return destinations
}

/// Reads the `agent:` section: the central tally's aggregates endpoint and
/// how to reach it; every error names its line and key.
func readAgent(_ node: Node, _ path: String, reader: Reader) throws(ConfigError) -> AgentConfig? {
    if node.null != nil { return nil }
    guard node.mapping != nil else {
        throw reader.error(node, path, "expected a section, at least `url: http://central:9470/api/v1/aggregates`")
    }
    var config = AgentConfig(url: try readEndpointURL(node, path, reader: reader))
    try reader.section(node, path: path) { key, value, path throws(ConfigError) in
        if key == "name" { throw reader.unknown(key, value, path) }
        if try readEndpointKey(key, value, path, into: &config.endpoint, timeoutKey: "timeout", reader: reader) { return }
        switch key {
        case "batch_size": config.batchBytes = try reader.bytes(value, path, range: 1024...(64 << 20))
        case "min_backoff": config.minBackoffMillis = try reader.duration(value, path, minimum: 1)
        case "max_backoff": config.maxBackoffMillis = try reader.duration(value, path, minimum: 1)
        default: throw reader.unknown(key, value, path)
        }
    }
    guard config.minBackoffMillis <= config.maxBackoffMillis else {
        throw reader.error(node, path, "min_backoff must not exceed max_backoff")
    }
    try checkEndpoint(config.endpoint, node, path, others: [], reader: reader)
    return config
}
