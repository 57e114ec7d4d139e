"""What the shadowing screen weighs on a phone: bytes over the network, as the browser saw them.

Serves a source tree of coachapp the way a person starts it (`COACHAPP_DEMO=1 flask --app app
demo`: the embedded Werkzeug server, no proxy in front, a fresh SQLite file with the demo
organisation), opens it in Debian's Chromium through Playwright as a 390x844 phone with service
workers allowed, and counts the encoded bytes of every answer (headers and body as they came over
the wire, compressed or not) from the Chrome DevTools Protocol's Network events:

- the page's own requests through a CDP session on the page (`Network.loadingFinished`'s
  `encodedDataLength`; answers from the disk cache or the service worker cost 0 network bytes);
- the service worker's own fetches (its install's precache, the warm-up of the shift's pages)
  through Playwright's Chromium connection to the worker target, the same Network events.

Steps, signed in as a demo manager (by the sign-in form, over HTTP):
1. **first visit** of one agent's shadowing screen, cold: the page and its assets; then the
   worker's install (precache) and warm-up, counted apart;
2. **repeat visit** of the same screen, the worker in control;
3. **Today's offline refresh**: Today opened (the worker keeps its shift pages: the first
   refresh), then the same refresh again with nothing changed (what happens when Today is opened
   again after the two minutes the worker waits between warm-ups).

    .venv/bin/python benchmarks/page_weight.py                  # this tree
    .venv/bin/python benchmarks/page_weight.py --source /tmp/main-export --label main
    .venv/bin/python benchmarks/page_weight.py --lighthouse      # and Lighthouse on four pages

`--lighthouse` runs benchmarks/lighthouse.mjs (Lighthouse 12 from npm, Node 20, CHROME_PATH=
/usr/bin/chromium) on sign-in, Today, the shadowing screen and an agent's My log.
Results go to benchmarks/results/page_weight-LABEL.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "en-GB",
    "service_workers": "allow",
}
MANAGER = "Maria Santos"
AGENT = "Ana"  # the agent whose log is the "My log" page (any demo agent would do)
QUIET_MS = 3000
STATIC = re.compile(r"/static/|/service-worker\.js$|/manifest\.webmanifest$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(source: Path, workdir: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`flask --app app demo` from `source`, on its own database, on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "COACHAPP_DEMO": "1",
        "COACHAPP_DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
        "COACHAPP_SECRET_KEY": "page-weight-benchmark-key",
        "COACHAPP_LOG_FORMAT": "text",
    }
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "demo", "--port", str(port)],
        cwd=source,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 300  # the demo data first: slow on a busy machine
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"the server did not start: see {log_path}")


@dataclass
class Meter:
    """Encoded bytes per request, from CDP Network events of the page and of the worker."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    activity: int = 0

    def attach_page(self, cdp: Any) -> None:
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)

    def _response(self, event: dict[str, Any]) -> None:
        response = event["response"]
        self.pending[event["requestId"]] = {
            "who": "page",
            "url": response["url"],
            "status": response["status"],
            "type": event.get("type", ""),
            "encoding": _header(response.get("headers", {}), "content-encoding"),
            "cache": "disk"
            if response.get("fromDiskCache")
            else "worker"
            if response.get("fromServiceWorker")
            else "",
        }

    def _finished(self, event: dict[str, Any]) -> None:
        row = self.pending.pop(event["requestId"], None)
        if row is None:
            return
        row["bytes"] = 0 if row["cache"] else int(event.get("encodedDataLength", 0))
        self.rows.append(row)

    def saw(self, _request: Any) -> None:
        self.activity += 1

    def worker_request(self, request: Any) -> None:
        """A fetch the service worker made itself (Playwright reports the worker target's
        Network events on the context; the page's CDP session does not see them). A 304 may
        be reported as failed (the worker read no body): it counts all the same."""
        if request.service_worker is None or id(request) in self.done:
            return
        response = request.response()
        if response is None:
            return
        self.done.add(id(request))
        try:
            sizes = request.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        except Exception:  # noqa: BLE001 - a failed request has no sizes: its headers, then
            size = len(f"HTTP/1.1 {response.status}\r\n") + sum(
                len(f"{name}: {value}\r\n") for name, value in response.headers_array()
            )
        self.rows.append(
            {
                "who": "worker",
                "url": request.url,
                "status": response.status,
                "type": request.resource_type,
                "encoding": response.headers.get("content-encoding", ""),
                "cache": "",
                "bytes": size,
            }
        )

    def take(self) -> list[dict[str, Any]]:
        rows, self.rows = self.rows, []
        return rows


def _header(headers: dict[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def summary(rows: list[dict[str, Any]], base: str) -> dict[str, Any]:
    def path(url: str) -> str:
        return url.removeprefix(base)

    network = [row for row in rows if not row["cache"]]
    return {
        "requests": len(network),
        "bytes": sum(row["bytes"] for row in network),
        "static_bytes": sum(row["bytes"] for row in network if STATIC.search(row["url"])),
        "from_cache": len(rows) - len(network),
        "by_url": [
            (path(row["url"]), row["status"], row["encoding"], row["bytes"], row["cache"])
            for row in rows
        ],
    }


def settle(page: Any, meter: Meter, quiet_ms: int = QUIET_MS, limit_s: float = 90) -> None:
    """Wait until nothing has come over the network for `quiet_ms` (the worker's install and
    warm-up run after the page's load), at most `limit_s`."""
    page.wait_for_load_state("networkidle")
    deadline = time.monotonic() + limit_s
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        count = len(meter.rows) + len(meter.pending) + meter.activity
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return


def sign_in(context: Any, name: str) -> None:
    signin = context.request.get("/signin").text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', signin)
    person = re.search(
        r'name="user_id" value="(\d+)">\s*<span class="person-name">' + re.escape(name),
        signin,
    )
    assert token and person, f"the demo sign-in page lists {name}"
    answer = context.request.post(
        "/signin/demo", form={"csrf_token": token.group(1), "user_id": person.group(1)}
    )
    assert answer.ok, answer.status


#: The pages Today asks the worker to keep (offline.js shiftPages()).
SHIFT_PAGES = """() => {
  const urls = [location.pathname];
  const forms = document.querySelectorAll("form[data-shadow-url]");
  for (const form of forms) urls.push(form.dataset.shadowUrl);
  const links = document.querySelectorAll("a[data-warm], a.due-row");
  for (const link of links) urls.push(link.getAttribute("href"));
  return Array.from(new Set(urls)).slice(0, 40);
}"""
WARM_AGAIN = """(urls) => navigator.serviceWorker.controller.postMessage(
  {type: "warm", urls, force: true})"""


def measure(browser: Any, url: str) -> tuple[dict[str, Any], dict[str, str]]:
    context = browser.new_context(base_url=url, **PHONE)
    meter = Meter()
    context.on("request", meter.saw)
    context.on("requestfinished", meter.worker_request)
    context.on("requestfailed", meter.worker_request)
    sign_in(context, MANAGER)
    today_html = context.request.get("/today").text()
    agent = re.search(r'data-shadow-url="(/agents/\d+/shadow)"', today_html)
    assert agent, "Today lists an agent to shadow"
    screen = agent.group(1)
    page = context.new_page()
    meter.attach_page(context.new_cdp_session(page))

    results: dict[str, Any] = {"screen": screen}
    page.goto(screen)
    page.wait_for_load_state("load")
    first_page = meter.take()
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    settle(page, meter)
    results["first_visit"] = summary(first_page, url)
    results["first_visit_worker"] = summary(meter.take(), url)

    page.goto(screen)
    settle(page, meter)
    results["repeat_visit"] = summary(meter.take(), url)

    page.goto("/today")
    settle(page, meter)
    results["today_first_refresh"] = summary(meter.take(), url)
    urls = page.evaluate(SHIFT_PAGES)
    page.evaluate(WARM_AGAIN, urls)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and sum(r["who"] == "worker" for r in meter.rows) < len(urls):
        page.wait_for_timeout(500)
    settle(page, meter)
    warmed = [row for row in meter.take() if row["who"] == "worker"]
    results["today_refresh_again"] = summary(warmed, url)
    results["today_refresh_pages"] = len(urls)

    # The pages Lighthouse audits, signed in as who sees them.
    pages = {
        "sign-in": url + "/signin",
        "today": url + "/today",
        "shadowing": url + screen,
    }
    context.close()
    agent_context = browser.new_context(base_url=url, **PHONE)
    agent_name = _first_agent_name(agent_context)
    sign_in(agent_context, agent_name)
    home = agent_context.request.get("/", max_redirects=5)
    pages["my-log"] = home.url
    agent_context.close()
    return results, pages


def _first_agent_name(context: Any) -> str:
    signin = context.request.get("/signin").text()
    section = signin.split("Agents", 1)[-1] if "Agents" in signin else signin
    names = re.findall(r'<span class="person-name">([^<]+)</span>', section)
    assert names, "the demo sign-in page lists agents"
    return names[0]


def cookie_for(browser: Any, url: str, name: str) -> str:
    context = browser.new_context(base_url=url)
    sign_in(context, name)
    cookies = context.cookies()
    context.close()
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies)


#: Lighthouse's categories, in the order the figures print them.
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def run_lighthouse(
    browser: Any, url: str, pages: dict[str, str], agent: str, runs: int
) -> dict[str, list[Any]]:
    """Each page `runs` times, one after the other: its score moves from run to run."""
    script = Path(__file__).resolve().parent / "lighthouse.mjs"
    manager_cookie = cookie_for(browser, url, MANAGER)
    agent_cookie = cookie_for(browser, url, agent)
    scores: dict[str, list[Any]] = {name: [] for name in pages}
    for name, page_url in [item for _ in range(runs) for item in pages.items()]:
        cookie = "" if name == "sign-in" else agent_cookie if name == "my-log" else manager_cookie
        answer = subprocess.run(
            ["node", str(script), page_url, cookie],
            capture_output=True,
            text=True,
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            timeout=300,
            check=False,
        )
        if answer.returncode != 0:
            scores[name].append({"error": answer.stderr[-2000:]})
            continue
        scores[name].append(json.loads(answer.stdout))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="a coachapp source tree")
    parser.add_argument("--label", default="this-tree")
    parser.add_argument("--lighthouse", action="store_true")
    parser.add_argument("--lighthouse-runs", type=int, default=1, help="runs of each page")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="page-weight-") as tmp:
        log_path = RESULTS / f"page_weight-{args.label}-server.log"
        server, url = serve(args.source.resolve(), Path(tmp), log_path)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                results, pages = measure(browser, url)
                if args.lighthouse:
                    agent_context = browser.new_context(base_url=url)
                    agent = _first_agent_name(agent_context)
                    agent_context.close()
                    results["lighthouse"] = run_lighthouse(
                        browser, url, pages, agent, args.lighthouse_runs
                    )
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    out = RESULTS / f"page_weight-{args.label}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"{args.label}: shadowing screen {results['screen']} at 390x844 (KB = 1000 bytes)")
    for step in (
        "first_visit",
        "first_visit_worker",
        "repeat_visit",
        "today_first_refresh",
        "today_refresh_again",
    ):
        row = results[step]
        print(
            f"  {step:22} {row['bytes'] / 1000:8.1f} KB in {row['requests']:3} requests"
            f" (static {row['static_bytes'] / 1000:.1f} KB; {row['from_cache']} from cache)"
        )
    if "lighthouse" in results:
        for name, page_runs in results["lighthouse"].items():
            for run in page_runs:
                if "error" in run:
                    print(f"  lighthouse {name:10} error: {run['error'][-300:]}")
                    continue
                scores = " / ".join(str(run["scores"].get(c, "-")) for c in CATEGORIES)
                blocking = run.get("metrics", {}).get("total-blocking-time")
                print(
                    f"  lighthouse {name:10} {scores}  TBT {blocking}"
                    f"  long tasks {run.get('longTasks', [])[:3]}  {run.get('problems') or ''}"
                )
            # A page's score moves by a point or two from run to run (Lighthouse's own advice is
            # the median of five runs): the median of the runs that measured, per category (a
            # run that could not record the page load has no blocking time and scores 0).
            measured = [
                r["scores"] for r in page_runs if r.get("metrics", {}).get("total-blocking-time")
            ]
            if len(measured) > 1:
                medians = " / ".join(
                    str(statistics.median_low(s[c] for s in measured if s.get(c) is not None))
                    for c in CATEGORIES
                )
                print(f"  lighthouse {name:10} median of {len(measured)} runs: {medians}")
    print(f"  details: {out}")


if __name__ == "__main__":
    main()
