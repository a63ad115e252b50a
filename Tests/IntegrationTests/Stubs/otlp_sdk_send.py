#!/usr/bin/env python3
"""Sends metrics and logs to tally with the OpenTelemetry Python SDK over OTLP/HTTP (protobuf).

  otlp_sdk_send.py PORT SERVICE TEMPORALITY(cumulative|delta)

A counter, an up-down counter, a gauge and a histogram, each exported twice (two collections, the
second after more updates), and three log records, one inside a span. Prints one JSON object with the
trace and span ids of that span, so the test can look the record up by them.
"""
import json, logging, sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableCounter, ObservableUpDownCounter, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

port, service, temporality = int(sys.argv[1]), sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"
resource = Resource.create({"service.name": service, "service.namespace": "team", "service.instance.id": "pod-1",
                            "deployment.environment": "ci", "cloud.region": "eu-west-1"})
chosen = AggregationTemporality.DELTA if temporality == "delta" else AggregationTemporality.CUMULATIVE
preferred = {kind: chosen for kind in (Counter, UpDownCounter, Histogram, ObservableCounter, ObservableUpDownCounter)}
exporter = OTLPMetricExporter(endpoint=base + "/v1/metrics", preferred_temporality=preferred)
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
provider = MeterProvider(resource=resource, metric_readers=[reader])
meter = provider.get_meter("tally-test")

orders = meter.create_counter("orders.placed", unit="{order}", description="Orders placed")
queue = meter.create_up_down_counter("queue.items", description="Items waiting")
temperature = meter.create_gauge("cpu.temperature", unit="Cel")
duration = meter.create_histogram("request.duration", unit="s")

orders.add(3, {"region": "eu"})
orders.add(5, {"region": "us"})
queue.add(10)
temperature.set(40.25, {"core": "0"})
for value in (0.003, 0.02, 0.2):
    duration.record(value, {"route": "/buy"})
reader.force_flush()

orders.add(4, {"region": "eu"})
queue.add(-3)
temperature.set(41.5, {"core": "0"})
for value in (1.5, 7.0):
    duration.record(value, {"route": "/buy"})
reader.force_flush()
provider.shutdown()

logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=base + "/v1/logs")))
logger = logging.getLogger("shop." + service)
logger.setLevel(logging.DEBUG)
logger.propagate = False
logger.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=logs))
tracer = TracerProvider(resource=resource).get_tracer("tally-test")

logger.info("order placed", extra={"order_id": "o-17"})
with tracer.start_as_current_span("checkout") as span:
    context = span.get_span_context()
    logger.warning("payment slow", extra={"order_id": "o-18"})
logger.error("payment failed")
logs.shutdown()
print(json.dumps({"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}))
