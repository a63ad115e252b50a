import Hummingbird
import NIOCore
import PromQL
import TelemetryModel

extension Request {
    /// The URL's query parameters, plus a form-encoded POST body's, as
    /// Prometheus accepts both (Grafana POSTs its queries).
    func formParameters(maxBodyBytes: Int) async throws -> FormParameters {
        var parameters = FormParameters(encoded: uri.query ?? "")
        if method == .post {
            var request = self
            let body = try await request.limitedBody(upTo: maxBodyBytes)
            let contentType = headers[.contentType] ?? ""
            guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
                if body.readableBytes == 0 { return parameters }
                throw APIError(type: .badData, message: "POST bodies must be application/x-www-form-urlencoded")
            }
            parameters.merge(FormParameters(encoded: String(buffer: body)))
        }
        return parameters
    }
}

extension Request {
    /// The whole body, or 413 naming `http.max_body_size` when it is larger.
    mutating func limitedBody(upTo maxBodyBytes: Int) async throws -> ByteBuffer {
        do {
            return try await collectBody(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(type: .tooLarge, message: "the request body is larger than \(maxBodyBytes) bytes (http.max_body_size)")
        }
    }
}

extension FormParameters {
    /// A required or defaulted timestamp parameter, in milliseconds.
    func time(_ name: String, default value: Int64? = nil) throws -> Int64 {
        guard let text = self[name], !text.isEmpty else {
            guard let value else { throw APIError.badParameter(name, "missing") }
            return value
        }
        do {
            return try parseTimestamp(text)
        } catch {
            throw APIError.badParameter(name, "cannot parse \"\(text)\" to a valid timestamp")
        }
    }

    /// The `match[]` selectors, parsed.
    func matchSelectors() throws -> [[LabelMatcher]] {
        try all("match[]").map { text in
            do {
                return try Parser.parseSelector(text).matchers
            } catch {
                throw APIError.badParameter("match[]", "\(error)")
            }
        }
    }
}

/// The earliest and latest times Prometheus uses for absent start and end.
enum TimeBounds {
    static let min: Int64 = -9_223_372_036_854_775 // about year -292 million, as Prometheus
    static let max: Int64 = 9_223_372_036_854_775
}
