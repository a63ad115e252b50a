import LogQL
import PromQL

/// The query languages' parsers; a parsed query is printed and parsed again.
let queryTargets: [FuzzTarget] = [
    FuzzTarget("promql") { input in
        guard let expression = try? Parser.parse(String(decoding: input, as: UTF8.self)) else { return }
        _ = try? Parser.parse("\(expression)")
    },
    FuzzTarget("logql") { input in
        guard let expression = try? LogQLParser.parse(String(decoding: input, as: UTF8.self)) else { return }
        _ = try? LogQLParser.parse("\(expression)")
    },
]
