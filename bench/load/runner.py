"""Run the load test: seed the staff, start gunicorn on loopback against the bench PostgreSQL
database, drive it with locust (headless, bounded in time), stop everything, read the numbers.

Only 127.0.0.1 is used; every process started here is stopped here (by its own id).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import common

VENV_BIN = common.BASE_DIR / ".venv" / "bin"
PASSWORD = "Bench@2026-load"
P95_TARGET_MS = 500
ERROR_RATE_TARGET = 0.001  # 0.1 %


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_demo_data() -> list[str]:
    """The demo data of every app (plans, tasks, draws… for the detail pages), once per bench
    database. Each app's seed runs in its own transaction; one that fails is reported and
    skipped (the bench register may already hold data a demo seed does not expect)."""
    from io import StringIO

    from django.db import transaction

    from accounts.models import User
    from core.extensions import app_modules

    if User.objects.filter(username="lead", is_demo=True).exists():
        return []
    notes = []
    for module in app_modules("demo"):
        try:
            with transaction.atomic():
                module.seed(stdout=StringIO())
        except Exception as exc:
            notes.append(f"{module.__name__}: {exc.__class__.__name__}: {exc}"[:200])
    return notes


def seed_staff(n: int) -> list[dict]:
    """n bench staff (one role each, ROLE_MIX), created once, password set each run."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.models import Section, User

    from .pages import ROLE_MIX

    section, _ = Section.objects.get_or_create(code="shichang", defaults={"name": "市场运行股"})
    password = make_password(PASSWORD)
    users = []
    for i in range(n):
        role = ROLE_MIX[i % len(ROLE_MIX)]
        user, _ = User.objects.get_or_create(
            username=f"bench{i:03d}",
            defaults={"full_name": f"压测用户{i:03d}", "section": section},
        )
        User.objects.filter(pk=user.pk).update(
            password=password, must_change_password=False, is_active=True
        )
        user.password = password  # the session's auth hash is derived from it
        if set(user.groups.values_list("name", flat=True)) != {str(role)}:
            user.groups.set(Group.objects.filter(name=role))
        users.append(
            {
                "username": user.username,
                "password": PASSWORD,
                "role": str(role),
                "session": _session_for(user),
            }
        )
    from accounts.models import LoginThrottle

    LoginThrottle.objects.filter(username__startswith="bench").delete()
    return users


def _session_for(user) -> str:
    """A session exactly as django.contrib.auth.login leaves it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def time_form_logins(host: str, username: str, n: int = 5) -> float:
    """Median seconds of a real login through the form (GET form, POST credentials)."""
    import http.cookiejar
    import re
    import statistics
    import urllib.parse

    times = []
    for _ in range(n):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        form = opener.open(host + "/accounts/login/", timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(
            host + "/accounts/login/", data=body, headers={"Referer": host + "/accounts/login/"}
        )
        start = time.perf_counter()
        try:
            opener.open(request, timeout=60)
        except urllib.error.HTTPError as exc:
            if exc.code != 302:
                raise
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def build_plan(users: list[dict]) -> dict:
    """Per role, the URLs its users open. A page is kept for a role only if a user of that
    role actually gets 200 from it here (so a guess in pages.py cannot turn into errors)."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from accounts.models import User

    from .pages import PAGES

    clients = {}
    for u in users:
        if u["role"] not in clients:
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(User.objects.get(username=u["username"]))
            clients[u["role"]] = client
    pages: dict[str, list] = {role: [] for role in clients}
    skipped = []
    for page in PAGES:
        try:
            arg_sets = page.args() if page.args else [()]
            urls = [reverse(page.url_name, args=args) + page.query for args in arg_sets]
        except (NoReverseMatch, LookupError):
            skipped.append(page.name)
            continue
        if not urls:
            skipped.append(f"{page.name} (no data)")
            continue
        for role, client in clients.items():
            if role not in page.roles:
                continue
            status = client.get(urls[0]).status_code
            if status != 200:
                skipped.append(f"{page.name} for {role} ({status})")
                continue
            for url in urls:
                pages[role].append([page.name, url, page.weight / len(urls)])
    from django.conf import settings

    return {
        "users": users,
        "pages": pages,
        "skipped": skipped,
        "think_seconds": [1, 3],
        "login": "session",
        "session_cookie": settings.SESSION_COOKIE_NAME,
    }


def _wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_stats(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    def num(value):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    pages = []
    total = None
    for r in rows:
        entry = {
            "name": r["Name"],
            "requests": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "median_ms": num(r["Median Response Time"]),
            "p95_ms": num(r["95%"]),
            "p99_ms": num(r["99%"]),
            "rps": num(r["Requests/s"]),
        }
        if r["Name"] == "Aggregated":
            total = entry
        else:
            pages.append(entry)
    return {"total": total, "pages": pages}


def run_load(
    *, users: int = 50, duration: int = 300, workers: int | None = None, fresh: bool = False
) -> dict:
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    common.switch_database(common.BENCH_LOAD_DATABASE_URL, fresh=fresh)
    demo_notes = seed_demo_data()
    staff = seed_staff(users)
    plan = build_plan(staff)
    plan_path = common.RESULTS_DIR / "load-plan.json"
    plan_path.write_text(json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8")
    port = _free_port()
    workers = workers or (2 * (os.cpu_count() or 1) + 1)
    env = {**os.environ, **common.bench_environ(common.BENCH_LOAD_DATABASE_URL)}
    log = (common.RESULTS_DIR / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
        ],
        cwd=common.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    host = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()[0]
    prefix = common.RESULTS_DIR / "load"
    try:
        _wait_ready(host + "/accounts/login/")
        locust = subprocess.run(
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "--host",
                host,
                "--users",
                str(users),
                "--spawn-rate",
                str(max(1, users // 10)),
                "--run-time",
                f"{duration}s",
                "--stop-timeout",
                "10",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=common.BASE_DIR,
            env={**env, "BENCH_LOAD_PLAN": str(plan_path)},
            capture_output=True,
            text=True,
            timeout=duration + 180,
        )
        load_after = os.getloadavg()[0]
        login_seconds = time_form_logins(host, staff[0]["username"])
    finally:
        _stop(server)
        log.close()
    if locust.returncode != 0:
        raise RuntimeError(f"locust failed ({locust.returncode}):\n{locust.stderr[-3000:]}")
    stats = _read_stats(Path(f"{prefix}_stats.csv"))
    total = stats["total"]
    error_rate = total["failures"] / total["requests"] if total["requests"] else 1.0
    summary = {
        "users": users,
        "duration_s": duration,
        "gunicorn_workers": workers,
        "requests": total["requests"],
        "failures": total["failures"],
        "error_rate": round(error_rate, 5),
        "rps": total["rps"],
        "median_ms": total["median_ms"],
        "p95_ms": total["p95_ms"],
        "p99_ms": total["p99_ms"],
        "skipped_pages": plan["skipped"],
        "demo_seed_problems": demo_notes,
        "form_login_ms": round(login_seconds * 1000),
        "loadavg_before": round(load_before, 2),
        "loadavg_after": round(load_after, 2),
    }
    ok = (
        total["p95_ms"] is not None
        and total["p95_ms"] <= P95_TARGET_MS
        and error_rate <= ERROR_RATE_TARGET
    )
    return {"summary": summary, "pages": stats["pages"], "ok": ok}


def report_markdown(result: dict, info: dict) -> str:
    s = result["summary"]
    lines = [
        f"{s['users']} logged-in staff for {s['duration_s']} s against gunicorn "
        f"({s['gunicorn_workers']} sync workers) + PostgreSQL, locust on the same machine "
        "(loopback; the numbers are for comparison between runs, not capacity).",
        common.machine_block(info)
        + f" Machine load average (1 min) {s['loadavg_before']} before, {s['loadavg_after']} "
        "at the end (anything well above the core count means other work shared the CPUs).",
        "",
        f"**Total:** {s['requests']:,} requests, {s['rps']:.1f} req/s, median "
        f"{s['median_ms']:.0f} ms, **p95 {s['p95_ms']:.0f} ms**, p99 {s['p99_ms']:.0f} ms, "
        f"**errors {s['failures']} ({s['error_rate']:.2%})** — target p95 ≤ {P95_TARGET_MS} ms "
        f"and errors ≤ {ERROR_RATE_TARGET:.1%}: {'✅ met' if result['ok'] else '❌ not met'}.",
        "",
        "| Page | Requests | Failures | Median | p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for p in result["pages"]:
        lines.append(
            f"| {p['name']} | {p['requests']:,} | {p['failures']} | {p['median_ms']:.0f} ms | "
            f"{p['p95_ms']:.0f} ms | {p['p99_ms']:.0f} ms |"
        )
    lines += [
        "",
        f"Users arrive logged in (a session each, as after the login form). The login form "
        f"itself, timed alone afterwards: median {s['form_login_ms']} ms (PBKDF2, 1,000,000 "
        "iterations: the cost is the password hash, paid once a day per person).",
    ]
    if s["skipped_pages"]:
        lines += ["", "Not yet available (skipped): " + ", ".join(s["skipped_pages"]) + "."]
    return "\n".join(lines)
