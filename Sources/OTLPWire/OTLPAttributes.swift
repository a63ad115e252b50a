import Foundation

typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias AnyValue = Opentelemetry_Proto_Common_V1_AnyValue

/// Attribute values as label and field text: strings as they are, numbers
/// and booleans as written in JSON, bytes in base64, arrays and maps as JSON.
enum OTLPAttributes {
    static func text(_ value: AnyValue) -> String {
        switch value.value {
        case .stringValue(let text): text
        case .boolValue(let flag): flag ? "true" : "false"
        case .intValue(let number): String(number)
        case .doubleValue(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        case .bytesValue(let bytes): bytes.base64EncodedString()
        case .arrayValue, .kvlistValue: json(value)
        case .stringValueStrindex(let index): String(index)
        case nil: ""
        }
    }

    /// The value as JSON text.
    static func json(_ value: AnyValue) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: [plain(value)], options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return ""
        }
        // Written as a one-element array (JSONSerialization wants a container); the brackets go.
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    private static func plain(_ value: AnyValue) -> Any {
        switch value.value {
        case .stringValue(let text): text
        case .boolValue(let flag): flag
        case .intValue(let number): number
        case .doubleValue(let number): number.isFinite ? number : "\(number)"
        case .bytesValue(let bytes): bytes.base64EncodedString()
        case .arrayValue(let array): array.values.map(plain)
        case .kvlistValue(let list): Dictionary(list.values.map { ($0.key, plain($0.value)) }, uniquingKeysWith: { _, last in last })
        case .stringValueStrindex(let index): index
        case nil: NSNull()
        }
    }

    /// Attributes as labels: names sanitised, empty values dropped, and the
    /// values of keys that sanitise to one name joined with `;` in key order.
    /// `names` remembers the label name of each key met, across the calls of one request.
    static func labels(_ attributes: [KeyValue], names: inout [String: String]) -> [(String, String)] {
        // The common case, keys that sanitise to distinct names, needs no grouping.
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(attributes.count)
        for attribute in attributes {
            let name: String
            if let known = names[attribute.key] {
                name = known
            } else {
                name = OTLPNaming.labelName(attribute.key)
                names[attribute.key] = name
            }
            let value = text(attribute.value)
            guard !name.isEmpty, !value.isEmpty else { continue }
            if pairs.contains(where: { $0.0 == name }) { return grouped(attributes) }
            pairs.append((name, value))
        }
        return pairs
    }

    static func labels(_ attributes: [KeyValue]) -> [(String, String)] {
        var names: [String: String] = [:]
        return labels(attributes, names: &names)
    }

    private static func grouped(_ attributes: [KeyValue]) -> [(String, String)] {
        var byName: [String: [(key: String, value: String)]] = [:]
        for attribute in attributes {
            let name = OTLPNaming.labelName(attribute.key)
            let value = text(attribute.value)
            guard !name.isEmpty, !value.isEmpty else { continue }
            byName[name, default: []].append((attribute.key, value))
        }
        return byName.map { name, values in
            (name, values.sorted { $0.key < $1.key }.map(\.value).joined(separator: ";"))
        }
    }
}
