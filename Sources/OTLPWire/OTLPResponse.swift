import Foundation
import ProtobufWire

/// The answers an OTLP/HTTP receiver sends, in the request's encoding.
public enum OTLPResponse {
    /// 200's body for metrics: `partial_success` when points were refused.
    public static func metrics(rejectedPoints: Int, message: String?, encoding: OTLPEncoding) -> [UInt8] {
        var response = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse()
        if rejectedPoints > 0 || message != nil {
            response.partialSuccess.rejectedDataPoints = Int64(rejectedPoints)
            response.partialSuccess.errorMessage = message ?? ""
        }
        return encoding.encode(response)
    }

    /// 200's body for logs: `partial_success` when records were refused.
    public static func logs(rejectedRecords: Int, message: String?, encoding: OTLPEncoding) -> [UInt8] {
        var response = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse()
        if rejectedRecords > 0 || message != nil {
            response.partialSuccess.rejectedLogRecords = Int64(rejectedRecords)
            response.partialSuccess.errorMessage = message ?? ""
        }
        return encoding.encode(response)
    }

    /// A 4xx or 5xx body: a `google.rpc.Status` with `code` (3 invalid
    /// argument, 8 resource exhausted, 14 unavailable) and the message.
    /// Its two fields are written directly rather than by generating the
    /// Google API protos for one message.
    public static func status(code: Int32, message: String, encoding: OTLPEncoding) -> [UInt8] {
        switch encoding {
        case .json:
            let object: [String: Any] = ["code": code, "message": message]
            return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])).map { Array($0) } ?? []
        case .protobuf:
            var encoder = ProtobufEncoder()
            encoder.varintField(1, UInt64(UInt32(bitPattern: code)))
            encoder.stringField(2, message)
            return encoder.bytes
        }
    }
}
