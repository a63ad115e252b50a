import BlockCodec
import HTTPAPI
import OTLPWire
import ProtobufWire

/// Bodies pushed over HTTP: remote_write, Loki push, OTLP.
let pushTargets: [FuzzTarget] = [
    FuzzTarget("remote_write") { input in
        guard let request = try? RemoteWriteRequest.decode(input) else { return }
        for series in request.series { _ = try? RemoteWriteRequest.labels(of: series, in: input) }
    },
    FuzzTarget("loki_push_protobuf") { input in
        // Compressed here so the fuzzer's bytes are the protobuf itself.
        HTTPAPIDecoderProbes.lokiPush(Snappy.compress(Array(input)), json: false)
    },
    FuzzTarget("loki_push_json") { input in
        HTTPAPIDecoderProbes.lokiPush(Array(input), json: true)
    },
    FuzzTarget("otlp_metrics_protobuf") { input in
        _ = try? OTLPMetricsTranslation.translate(Array(input), encoding: .protobuf, nowMillis: 1_700_000_000_000, deltas: DeltaAccumulator())
    },
    FuzzTarget("otlp_metrics_json") { input in
        _ = try? OTLPMetricsTranslation.translate(Array(input), encoding: .json, nowMillis: 1_700_000_000_000, deltas: DeltaAccumulator())
    },
    FuzzTarget("otlp_logs_protobuf") { input in
        _ = try? OTLPLogsTranslation.translate(Array(input), encoding: .protobuf, nowNanos: fuzzNow)
    },
    FuzzTarget("otlp_logs_json") { input in
        _ = try? OTLPLogsTranslation.translate(Array(input), encoding: .json, nowNanos: fuzzNow)
    },
]
