#!/usr/bin/env python3
"""Opens a page of tally's web UI in headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium from PyPI) and prints, as JSON, what a person would see on it, for the Swift
test that started tally to check: the page's text and tables, what changed after using its
controls, the browser console's errors, and every request that left tally's origin.

  ui_check.py BASE_URL PAGE --out FILE [--screenshots DIR] [--expr Q]      PAGE: cardinality, graph, logs, report, status
"""
import argparse, json, time, urllib.request
from urllib.parse import quote, urlparse

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--lang=en-US"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def requested_urls(driver):
    """Every URL the page asked the network for, from the performance log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def table_rows(driver, table_id):
    rows = []
    for row in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tr"):
        cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        if cells:
            rows.append(cells)
    return rows


def wait_changed(driver, element_id, previous=""):
    """Until the element's text (a page's "updated" stamp or result summary) is new, or the page
    shows an error."""
    def ready(d):
        if d.find_element(By.ID, element_id).text not in ("", previous):
            return True
        errors = d.find_elements(By.ID, "error")
        return bool(errors) and errors[0].is_displayed() and errors[0].text != ""
    WebDriverWait(driver, 20).until(ready)


def wait_updated(driver, previous=""):
    wait_changed(driver, "updated", previous)


def check_cardinality(driver, base, shots):
    out = {}
    driver.get(base + "/cardinality")
    wait_updated(driver)
    out["title"] = driver.title
    out["nav"] = [(a.text, a.get_attribute("aria-current")) for a in driver.find_elements(By.CSS_SELECTOR, "nav.top a")]
    out["cards"] = cards(driver, "#head .card")
    for table in ("by-metric", "by-pair", "by-label", "bytes-by-label", "limits"):
        out[table] = table_rows(driver, table)
    errors = driver.find_elements(By.ID, "error")
    out["error"] = errors[0].text if errors and errors[0].is_displayed() else ""
    out["growth_lines"] = [(p.get_attribute("data-series"), int(p.get_attribute("data-points")))
                           for p in driver.find_elements(By.CSS_SELECTOR, "#growth svg path.line")]
    out["growth_legend"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#growth ul.legend li")]
    if shots:
        driver.save_screenshot(f"{shots}/cardinality.png")
    # The list size, chosen with the keyboard alone: Tab to the select, arrow down to 20, and the
    # URL keeps it.
    before = driver.find_element(By.ID, "updated").text
    time.sleep(1.1)  # the "updated" stamp has a one-second resolution
    tabs = 0
    while driver.execute_script("return document.activeElement.id") != "limit" and tabs < 10:
        driver.switch_to.active_element.send_keys(Keys.TAB)
        tabs += 1
    out["tabs_to_limit"] = tabs
    driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    wait_updated(driver, before)
    out["url_after_limit"] = driver.current_url
    out["by-pair-after-limit"] = table_rows(driver, "by-pair")
    # The URL reopens the same view.
    driver.get(driver.current_url)
    wait_updated(driver)
    out["limit_after_reload"] = Select(driver.find_element(By.ID, "limit")).first_selected_option.text
    out["by-pair-after-reload"] = table_rows(driver, "by-pair")
    # Dark scheme: the page follows the system's preference.
    light = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    out["background"] = {"light": light, "dark": driver.execute_script("return getComputedStyle(document.body).backgroundColor")}
    if shots:
        driver.save_screenshot(f"{shots}/cardinality-dark.png")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    # A phone's screen: nothing wider than it.
    out["overflow_on_phone"] = on_phone(driver, driver.current_url, wait_updated, shots and f"{shots}/cardinality-phone.png")
    return out


def cards(driver, selector):
    """The cards at `selector`: label -> value as shown."""
    return {c.find_element(By.CLASS_NAME, "label").text: c.find_element(By.CLASS_NAME, "value").text
            for c in driver.find_elements(By.CSS_SELECTOR, selector)}


def on_phone(driver, url, wait, shot=None):
    """Opens `url` on a phone's screen (390 px wide), waits with `wait(driver)`, keeps a screenshot
    at `shot` if given, and returns how many pixels the page is wider than the screen."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    driver.get(url)
    wait(driver)
    if shot:
        driver.save_screenshot(shot)
    return driver.execute_script("return document.scrollingElement.scrollWidth - document.documentElement.clientWidth")


def completions(driver, box, typings):
    """What the query box offers after each of `typings` is typed into it afresh."""
    offered = {}
    for typed in typings:
        box.clear()
        box.send_keys(typed)
        try:
            WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "suggestions").is_displayed())
        except TimeoutException:
            pass
        offered[typed] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#suggestions li")]
    return offered


def wait_summary(driver, previous=""):
    wait_changed(driver, "summary", previous)


def chart_lines(driver):
    return [(p.get_attribute("data-series"), int(p.get_attribute("data-points")))
            for p in driver.find_elements(By.CSS_SELECTOR, "#chart svg path.line")]


def check_graph(driver, base, shots, expr):
    from selenium.webdriver.common.action_chains import ActionChains
    out = {}
    driver.get(base + "/")
    out["home"] = driver.current_url
    driver.get(f"{base}/graph?expr={quote(expr)}&range=5m")
    wait_summary(driver)
    out["title"] = driver.title
    out["summary"] = driver.find_element(By.ID, "summary").text
    out["lines"] = chart_lines(driver)
    out["legend"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#chart ul.legend li")]
    out["markers"] = [g.get_attribute("data-title") for g in driver.find_elements(By.CSS_SELECTOR, "#chart svg g.marker")]
    # Hovering the middle of the chart shows each series' value there in the legend.
    overlay = driver.find_element(By.CSS_SELECTOR, "#chart svg rect.overlay")
    ActionChains(driver).move_to_element(overlay).perform()
    out["hover_values"] = [v.text for v in driver.find_elements(By.CSS_SELECTOR, "#chart ul.legend .value")]
    # A legend item shows its series alone (with the keyboard here), and again all of them.
    item = driver.find_elements(By.CSS_SELECTOR, "#chart ul.legend li")[1]
    driver.execute_script("arguments[0].focus()", item)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    out["isolated_lines"] = chart_lines(driver)
    driver.find_elements(By.CSS_SELECTOR, "#chart ul.legend li")[1].click()
    out["lines_after_isolation"] = len(chart_lines(driver))
    if shots:
        driver.save_screenshot(f"{shots}/graph.png")
    # Stacked: the URL says so, the lines stay one per series.
    driver.find_element(By.ID, "stacked").click()
    WebDriverWait(driver, 10).until(lambda d: "stacked=1" in d.current_url)
    out["stacked_url"] = driver.current_url
    out["stacked_lines"] = len(chart_lines(driver))
    driver.find_element(By.ID, "stacked").click()
    WebDriverWait(driver, 10).until(lambda d: "stacked=1" not in d.current_url)
    time.sleep(0.5)
    # The table tab: the instant values.
    driver.find_element(By.ID, "tab-table").click()
    WebDriverWait(driver, 10).until(lambda d: "rows at" in d.find_element(By.ID, "summary").text)
    out["table_url"] = driver.current_url
    out["table"] = table_rows(driver, "table")
    # Reopening the URL gives the same view.
    driver.get(driver.current_url)
    WebDriverWait(driver, 10).until(lambda d: "rows at" in d.find_element(By.ID, "summary").text)
    out["table_after_reload"] = table_rows(driver, "table")
    driver.find_element(By.ID, "tab-graph").click()
    WebDriverWait(driver, 10).until(lambda d: "tab=table" not in d.current_url)
    wait_summary(driver)
    time.sleep(0.5)
    # A drag across the middle third zooms in: a shorter range ending earlier, in the URL.
    before = driver.find_element(By.ID, "summary").text
    overlay = driver.find_element(By.CSS_SELECTOR, "#chart svg rect.overlay")
    width = overlay.size["width"]
    (ActionChains(driver).move_to_element_with_offset(overlay, -width // 6, 0).click_and_hold()
        .move_by_offset(width // 3, 0).release().perform())
    WebDriverWait(driver, 10).until(lambda d: "end=" in d.current_url)
    wait_summary(driver, before)
    out["zoom_url"] = driver.current_url
    # Completion of a metric name, a label name, a label value and a function; Tab takes the first.
    box = driver.find_element(By.ID, "expr")
    out["completions"] = completions(driver, box, [expr[:4], expr + "{r", expr + '{room="', "rat"])
    box.clear()
    box.send_keys(expr[:4])
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "suggestions").is_displayed())
    box.send_keys(Keys.TAB)
    out["accepted"] = box.get_attribute("value")
    # The console so far (the query below fails on purpose, and Chromium logs its 400).
    out["console_errors_before_bad_query"] = console_errors(driver)
    # A query that does not parse: the server's message, and where.
    box = driver.find_element(By.ID, "expr")
    box.clear()
    box.send_keys("sum(rate(" + expr + "[5m])" + Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    out["error"] = driver.find_element(By.ID, "error").text
    out["position"] = driver.find_element(By.ID, "position").text
    # Several queries on one page: a second panel, its own chart, in the URL as g1.*.
    driver.get(f"{base}/graph?expr={quote(expr)}&range=5m")
    wait_summary(driver)
    driver.find_element(By.ID, "add-panel").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "expr-1"))
    second = driver.find_element(By.ID, "expr-1")
    out["second_focused"] = driver.execute_script("return document.activeElement.id")
    second.send_keys(f"sum({expr})" + Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "summary-1").text != "")
    out["panels_url"] = driver.current_url
    out["panel_lines"] = [[p.get_attribute("data-series") for p in driver.find_elements(By.CSS_SELECTOR, f"#{c} svg path.line")]
                          for c in ("chart", "chart-1")]
    driver.get(driver.current_url)
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "summary-1") and d.find_element(By.ID, "summary-1").text != "")
    out["panels_after_reload"] = [driver.find_element(By.ID, i).get_attribute("value") for i in ("expr", "expr-1")]
    driver.find_element(By.ID, "remove-1").click()
    WebDriverWait(driver, 10).until(lambda d: "g1." not in d.current_url)
    out["panels_after_remove"] = len(driver.find_elements(By.CSS_SELECTOR, "section.panel"))
    # A link as Prometheus writes them opens the same view.
    driver.get(f"{base}/graph?g0.expr={quote(expr)}&g0.tab=1&g0.range_input=5m")
    WebDriverWait(driver, 10).until(lambda d: "rows at" in d.find_element(By.ID, "summary").text)
    out["prometheus_link_table"] = table_rows(driver, "table")
    # A phone's screen: nothing wider than it.
    out["overflow_on_phone"] = on_phone(driver, f"{base}/graph?expr={quote(expr)}&range=5m", wait_summary,
                                        shots and f"{shots}/graph-phone.png")
    return out


def log_lines(driver):
    """The lines the logs page lists: level, text, and the level its colour follows."""
    return [{"level": li.find_element(By.CLASS_NAME, "level").text, "text": li.find_element(By.CLASS_NAME, "text").text,
             "data_level": li.get_attribute("data-level")}
            for li in driver.find_elements(By.CSS_SELECTOR, "#lines li.line")]


def volume_bars(driver):
    """The volume histogram: the lines counted per level, summed over its bars, and its legend."""
    totals = {}
    for bar in driver.find_elements(By.CSS_SELECTOR, "#volume svg rect.bar"):
        level = bar.get_attribute("data-series")
        totals[level] = totals.get(level, 0) + int(float(bar.get_attribute("data-value")))
    return totals, [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#volume ul.legend li")]


def check_logs(driver, base, shots, query):
    out = {}
    driver.get(f"{base}/logs?query={quote(query)}&range=1h")
    wait_summary(driver)
    # The volume is drawn after the lines; wait for its legend.
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#volume ul.legend li"))
    out["title"] = driver.title
    out["summary"] = driver.find_element(By.ID, "summary").text
    out["lines"] = log_lines(driver)
    out["volume"], out["volume_legend"] = volume_bars(driver)
    # The first line opened with the keyboard alone: its labels and parsed fields.
    summary = driver.find_element(By.CSS_SELECTOR, "#lines li.line > button")
    driver.execute_script("arguments[0].focus()", summary)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lines li.line table.fields"))
    out["opened"] = [[c.text for c in row.find_elements(By.CSS_SELECTOR, "th, td")]
                     for row in driver.find_elements(By.CSS_SELECTOR, "#lines li.line table.fields tr")]
    if shots:
        driver.save_screenshot(f"{shots}/logs.png")
    # Fewer lines, by the list's own control: the URL keeps it, and reopening it gives the same view.
    Select(driver.find_element(By.ID, "limit")).select_by_visible_text("100")
    WebDriverWait(driver, 10).until(lambda d: "limit=100" in d.current_url)
    out["limit_url"] = driver.current_url
    driver.get(driver.current_url)
    wait_summary(driver)
    out["lines_after_reload"] = log_lines(driver)
    # Completion of label names and values from the log store, and of LogQL's words.
    box = driver.find_element(By.ID, "query")
    out["completions"] = completions(driver, box, ["{ser", '{service="', "count_o"])
    # A metric query: a chart, one line per level.
    box.clear()
    before = driver.find_element(By.ID, "summary").text
    box.send_keys(f"sum by (level) (count_over_time({query}[5m]))" + Keys.ENTER)
    wait_summary(driver, before)
    out["metric_lines"] = [p.get_attribute("data-series") for p in driver.find_elements(By.CSS_SELECTOR, "#chart svg path.line")]
    out["metric_lines_listed"] = len(driver.find_elements(By.CSS_SELECTOR, "#lines li"))
    out["console_errors_before_bad_query"] = console_errors(driver)
    # A query that does not parse: the server's message, and where.
    box = driver.find_element(By.ID, "query")
    box.clear()
    box.send_keys(query[:-1] + Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "error").is_displayed())
    out["error"] = driver.find_element(By.ID, "error").text
    out["position"] = driver.find_element(By.ID, "position").text
    driver.get_log("browser")  # the 400 above is logged by Chromium; what follows must not log
    # Live tail: a line pushed after the page opened shows at the top.
    driver.get(f"{base}/logs?query={quote(query)}&range=1h&live=1")
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "summary").get_attribute("data-live") == "open")
    line = f"sent after the page opened {time.time_ns()}"
    body = {"streams": [{"stream": {"service": "checkout", "level": "warn"}, "values": [[str(time.time_ns()), line]]}]}
    request = urllib.request.Request(base + "/loki/api/v1/push", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    out["push_status"] = urllib.request.urlopen(request, timeout=10).status
    try:
        WebDriverWait(driver, 15).until(lambda d: log_lines(d) and log_lines(d)[0]["text"] == line)
    except TimeoutException:
        pass
    out["live_first"] = log_lines(driver)[:1]
    out["live_summary"] = driver.find_element(By.ID, "summary").text
    out["live_url"] = driver.current_url
    # Dark scheme and a phone's width.
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    out["overflow_on_phone"] = on_phone(driver, f"{base}/logs?query={quote(query)}&range=1h", wait_summary,
                                        shots and f"{shots}/logs-phone-dark.png")
    return out


def check_status(driver, base, shots):
    out = {}
    driver.get(base + "/status")
    wait_updated(driver)
    out["title"] = driver.title
    out["nav"] = [(a.text, a.get_attribute("aria-current")) for a in driver.find_elements(By.CSS_SELECTOR, "nav.top a")]
    out["runtime"] = cards(driver, "#runtime .card")
    out["storage"] = cards(driver, "#storage .card")
    for table in ("listeners", "ingest", "blocks", "forwarding", "queries", "flags"):
        out[table] = table_rows(driver, table)
    out["refused_rows"] = [[c.text for c in tr.find_elements(By.TAG_NAME, "td")]
                           for tr in driver.find_elements(By.CSS_SELECTOR, "#ingest tr.refused")]
    out["query_links"] = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#queries a")]
    out["config_source"] = driver.find_element(By.ID, "config-source").text
    out["config"] = driver.find_element(By.ID, "config").text
    errors = driver.find_elements(By.ID, "error")
    out["error"] = errors[0].text if errors and errors[0].is_displayed() else ""
    if shots:
        driver.save_screenshot(f"{shots}/status.png")
    # A query's link opens it on its page.
    if out["query_links"]:
        driver.get(out["query_links"][0])
        wait_summary(driver)
        out["linked_summary"] = driver.find_element(By.ID, "summary").text
    out["overflow_on_phone"] = on_phone(driver, base + "/status", wait_updated)
    return out


def check_report(driver, base, shots, day):
    out = {}
    driver.get(f"{base}/report?date={day}")
    wait_changed(driver, "updated")
    out["title"] = driver.title
    out["date_input"] = driver.find_element(By.ID, "date").get_attribute("value")
    out["keys"] = {c.find_element(By.CLASS_NAME, "label").text: {
        "value": c.find_element(By.CLASS_NAME, "value").text,
        "tier": c.find_element(By.CLASS_NAME, "tier").text,
        "link": c.find_element(By.CSS_SELECTOR, ".value a").get_attribute("href")}
        for c in driver.find_elements(By.CSS_SELECTOR, "#keys .card")}
    out["services"] = table_rows(driver, "services")
    out["service_links"] = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#services a")]
    totals = {}
    for bar in driver.find_elements(By.CSS_SELECTOR, "#deploys svg rect.bar"):
        name = bar.get_attribute("data-series")
        totals[name] = totals.get(name, 0) + int(float(bar.get_attribute("data-value")))
    out["deploy_bars"] = totals
    out["incidents"] = table_rows(driver, "incidents")
    out["quality"] = table_rows(driver, "quality")
    out["page_link"] = driver.find_element(By.ID, "page-link").get_attribute("href")
    if shots:
        driver.save_screenshot(f"{shots}/report.png")
    # The deploys figure opens its query in /logs over the report's day.
    driver.get(out["keys"]["Deployment frequency"]["link"])
    wait_summary(driver)
    out["linked_lines"] = [li.find_element(By.CLASS_NAME, "text").text for li in driver.find_elements(By.CSS_SELECTOR, "#lines li.line")]
    # The day before, with the button: the URL follows.
    driver.get(f"{base}/report?date={day}")
    wait_changed(driver, "updated")
    before = driver.find_element(By.ID, "updated").text
    driver.find_element(By.ID, "previous").click()
    wait_changed(driver, "updated", before)
    out["previous_url"] = driver.current_url
    out["previous_keys"] = cards(driver, "#keys .card")
    out["overflow_on_phone"] = on_phone(driver, f"{base}/report?date={day}", wait_updated)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("page", choices=["cardinality", "graph", "logs", "report", "status"])
    parser.add_argument("--expr", default="", help="the graph or logs page's query, the report page's day")
    parser.add_argument("--out", required=True, help="where the JSON goes")
    parser.add_argument("--screenshots")
    args = parser.parse_args()
    driver = browser(1280, 900)
    try:
        if args.page == "graph":
            out = check_graph(driver, args.base, args.screenshots, args.expr)
        elif args.page == "report":
            out = check_report(driver, args.base, args.screenshots, args.expr)
        elif args.page == "status":
            out = check_status(driver, args.base, args.screenshots)
        elif args.page == "logs":
            out = check_logs(driver, args.base, args.screenshots, args.expr)
        else:
            out = check_cardinality(driver, args.base, args.screenshots)
        origin = urlparse(args.base).netloc
        urls = requested_urls(driver)
        out["requests"] = len(urls)
        out["foreign_requests"] = [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss")
                                   and urlparse(u).netloc != origin]
        out["console_errors"] = console_errors(driver)
    finally:
        driver.quit()
    with open(args.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
