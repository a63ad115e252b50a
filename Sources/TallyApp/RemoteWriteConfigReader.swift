import Forwarding
import Yams

/// Reads the top-level `remote_write:` list of tally.yaml, shaped like
/// Prometheus's, into destinations; every error names its line and key.
func readRemoteWrite(_ node: Node, _ path: String, reader: Reader) throws(ConfigError) -> [RemoteWriteConfig] {
    guard let sequence = node.sequence else {
        throw reader.error(node, path, "expected a list of destinations, each at least `- url: http://host:port/api/v1/write`")
    }
    var destinations: [RemoteWriteConfig] = []
    for (index, item) in sequence.enumerated() {
        let itemPath = "\(path)[\(index)]"
        var config = RemoteWriteConfig(url: try readEndpointURL(item, itemPath, reader: reader))
        try reader.section(item, path: itemPath) { key, value, path throws(ConfigError) in
            if try readEndpointKey(key, value, path, into: &config.endpoint, timeoutKey: "remote_timeout", reader: reader) { return }
            switch key {
            case "write_relabel_configs":
                guard let rules = value.sequence else { throw reader.error(value, path, "expected a list of relabel rules") }
                for (r, rule) in rules.enumerated() {
                    config.relabel.append(try readRelabelRule(rule, "\(path)[\(r)]", reader: reader))
                }
            case "queue_config":
                try reader.section(value, path: path) { key, value, path throws(ConfigError) in
                    switch key {
                    case "capacity": config.queue.capacity = try reader.int(value, path, range: 1...10_000_000)
                    case "min_shards": config.queue.minShards = try reader.int(value, path, range: 1...1_000)
                    case "max_shards": config.queue.maxShards = try reader.int(value, path, range: 1...1_000)
                    case "max_samples_per_send": config.queue.maxSamplesPerSend = try reader.int(value, path, range: 1...1_000_000)
                    case "batch_send_deadline": config.queue.batchSendDeadlineMillis = try reader.duration(value, path, minimum: 1)
                    case "min_backoff": config.queue.minBackoffMillis = try reader.duration(value, path, minimum: 1)
                    case "max_backoff": config.queue.maxBackoffMillis = try reader.duration(value, path, minimum: 1)
                    case "retry_on_http_429": config.queue.retryOnHTTP429 = try reader.bool(value, path)
                    default: throw reader.unknown(key, value, path)
                    }
                }
            default: throw reader.unknown(key, value, path)
            }
        }
        guard config.queue.minShards <= config.queue.maxShards else {
            throw reader.error(item, itemPath + ".queue_config", "min_shards must not exceed max_shards")
        }
        guard config.queue.minBackoffMillis <= config.queue.maxBackoffMillis else {
            throw reader.error(item, itemPath + ".queue_config", "min_backoff must not exceed max_backoff")
        }
        try checkEndpoint(config.endpoint, item, itemPath, others: destinations.map(\.endpoint), reader: reader)
        destinations.append(config)
    }
    return destinations
}

private func readRelabelRule(_ node: Node, _ path: String, reader: Reader) throws(ConfigError) -> RelabelRule {
    let regexText = try node.mapping?["regex"].map { (value: Node) throws(ConfigError) in try reader.string(value, path + ".regex") } ?? "(.*)"
    var rule: RelabelRule
    do {
        rule = try RelabelRule(regex: regexText)
    } catch {
        throw reader.error(node, path + ".regex", "\(error)")
    }
    try reader.section(node, path: path) { key, value, path throws(ConfigError) in
        switch key {
        case "regex": break
        case "action":
            let name = try reader.string(value, path).lowercased()
            guard let action = RelabelRule.Action(rawValue: name) else {
                throw reader.error(value, path, "expected one of \(RelabelRule.Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            rule.action = action
        case "source_labels": rule.sourceLabels = try reader.strings(value, path)
        case "separator": rule.separator = try reader.string(value, path)
        case "target_label": rule.targetLabel = try reader.string(value, path)
        case "replacement": rule.replacement = try reader.string(value, path)
        case "modulus": rule.modulus = UInt64(try reader.int(value, path, range: 1...Int.max))
        default: throw reader.unknown(key, value, path)
        }
    }
    if rule.action == .hashmod, rule.modulus == 0 {
        throw reader.error(node, path, "action hashmod needs a modulus")
    }
    if [.replace, .hashmod, .lowercase, .uppercase].contains(rule.action), rule.targetLabel.isEmpty {
        throw reader.error(node, path, "action \(rule.action.rawValue) needs a target_label")
    }
    return rule
}
