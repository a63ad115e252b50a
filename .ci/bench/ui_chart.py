#!/usr/bin/env python3
"""Time from navigation to a drawn chart on tally's /graph page, in headless Chromium.

Starts `tally serve` (release build) on an empty data directory, sends it SERIES series of STEPS
samples a minute apart ending now over remote_write (100 × 1,440: a day at one-minute resolution),
then opens `/graph?expr=bench_ui&range=…&step=1m` RUNS times, each a fresh navigation, and reads
the page's own `tally:chart-drawn` performance mark (milliseconds from the start of navigation:
HTML, scripts, the query_range answer, the SVG drawn). Also prints what the page reports for the
query itself.

Needs: Debian's chromium and chromium-driver, pip selenium and cramjam; swift build -c release --product tally.
  .ci/bench/ui_chart.py [--series 100] [--steps 1440] [--runs 7] [--binary PATH]
"""
import argparse, statistics, time

from selenium.webdriver.support.ui import WebDriverWait

from benchlib import TALLY, UIServer
from head_memory_peers import encode_labels, push


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--series", type=int, default=100)
    p.add_argument("--steps", type=int, default=1440)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--binary", default=TALLY)
    args = p.parse_args()
    with UIServer(args.binary) as ui:
        end = int(time.time() // 60 * 60) * 1000
        series = [(encode_labels([("__name__", "bench_ui"), ("i", str(k))]),
                   [(end - (args.steps - 1 - s) * 60_000, float((k * 37 + s * s) % 1000)) for s in range(args.steps)])
                  for k in range(args.series)]
        push(ui.base + "/api/v1/write", series, args.steps)
        drawn, summaries = [], []
        url = f"{ui.base}/graph?expr=bench_ui&range={args.steps - 1}m&end={end // 1000}&step=1m"
        for _ in range(args.runs):
            ui.driver.get("about:blank")
            ui.driver.get(url)
            WebDriverWait(ui.driver, 60).until(
                lambda d: d.execute_script("return performance.getEntriesByName('tally:chart-drawn').length > 0"))
            drawn.append(ui.driver.execute_script("return performance.getEntriesByName('tally:chart-drawn')[0].startTime"))
            summaries.append(ui.driver.execute_script("return document.getElementById('summary').textContent"))
    print(f"{args.series} series x {args.steps} points: {summaries[-1]}")
    print(f"navigation to drawn chart, {args.runs} runs: median {statistics.median(drawn):.0f} ms, "
          f"best {min(drawn):.0f} ms, worst {max(drawn):.0f} ms")


if __name__ == "__main__":
    main()
