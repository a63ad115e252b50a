#!/usr/bin/env python3
"""OTLP/HTTP receiving: how many samples a second `tally serve` stores from OTLP metrics requests.

tally runs with its defaults and only the HTTP and OTLP listeners. C sender processes (one keep-alive
connection each) send N protobuf ExportMetricsServiceRequests apiece, built before the clock starts
with the OpenTelemetry protobuf classes (PyPI's opentelemetry-proto). A request holds one resource
(service.name, service.instance.id per connection) with S gauge data points of S series (name and
three attributes each), one point per series, timestamps one second apart from request to request,
the shape of an SDK's or the Collector's export. Reported: data points stored per second (from
tally_otlp_received_samples_total), tally's CPU over the run, and the sender side's own rate with
tally answering, so a limit in the Python senders shows.

Needs: pip install opentelemetry-proto; swift build -c release --product tally.
  .ci/bench/otlp_receive.py [--series 2000] [--requests 300] [--conns 4] [--rounds 2]
"""
import argparse, http.client, multiprocessing, os, shutil, signal, subprocess, sys, tempfile, time

from benchlib import TALLY, free_port, get, metric
from remote_write_receive import cpu_seconds, wait_ready

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def build(conn, series, requests, t0):
    bodies = []
    for k in range(requests):
        request = ExportMetricsServiceRequest()
        resource = request.resource_metrics.add()
        resource.resource.attributes.extend([KeyValue(key="service.name", value=AnyValue(string_value="bench")),
                                             KeyValue(key="service.instance.id", value=AnyValue(string_value=f"host-{conn}"))])
        scope = resource.scope_metrics.add()
        for s in range(series):
            metric_ = scope.metrics.add()
            metric_.name = f"otlp.bench.{s % 20}"
            metric_.unit = "By"
            point = metric_.gauge.data_points.add()
            point.time_unix_nano = (t0 + k * 1000) * 1_000_000
            point.as_double = float(k * series + s)
            point.attributes.extend([KeyValue(key="mode", value=AnyValue(string_value="m%d" % (s % 4))),
                                     KeyValue(key="series", value=AnyValue(string_value=str(s))),
                                     KeyValue(key="zone", value=AnyValue(string_value="z1"))])
        bodies.append(request.SerializeToString())
    return bodies


def send(args):
    port, bodies = args
    connection = http.client.HTTPConnection("127.0.0.1", port)
    bad = 0
    for body in bodies:
        connection.request("POST", "/v1/metrics", body=body, headers={"Content-Type": "application/x-protobuf"})
        response = connection.getresponse()
        response.read()
        bad += response.status != 200
    return bad


def run(args, bodies):
    directory = tempfile.mkdtemp(prefix="otlp-bench-")
    http_port, otlp_port = free_port(), free_port()
    config = os.path.join(directory, "tally.yaml")
    with open(config, "w") as f:
        f.write(f"data_dir: {directory}/data\nhttp:\n  listen: 127.0.0.1:{http_port}\notlp:\n  listen: 127.0.0.1:{otlp_port}\n"
                "statsd:\n  udp: 'off'\n  tcp: 'off'\nlogs:\n  tcp: 'off'\n  udp: 'off'\n  syslog_tcp: 'off'\n  syslog_udp: 'off'\n")
    proc = subprocess.Popen([TALLY, "serve", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(http_port, "/readyz", proc)
        with multiprocessing.Pool(args.conns) as pool:
            cpu0, start = cpu_seconds(proc.pid), time.time()
            bad = sum(pool.map(send, [(otlp_port, b) for b in bodies]))
            seconds, cpu = time.time() - start, cpu_seconds(proc.pid) - cpu0
        stored = metric(get(http_port, "/metrics"), "tally_otlp_received_samples_total")
        return {"stored": stored, "seconds": seconds, "rate": stored / seconds, "cpu": cpu / seconds, "bad": bad}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--conns", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    t0 = int(time.time() * 1000) - 3_600_000
    bodies = [build(c, args.series, args.requests, t0) for c in range(args.conns)]
    size = sum(len(b) for b in bodies[0]) / len(bodies[0])
    print(f"{args.conns} senders x {args.requests} requests x {args.series} points ({size / 1024:.0f} KiB protobuf each)")
    for round_ in range(args.rounds):
        r = run(args, bodies)
        print(f"round {round_ + 1}: {r['rate'] / 1e6:.2f} M data points/s stored ({r['stored']:.0f} in {r['seconds']:.2f} s), "
              f"tally {r['cpu']:.2f} cores, {r['bad']} requests not 200", flush=True)


if __name__ == "__main__":
    main()
