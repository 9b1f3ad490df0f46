#!/usr/bin/env python3
"""Drives Hark's dashboard in Debian's chromium (Selenium + chromedriver) against a live `hark serve`.

Run by Tests/HarkServerTests/DashboardTests.swift, which starts the server (fed by a PulseAudio null
sink) and passes what to check. Prints one JSON object with what it measured; exits 1 with the
reasons when a check fails.

    dashboard_check.py live  --url URL --sink SINK --clip FOLD5.ogg --label LABEL --upload FILE
                             --upload-label LABEL --screenshots DIR
    dashboard_check.py token --url URL --token TOKEN --screenshots DIR
Needs PULSE_SERVER in the environment for `live` (paplay plays the clip into the sink).
"""
import argparse, json, os, subprocess, sys, time, urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
    return ok


def browser(width=1400, height=1000):
    options = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}",
              "--autoplay-policy=no-user-gesture-required"]:
        options.add_argument(a)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(d, condition, timeout, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = condition(d)
            if value:
                return value
        except Exception:
            pass
        time.sleep(interval)
    return None


PIXELS = """
const c = arguments[0], ctx = c.getContext('2d');
const data = ctx.getImageData(0, 0, c.width, c.height).data;
let distinct = new Set();
for (let i = 0; i < data.length; i += 4 * 97) distinct.add(data[i] << 16 | data[i + 1] << 8 | data[i + 2]);
let h = 0;
for (let i = 0; i < data.length; i += 4 * 13) h = (h * 31 + data[i] + data[i + 1] * 7 + data[i + 2] * 13) >>> 0;
return [distinct.size, h];
"""


def painted(d, css):
    """(distinct colours sampled, a hash of the pixels) of each canvas matching `css`."""
    return [d.execute_script(PIXELS, c) for c in d.find_elements(By.CSS_SELECTOR, css)]


def tab(d, name):
    d.find_element(By.ID, f"tab-{name}").click()
    time.sleep(0.3)


def console_errors(d):
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]


def live(args):
    d = browser()
    out = {}
    try:
        d.get(args.url)
        check(wait(d, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live", 30), "never live")
        # A clip played into the sink: the live canvases are painted and keep changing (an idle
        # sink is digital silence, gated: no spectrogram), and the clip reaches the top-3.
        time.sleep(1)
        player = subprocess.Popen(["paplay", "-d", args.sink, "--latency-msec=250", args.clip])
        check(wait(d, lambda d: all(n >= 2 for n, _ in painted(d, "#live-waveform, #live-spectrogram")), 15),
              "the waveform or spectrogram stayed blank")
        first = painted(d, "#live-waveform, #live-spectrogram")
        time.sleep(1.5)
        later = painted(d, "#live-waveform, #live-spectrogram")
        check(all(a[1] != b[1] for a, b in zip(first, later)), "the live canvases did not change over 1.5 s")
        seen = wait(d, lambda d: args.label in [li.get_attribute("data-label") for li in d.find_elements(By.CSS_SELECTOR, "#live-top3 li")][:1], 30)
        check(seen, f"the top-3 never led with {args.label}")
        time.sleep(1.5)
        d.save_screenshot(os.path.join(args.screenshots, "dashboard-live.png"))
        player.wait()
        # The network view: every main layer painted and changing, the inner layers of one stage too.
        tab(d, "network")
        stages = "#maps-stages .stage > canvas"
        check(wait(d, lambda d: len(painted(d, stages)) >= 5 and all(n > 3 for n, _ in painted(d, stages)), 20),
              "the main layers' maps stayed blank")
        before = painted(d, stages)
        d.find_element(By.CSS_SELECTOR, "#maps-stages .stage button").click()
        inner = "#maps-stages .stage .inner:not([hidden]) canvas"
        check(wait(d, lambda d: painted(d, inner) and all(n > 3 for n, _ in painted(d, inner)), 20), "the inner layers stayed blank")
        # Drawing keeps up with a window every hop with every main layer (and one stage's inner layers) on screen.
        def published():
            s = json.load(urllib.request.urlopen(args.url.rstrip("/") + "/v1/status"))["summary"]
            return s["windows_classified"] + s["windows_gated"]
        start, server_start = d.execute_script("return window.harkStats.summary()"), published()
        time.sleep(8)
        stats, server_end = d.execute_script("return window.harkStats.summary()"), published()
        after = painted(d, stages)
        check(any(a[1] != b[1] for a, b in zip(before, after)), "the maps did not change over time")
        out["frame_ms_p50"], out["frame_ms_p99"] = stats["frameP50"], stats["frameP99"]
        out["window_delay_ms_p50"], out["window_delay_ms_p99"] = stats["delayP50"], stats["delayP99"]
        out["windows_in_8s"], out["server_windows_in_8s"] = stats["windows"] - start["windows"], server_end - server_start
        check(stats["frameP99"] is not None and stats["frameP99"] < 100, f"frames take too long: {stats}")
        check(out["server_windows_in_8s"] >= 8, f"the server published only {out['server_windows_in_8s']} windows in 8 s")
        check(out["windows_in_8s"] >= out["server_windows_in_8s"] - 2,
              f"the page fell behind: {out['windows_in_8s']} windows drawn, {out['server_windows_in_8s']} published")
        check(stats["delayP99"] is not None and stats["delayP99"] < 3000, f"windows arrive late: {stats}")
        d.save_screenshot(os.path.join(args.screenshots, "dashboard-network.png"))
        # Analysing a file: its top-1, its pictures, then it is in the history.
        tab(d, "analyse")
        d.find_element(By.ID, "file-input").send_keys(os.path.abspath(args.upload))
        shown = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#analyse-result .result-top3 li"), 60)
        top = shown[0].get_attribute("data-label") if shown else None
        check(top == args.upload_label, f"the analysed file's top-1 is {top}, not {args.upload_label}")
        check(all(n >= 2 for n, _ in painted(d, "#analyse-result canvas")), "the analysed file's pictures stayed blank")
        d.save_screenshot(os.path.join(args.screenshots, "dashboard-analyse.png"))
        d.find_element(By.CSS_SELECTOR, "#analyse-result .maps button").click()
        check(wait(d, lambda d: all(n > 3 for n, _ in painted(d, stages)), 10), "the file's maps stayed blank")
        tab(d, "history")
        name = os.path.basename(args.upload)
        check(wait(d, lambda d: name in d.find_element(By.ID, "analyses-rows").text, 15), "the analysed file is not in the history")
        check(wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#events-rows tr"), 15), "no events in the history")
        # An event's recorded audio plays, with its spectrogram.
        play = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#events-rows button"), 20)
        if check(play, "no event with recorded audio in the history"):
            play[0].click()
            check(wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#event-detail audio"), 10), "no audio player for the event")
            spectrogram = "#event-detail .result-spectrogram"
            check(wait(d, lambda d: painted(d, spectrogram) and all(n > 3 for n, _ in painted(d, spectrogram)), 30),
                  "the event's spectrogram stayed blank")
        d.save_screenshot(os.path.join(args.screenshots, "dashboard-history.png"))
        # Phone width.
        d.set_window_size(412, 900)
        tab(d, "live")
        time.sleep(1.5)
        d.save_screenshot(os.path.join(args.screenshots, "dashboard-phone.png"))
        width = d.execute_script("return document.documentElement.scrollWidth")
        check(width <= 420, f"the page is {width} px wide at phone width")
        errors = console_errors(d)
        check(not errors, f"console errors: {errors}")
    finally:
        d.quit()
    return out


def token(args):
    d = browser()
    try:
        d.get(args.url)
        dialog = wait(d, lambda d: d.execute_script("return document.getElementById('token-dialog').open"), 15)
        check(dialog, "the page did not ask for the token")
        check(d.find_element(By.ID, "connection").get_attribute("data-state") != "live", "live before signing in")
        d.save_screenshot(os.path.join(args.screenshots, "dashboard-token.png"))
        d.find_element(By.ID, "token-input").send_keys(args.token)
        d.find_element(By.CSS_SELECTOR, "#token-form button").click()
        check(wait(d, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "live", 30), "not live after signing in")
        check(wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#live-top3 li"), 30), "no window after signing in")
        tab(d, "history")
        check(wait(d, lambda d: "could not be read" not in d.find_element(By.ID, "events-rows").text, 5), "the history was refused")
        errors = console_errors(d)
        check(not errors, f"console errors: {errors}")
    finally:
        d.quit()
    return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["live", "token"])
    ap.add_argument("--url", required=True)
    ap.add_argument("--sink")
    ap.add_argument("--clip")
    ap.add_argument("--label")
    ap.add_argument("--upload")
    ap.add_argument("--upload-label")
    ap.add_argument("--token")
    ap.add_argument("--screenshots", required=True)
    args = ap.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    out = live(args) if args.mode == "live" else token(args)
    out["failures"] = failures
    print(json.dumps(out))
    sys.exit(1 if failures else 0)


main()
