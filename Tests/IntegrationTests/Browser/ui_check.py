#!/usr/bin/env python3
"""Opens a page of tally's web UI in headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium from PyPI) and prints, as JSON, what a person would see on it, for the Swift
test that started tally to check: the page's text and tables, what changed after using its
controls, the browser console's errors, and every request that left tally's origin.

  ui_check.py BASE_URL PAGE --out FILE [--screenshots DIR]      PAGE: cardinality
"""
import argparse, json, time
from urllib.parse import urlparse

from selenium import webdriver
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


def wait_updated(driver, previous=""):
    """Until the page says it loaded anew (its "updated" stamp changed) or shows an error."""
    def ready(d):
        if d.find_element(By.ID, "updated").text not in ("", previous):
            return True
        errors = d.find_elements(By.ID, "error")
        return bool(errors) and errors[0].is_displayed() and errors[0].text != ""
    WebDriverWait(driver, 20).until(ready)


def check_cardinality(driver, base, shots):
    out = {}
    driver.get(base + "/cardinality")
    wait_updated(driver)
    out["title"] = driver.title
    out["nav"] = [(a.text, a.get_attribute("aria-current")) for a in driver.find_elements(By.CSS_SELECTOR, "nav.top a")]
    out["cards"] = {c.find_element(By.CLASS_NAME, "label").text: c.find_element(By.CLASS_NAME, "value").text
                    for c in driver.find_elements(By.CSS_SELECTOR, "#head .card")}
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
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    driver.get(driver.current_url)
    wait_updated(driver)
    out["overflow_on_phone"] = driver.execute_script(
        "return document.scrollingElement.scrollWidth - document.documentElement.clientWidth")
    if shots:
        driver.save_screenshot(f"{shots}/cardinality-phone.png")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("page", choices=["cardinality"])
    parser.add_argument("--out", required=True, help="where the JSON goes")
    parser.add_argument("--screenshots")
    args = parser.parse_args()
    driver = browser(1280, 900)
    try:
        out = {"cardinality": check_cardinality}[args.page](driver, args.base, args.screenshots)
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
