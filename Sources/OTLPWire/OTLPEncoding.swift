import Foundation
import SwiftProtobuf

/// The two encodings of OTLP/HTTP, chosen by the request's Content-Type.
public enum OTLPEncoding: Sendable {
    case protobuf
    case json

    /// The encoding a Content-Type names, or nil for one OTLP does not define.
    public init?(contentType: String) {
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch type {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }

    /// The Content-Type of an answer in this encoding.
    public var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }

    /// Decodes a message; JSON's unknown fields are ignored, as the OTLP
    /// specification asks of receivers (protobuf skips them by design).
    func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from bytes: [UInt8], what: String) throws(OTLPError) -> M {
        do {
            switch self {
            case .protobuf:
                return try M(serializedBytes: bytes)
            case .json:
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = true
                return try M(jsonUTF8Bytes: bytes, options: options)
            }
        } catch {
            throw OTLPError("the body is not a valid \(self == .json ? "JSON" : "protobuf") \(what): \(error)")
        }
    }

    /// Encodes an answer.
    func encode<M: SwiftProtobuf.Message>(_ message: M) -> [UInt8] {
        switch self {
        case .protobuf: (try? message.serializedBytes()) ?? []
        case .json: (try? message.jsonUTF8Bytes()) ?? Array("{}".utf8)
        }
    }

    /// A trace or span id as the lowercase hex that OTLP/JSON sends and
    /// every tracing UI shows. OTLP/JSON carries ids as hex where protobuf
    /// JSON would have base64, so the JSON decoder read the hex characters
    /// as base64: encoding those bytes again gives back the characters sent.
    /// Nil when the id is not `length` bytes (`length * 2` hex digits in JSON).
    func hexID(_ bytes: Data, length: Int) -> String? {
        let hex: String
        switch self {
        case .protobuf:
            guard bytes.count == length else { return nil }
            hex = bytes.map { String(format: "%02x", $0) }.joined()
        case .json:
            hex = bytes.base64EncodedString().lowercased()
        }
        guard hex.utf8.count == length * 2, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            return nil
        }
        return hex
    }
}
