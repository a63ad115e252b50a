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
import argparse, os, statistics, subprocess, tempfile, time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from benchlib import TALLY, free_port
from head_memory_peers import encode_labels, push, wait_ready

QUIET = ["--statsd-udp", "off", "--statsd-tcp", "off", "--logs-tcp", "off", "--logs-udp", "off",
         "--syslog-tcp", "off", "--syslog-udp", "off", "--otlp", "off"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--series", type=int, default=100)
    p.add_argument("--steps", type=int, default=1440)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--binary", default=TALLY)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="tally-ui-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tally = subprocess.Popen([args.binary, "serve", *QUIET, "--http", f"127.0.0.1:{port}", "--data-dir", work + "/data"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(base + "/readyz", tally)
        end = int(time.time() // 60 * 60) * 1000
        series = [(encode_labels([("__name__", "bench_ui"), ("i", str(k))]),
                   [(end - (args.steps - 1 - s) * 60_000, float((k * 37 + s * s) % 1000)) for s in range(args.steps)])
                  for k in range(args.series)]
        push(base + "/api/v1/write", series, args.steps)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        drawn, summaries = [], []
        try:
            url = f"{base}/graph?expr=bench_ui&range={args.steps - 1}m&end={end // 1000}&step=1m"
            for _ in range(args.runs):
                driver.get("about:blank")
                driver.get(url)
                WebDriverWait(driver, 60).until(
                    lambda d: d.execute_script("return performance.getEntriesByName('tally:chart-drawn').length > 0"))
                drawn.append(driver.execute_script("return performance.getEntriesByName('tally:chart-drawn')[0].startTime"))
                summaries.append(driver.execute_script("return document.getElementById('summary').textContent"))
        finally:
            driver.quit()
        print(f"{args.series} series x {args.steps} points: {summaries[-1]}")
        print(f"navigation to drawn chart, {args.runs} runs: median {statistics.median(drawn):.0f} ms, "
              f"best {min(drawn):.0f} ms, worst {max(drawn):.0f} ms")
    finally:
        tally.terminate()
        tally.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
