/// Loki push bodies decoded as `POST /loki/api/v1/push` decodes them, open
/// to the fuzz targets of this package; a 4xx error is the expected outcome.
package enum HTTPAPIDecoderProbes {
    /// `json`: Loki's JSON push; otherwise snappy-compressed protobuf.
    package static func lokiPush(_ body: [UInt8], json: Bool) {
        _ = try? LokiRoutes.decodePush(body, json: json)
    }
}
