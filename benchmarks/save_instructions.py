"""Instructions per save, counted by valgrind: a figure that does not move with the machine's load.

On a shared 2-CPU machine the milliseconds of observation_saves.py can move by half between runs
minutes apart (the same commit gave 3.7 and 7.4 ms of CPU per JSON save at one client); counted
instructions move by under one per cent. This runs the app in-process on a fresh SQLite file with
the demo data, signs a demo manager in through the sign-in page, starts a session through the API
and then, under `valgrind --tool=callgrind` with counting switched on only around the loop,
makes --saves requests through Flask's test client, one kind per process:

- `json`: the outbox's save, POST /api/sessions/<uuid>/observations;
- `htmx`: the capture screen's save, POST /sessions/<id>/observations with HX-Request;
- `healthz`: GET /healthz with the same signed-in cookie, the baseline of the same run.

The test client's own work is in every figure alike; the ratio to `/healthz` is printed beside.
--app-dir serves another checkout (e.g. a `git worktree` of the commit before a change) with
this interpreter, so two commits compare in one run.

    .venv/bin/python benchmarks/save_instructions.py [--saves 100] [--app-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

# The same pages as the gunicorn benchmark reads, found the same way.
from observation_saves import AGENT_RE, CHIP_RE

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("json", "htmx", "healthz")
#: Requests made before counting starts: templates, statement caches and the pool warm up.
WARM_UP = 30
CSRF_META_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
USER_ID_RE = re.compile(r'name="user_id" value="(\d+)">\s*<span class="person-name">Maria')
COLLECTED_RE = re.compile(r"Collected : (\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=100, help="requests counted per kind (100)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="json,htmx,healthz (all)")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.saves)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("needs valgrind (Debian's package valgrind)")
    kinds = [k for k in args.kinds.split(",") if k]
    if not set(kinds) <= set(KINDS):
        sys.exit(f"--kinds takes {', '.join(KINDS)}")
    with tempfile.TemporaryDirectory(prefix="save-instructions-") as folder:
        work = Path(folder)
        pristine = work / "pristine.sqlite3"
        env = {
            **os.environ,
            "COACHAPP_DATABASE_URL": f"sqlite:///{pristine}",
            "COACHAPP_DEMO": "1",
            "COACHAPP_SECRET_KEY": "save-instructions-" + "x" * 32,
            "COACHAPP_LOG_FORMAT": "off",
        }
        for command in (["init"], ["demo-data"]):
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", *command],
                cwd=args.app_dir,
                env=env,
                check=True,
                capture_output=True,
            )
        counted = {kind: count(kind, args, env, work, pristine) for kind in kinds}
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=args.app_dir, capture_output=True, text=True
    ).stdout.strip()
    print(f"{args.app_dir} ({revision or 'not a git checkout'}), {args.saves} requests each")
    print("| request | instructions per request | ratio to /healthz |")
    print("|---|---:|---:|")
    for kind, total in counted.items():
        per = total / args.saves
        ratio = f"{total / counted['healthz']:.2f}" if "healthz" in counted else "-"
        print(f"| {kind} | {per:,.0f} | {ratio} |")


def count(
    kind: str, args: argparse.Namespace, env: dict[str, str], work: Path, pristine: Path
) -> int:
    """Instructions of `args.saves` requests of one kind, in a process of their own."""
    database = work / f"{kind}.sqlite3"
    shutil.copyfile(pristine, database)
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={work}/callgrind.%p.out",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            "--saves",
            str(args.saves),
        ],
        cwd=args.app_dir,
        env={
            **env,
            "COACHAPP_DATABASE_URL": f"sqlite:///{database}",
            "PYTHONPATH": str(args.app_dir),
        },
        capture_output=True,
        text=True,
        timeout=1800,
    )
    found = COLLECTED_RE.search(done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"{kind}: the counted run failed\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return int(found.group(1))


def run_child(kind: str, saves: int) -> None:
    """Inside valgrind: sign in, warm up, then count `saves` requests of `kind`."""
    import coachapp
    from coachapp import create_app

    assert Path(coachapp.__file__).is_relative_to(Path.cwd()), "not the --app-dir checkout"

    app = create_app()
    client = app.test_client()
    signin = client.get("/signin").get_data(as_text=True)
    token, manager = CSRF_META_RE.search(signin), USER_ID_RE.search(signin)
    assert token and manager, "no demo sign-in for Maria on the sign-in page"
    answer = client.post("/signin/demo", data={"user_id": manager[1], "csrf_token": token[1]})
    assert answer.status_code == 303, answer.status_code
    today = client.get("/today").get_data(as_text=True)
    token, agent = CSRF_META_RE.search(today), AGENT_RE.search(today)
    assert token and agent, "no agent on Today"
    headers = {"X-CSRFToken": token[1], "Accept": "application/json"}
    started = client.post(
        "/api/sessions",
        headers=headers,
        json={"client_uuid": str(uuid.uuid4()), "agent_id": int(agent[1])},
    )
    assert started.status_code in (200, 201), started.status_code
    shadow = started.get_json()["session"]
    page = client.get(f"/sessions/{shadow['id']}").get_data(as_text=True)
    chips = [int(found) for found in CHIP_RE.findall(page)]
    assert chips, "no behaviour chips on the capture screen"

    def request(n: int) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        behaviour = chips[n % len(chips)]
        if kind == "json":
            answer = client.post(
                f"/api/sessions/{shadow['client_uuid']}/observations",
                headers=headers,
                json={
                    "kind": "strength",
                    "behaviour_id": behaviour,
                    "client_uuid": str(uuid.uuid4()),
                    "occurred_at": now,
                },
            )
            assert answer.status_code == 201, answer.status_code
        elif kind == "htmx":
            answer = client.post(
                f"/sessions/{shadow['id']}/observations",
                headers={"HX-Request": "true", "X-CSRFToken": token[1]},
                data={
                    "kind": "strength",
                    "behaviour_id": str(behaviour),
                    "note": "",
                    "coached": "",
                    "occurred_at": now,
                    "client_uuid": str(uuid.uuid4()),
                },
            )
            assert answer.status_code == 200, answer.status_code
        else:
            assert client.get("/healthz").status_code == 200

    for n in range(WARM_UP):
        request(n)
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    for n in range(saves):
        request(n)
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)


if __name__ == "__main__":
    main()
