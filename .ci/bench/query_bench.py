#!/usr/bin/env python3
"""Range-query latency of a Prometheus-API server: median and p90 over --runs timed GETs.

Usage: query_bench.py NAME BASE_URL START END [--step 60] [--runs 20] [--extra nocache=1] [--keepalive]
Per query: one untimed warm-up, then --runs timed GETs of /api/v1/query_range (a new connection
each, as curl; with --keepalive over one kept-alive connection, as Grafana and Go clients do). Prints one line per query: median and p90 in ms, series, points and a checksum of
the values, so the servers' answers can be compared.
"""
import argparse, http.client, json, statistics, time, urllib.parse, urllib.request

QUERIES = [
    ("sum_rate_by_job", 'sum by (job) (rate(http_requests_total[5m]))'),
    ("raw_one_series", 'http_requests_total{job="api",instance="api-0:8080",method="GET",status="200"}'),
    ("hist_p99", 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'),
    ("max_over_time_1h", 'max_over_time(process_resident_memory_bytes[1h])'),
]

p = argparse.ArgumentParser()
p.add_argument("name"); p.add_argument("base"); p.add_argument("start"); p.add_argument("end")
p.add_argument("--step", default="60"); p.add_argument("--runs", type=int, default=20)
p.add_argument("--extra", default="")
p.add_argument("--keepalive", action="store_true")
a = p.parse_args()
base = urllib.parse.urlparse(a.base)
connection = http.client.HTTPConnection(base.hostname, base.port) if a.keepalive else None


def fetch(url):
    if connection is None:
        return urllib.request.urlopen(url, timeout=300).read()
    target = urllib.parse.urlparse(url)
    connection.request("GET", target.path + "?" + target.query)
    return connection.getresponse().read()
for name, q in QUERIES:
    params = {"query": q, "start": a.start, "end": a.end, "step": a.step}
    params.update(dict(kv.split("=", 1) for kv in a.extra.split("&") if kv))
    url = a.base + "/api/v1/query_range?" + urllib.parse.urlencode(params)
    times = []
    for i in range(a.runs + 1):
        t0 = time.perf_counter()
        body = fetch(url)
        dt = (time.perf_counter() - t0) * 1000
        if i:
            times.append(dt)
    res = json.loads(body)["data"]["result"]
    points = sum(len(s["values"]) for s in res)
    checksum = sum(float(v) for s in res for _, v in s["values"])
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    print(f"{a.name:16s} {name:18s} median={statistics.median(times):8.2f}ms p90={p90:8.2f}ms "
          f"series={len(res)} points={points} checksum={checksum:.10g}", flush=True)
