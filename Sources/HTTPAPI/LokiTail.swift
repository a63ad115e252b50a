import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import WebSecurity
import LogQL
import LogStorage
import NIOCore
import NIOPosix
import TelemetryModel

/// `/loki/api/v1/tail` over a WebSocket, as Loki serves it: the query's
/// matching lines from `start` on, then new ones as they are stored, each
/// batch a text frame `{"streams":[…]}`. The store is read every second
/// (lines `delay_for` seconds old at least), forward, `limit` lines at most
/// per read; the socket closes when the client closes it.
public struct LokiTail: Sendable {
    let dependencies: APIDependencies
    let store: LogStore

    public init?(dependencies: APIDependencies) {
        guard let store = dependencies.logStore else { return nil }
        self.dependencies = dependencies
        self.store = store
    }

    public static let path = "/loki/api/v1/tail"

    /// A tail request, read and checked.
    struct Request: Sendable {
        var selector: LogSelector
        var start: Int64
        var limit: Int
        var delay: Int64
    }

    /// Reads the query string; the error is Loki's plain-text 400 message.
    func parse(_ query: String, now: Int64) -> Result<Request, LokiRoutes.LokiError> {
        let parameters = FormParameters(encoded: query)
        guard let text = parameters["query"], !text.isEmpty else { return .failure(.bad("query parameter is missing")) }
        let expr: LogQLExpr
        do {
            expr = try LogQLParser.parse(text)
        } catch {
            return .failure(.bad(error.message))
        }
        guard case .logs(let selector) = expr else { return .failure(.bad("tail needs a log query, not a metric query")) }
        var limit = 100
        if let value = parameters["limit"], !value.isEmpty {
            guard let parsed = Int(value), parsed > 0, parsed <= dependencies.logLimits.maxEntries else {
                return .failure(.bad("limit must be between 1 and \(dependencies.logLimits.maxEntries)"))
            }
            limit = parsed
        }
        var delay: Int64 = 0
        if let value = parameters["delay_for"], !value.isEmpty {
            guard let seconds = Int64(value), (0...5).contains(seconds) else { return .failure(.bad("delay_for can't be greater than 5")) }
            delay = seconds * 1_000_000_000
        }
        var start = now - 3_600_000_000_000
        if let value = parameters["start"], !value.isEmpty {
            guard let nanos = LokiParameters.time(value) else { return .failure(.bad("invalid start: cannot parse \"\(value)\"")) }
            start = nanos
        }
        return .success(Request(selector: selector, start: start, limit: limit, delay: delay))
    }

    /// The WebSocket upgrade decision for the HTTP server: tail requests
    /// that check out are upgraded; the others reach the router, whose
    /// `/loki/api/v1/tail` route answers the error.
    ///
    /// A client without credentials for the `read` scope is upgraded and at
    /// once closed with 1008 (policy violation) and the reason: a refused
    /// upgrade can only be answered with an empty 400 here, which would
    /// tell the client nothing.
    public func shouldUpgrade(
        _ head: HTTPRequest, _ channel: any Channel, _ logger: Logger
    ) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let full = head.path ?? ""
        let path = full.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard path == Self.path else { return .dontUpgrade }
        guard await dependencies.access.allows(authorization: head.headerFields[.authorization], scope: .read) else {
            logger.notice("tail refused: no credentials with the read scope")
            return .upgrade([:]) { _, outbound, _ in
                try await outbound.close(.policyViolation, reason: "unauthorized: credentials with the read scope are required")
            }
        }
        let query = full.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        guard case .success(let request) = parse(query, now: dependencies.clock.nowNanos()) else { return .dontUpgrade }
        let engine = LogQLEngine(store: store, limits: dependencies.logLimits)
        let clock = dependencies.clock
        return .upgrade([:]) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Ends when the client closes the socket.
                    for try await _ in inbound {}
                }
                group.addTask {
                    var from = request.start
                    while !Task.isCancelled {
                        let until = clock.nowNanos() - request.delay
                        if until > from {
                            let since = from
                            let streams = try await NIOThreadPool.singleton.runIfActive {
                                try engine.logs(request.selector, start: since, end: until, limit: request.limit, backward: false)
                            }
                            if let newest = streams.flatMap({ $0.entries.map(\.0) }).max() {
                                try await outbound.write(.text(Self.frame(streams)))
                                from = newest + 1
                            }
                        }
                        try await Task.sleep(for: .seconds(1))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    static func frame(_ streams: [LogStreamResult]) -> String {
        var json = JSONWriter(capacity: 4096)
        json.raw(#"{"streams":"#)
        json.lokiStreams(streams)
        json.raw("}")
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
