"""50 logged-in staff of the bureau working through list, detail and record pages.

Started by bench/load/runner.py (``make bench``), which writes the plan this file reads from
``BENCH_LOAD_PLAN``: the users (one role each) and, per role, the URLs that role may open. Each
simulated user logs in through the real login form (CSRF token and all), then opens pages with
a staff member's think time. A page fails if it is not 200 or if it bounces to the login page.

Logging in: by default each user arrives with a session the runner created for it (staff log in
once a day; 50 PBKDF2 logins at 1,000,000 iterations would otherwise be the whole test on a
small machine — the runner times the real login form separately). ``"login": "form"`` in the
plan makes every user log in through the form in ``on_start`` instead.
"""

import itertools
import json
import os
import random
import re

from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_next_user = itertools.count()


class Staff(HttpUser):
    wait_time = between(*PLAN.get("think_seconds", [1, 3]))

    def on_start(self):
        user = PLAN["users"][next(_next_user) % len(PLAN["users"])]
        self.pages = PLAN["pages"][user["role"]]
        self.weights = [weight for _, _, weight in self.pages]
        if PLAN.get("login") != "form":
            self.client.cookies.set(PLAN["session_cookie"], user["session"])
            return
        page = self.client.get("/accounts/login/", name="login form")
        token = TOKEN.search(page.text).group(1)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": user["username"],
                "password": user["password"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {user['username']} → {response.status_code}")

    @task
    def open_a_page(self):
        name, url, _ = random.choices(self.pages, weights=self.weights)[0]
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif "/accounts/login/" in (response.url or ""):
                response.failure("bounced to the login page")


@events.quitting.add_listener
def _exit_code(environment, **_kwargs):
    # The runner reads the numbers from the CSV; the exit code only says locust itself worked.
    environment.process_exit_code = 0
