#!/usr/bin/env python3
"""One query's latency on several Prometheus-API servers, their requests interleaved so that the
machine's drift falls on all of them alike: ROUNDS rounds, each taking N requests (a new connection
each) from every server in turn; prints each server's median of the rounds' medians and the ratio
to the first server.

Usage: query_interleaved.py QUERY START END URL[,URL...] [--names a,b] [--rounds 10] [--requests 100] [--extra nocache=1]
(--extra is added to every server's requests; VictoriaMetrics ignores unknown parameters' absence.)
"""
import argparse, statistics, time, urllib.parse, urllib.request

p = argparse.ArgumentParser()
p.add_argument("query"); p.add_argument("start"); p.add_argument("end"); p.add_argument("urls")
p.add_argument("--names", default=""); p.add_argument("--rounds", type=int, default=10)
p.add_argument("--requests", type=int, default=100); p.add_argument("--step", default="60")
p.add_argument("--extra", default="")
a = p.parse_args()
urls = a.urls.split(",")
names = a.names.split(",") if a.names else urls
params = {"query": a.query, "start": a.start, "end": a.end, "step": a.step}
params.update(dict(kv.split("=", 1) for kv in a.extra.split("&") if kv))
targets = [u + "/api/v1/query_range?" + urllib.parse.urlencode(params) for u in urls]
medians = {n: [] for n in names}
for target in targets:
    urllib.request.urlopen(target).read()  # warm-up
for _ in range(a.rounds):
    for name, target in zip(names, targets):
        times = []
        for _ in range(a.requests):
            t0 = time.perf_counter()
            urllib.request.urlopen(target).read()
            times.append(time.perf_counter() - t0)
        medians[name].append(statistics.median(times) * 1000)
first = statistics.median(medians[names[0]])
for name in names:
    m = statistics.median(medians[name])
    print(f"{name:12s} median of {a.rounds} round medians {m:.3f} ms (rounds {min(medians[name]):.3f}-{max(medians[name]):.3f}), ratio to {names[0]} {m / first:.2f}")
