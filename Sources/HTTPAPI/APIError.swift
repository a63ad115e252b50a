import HTTPTypes

/// An error in Prometheus's envelope: `{"status":"error","errorType":…,"error":…}`.
struct APIError: Error, CustomStringConvertible {
    enum ErrorType: String {
        case badData = "bad_data"
        case execution
        case timeout
        case internalError = "internal"
        case notFound = "not_found"
        case unauthorized
        case forbidden
        case unavailable
        case tooManyRequests = "too_many_requests"
        case tooLarge = "too_large"
    }

    var type: ErrorType
    var message: String

    var status: HTTPResponse.Status {
        switch type {
        case .badData: .badRequest
        case .execution: .unprocessableContent
        case .timeout: .serviceUnavailable
        case .internalError: .internalServerError
        case .notFound: .notFound
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .unavailable: .serviceUnavailable
        case .tooManyRequests: .tooManyRequests
        case .tooLarge: .contentTooLarge
        }
    }

    var description: String { message }

    static func badParameter(_ name: String, _ reason: String) -> APIError {
        APIError(type: .badData, message: "invalid parameter \"\(name)\": \(reason)")
    }
}
