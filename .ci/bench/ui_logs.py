#!/usr/bin/env python3
"""Time to draw 10,000 log lines on tally's /logs page, in headless Chromium.

Starts `tally serve` (release build) on an empty data directory with
logs.max_entries_limit_per_query raised to LINES, pushes LINES log lines over Loki's push API
(ten streams, four levels, logfmt lines of about 100 bytes, spread over the last ten minutes),
then opens `/logs?query={bench="ui"}&range=15m&limit=LINES` RUNS times, each a fresh navigation,
and reads the page's own performance marks: `tally:lines-drawn` (milliseconds from the start of
navigation: HTML, scripts, the query_range answer, every line in the list and laid out),
`tally:first-lines-drawn` (the first 200 lines in and laid out; the rest follow in batches) and
`tally:lines-fetched` (when the answer had arrived), whose difference to the last is the drawing.

Needs: Debian's chromium and chromium-driver, pip selenium; swift build -c release --product tally.
  .ci/bench/ui_logs.py [--lines 10000] [--runs 7] [--binary PATH]
"""
import argparse, json, statistics, time, urllib.request

from selenium.webdriver.support.ui import WebDriverWait

from benchlib import TALLY, UIServer

LEVELS = ["info", "info", "info", "warn", "error", "debug"]


def push(base, lines):
    """LINES lines over the last ten minutes, in batches of 1,000."""
    now = time.time_ns()
    span = 600 * 1_000_000_000
    for first in range(0, lines, 1000):
        streams = {}
        for i in range(first, min(first + 1000, lines)):
            key = (f"svc{i % 10}", LEVELS[i % len(LEVELS)])
            ts = now - span + span * i // lines
            line = f'msg="request served" route=/api/v1/items/{i} status=200 duration={i % 500}ms bytes={i * 7 % 9000}'
            streams.setdefault(key, []).append([str(ts), line])
        body = {"streams": [{"stream": {"bench": "ui", "service": s, "level": l}, "values": v} for (s, l), v in streams.items()]}
        request = urllib.request.Request(base + "/loki/api/v1/push", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30).read()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=10000)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--binary", default=TALLY)
    args = p.parse_args()
    with UIServer(args.binary, config=f"logs:\n  max_entries_limit_per_query: {max(args.lines, 5000)}\n") as ui:
        push(ui.base, args.lines)
        drawn, first, drawing, summaries = [], [], [], []
        mark = "return performance.getEntriesByName(arguments[0]).map((e) => e.startTime)[0]"
        url = f"{ui.base}/logs?query=%7Bbench%3D%22ui%22%7D&range=15m&limit={args.lines}"
        for _ in range(args.runs):
            ui.driver.get("about:blank")
            ui.driver.get(url)
            WebDriverWait(ui.driver, 60).until(lambda d: d.execute_script(mark, "tally:lines-drawn") is not None)
            done = ui.driver.execute_script(mark, "tally:lines-drawn")
            drawn.append(done)
            first.append(ui.driver.execute_script(mark, "tally:first-lines-drawn"))
            drawing.append(done - ui.driver.execute_script(mark, "tally:lines-fetched"))
            summaries.append(ui.driver.execute_script("return document.getElementById('summary').textContent"))
    print(f"{args.lines} lines: {summaries[-1]}")
    print(f"navigation to the first 200 lines drawn, {args.runs} runs: median {statistics.median(first):.0f} ms, "
          f"best {min(first):.0f} ms, worst {max(first):.0f} ms")
    print(f"navigation to all lines drawn, {args.runs} runs: median {statistics.median(drawn):.0f} ms, "
          f"best {min(drawn):.0f} ms, worst {max(drawn):.0f} ms; "
          f"drawing alone: median {statistics.median(drawing):.0f} ms, best {min(drawing):.0f} ms, worst {max(drawing):.0f} ms")


if __name__ == "__main__":
    main()
