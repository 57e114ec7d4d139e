"""gunicorn settings for coachapp: `gunicorn -c gunicorn.conf.py app:app` (see docs/deploy.md).

Every value can be changed without editing this file: the environment variables below, or a
command-line option (which wins over this file).
"""

import multiprocessing
import os
import socket
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.http.message import Request
    from gunicorn.workers.base import Worker

bind = os.environ.get("COACHAPP_BIND", "127.0.0.1:8000")

# Processes from the machine's CPUs, and two threads in each: a thread waits while its request
# is at the database, and the other runs. More threads only queue for Python's lock: with 2
# workers on 2 CPUs, 2 threads each saved as fast as 4 with 8 clients, and faster with 32 in
# five of six runs (up to 40 %), on SQLite and PostgreSQL (benchmarks/README.md, "An idle
# evening").
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("COACHAPP_THREADS", "2"))

# Longer than the proxy keeps an idle upstream connection (nginx and Caddy: 60 s or less), so
# the proxy always closes first and never reuses a connection gunicorn has just dropped.
keepalive = int(os.environ.get("COACHAPP_KEEPALIVE", "75"))
# Each worker listens on its own socket and the kernel spreads new connections over them. On one
# shared socket the worker that happens to be awake accepts, so a fixed set of keep-alive
# connections (the proxy's upstream pool, phones on one network) can end up 26 on one worker and
# 6 on the other, whose clients then wait three times as long (benchmarks/README.md,
# "A socket per worker"). Needs gunicorn 24 or later; off for a Unix socket (see on_starting).
# COACHAPP_REUSE_PORT=0 turns it off.
reuse_port = os.environ.get("COACHAPP_REUSE_PORT", "1") != "0"
# A request that takes longer than this is stuck: the worker is replaced.
timeout = int(os.environ.get("COACHAPP_TIMEOUT", "30"))
# On SIGTERM (a deploy, a reboot), workers stop accepting and finish what is in flight first.
graceful_timeout = int(os.environ.get("COACHAPP_GRACEFUL_TIMEOUT", "30"))

# Import the app once in the master: a database it cannot use stops the start at once (with the
# driver's message), and workers fork ready.
preload_app = True

# The app writes its own JSON line per request (coachapp.request_log, logger coachapp.requests)
# with the route rule instead of the URL; gunicorn's access log would repeat it with the URL.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("COACHAPP_GUNICORN_LOGLEVEL", "info")
raw_env = [] if os.environ.get("COACHAPP_LOG_FORMAT") else ["COACHAPP_LOG_FORMAT=json"]

# Behind the TLS proxy on the same machine; set FORWARDED_ALLOW_IPS for a proxy elsewhere.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server: "Arbiter") -> None:
    """Per-worker sockets where they work; and, as without them, refuse to start on an address
    another server listens on: sockets that all set SO_REUSEPORT would share it with the other
    server instead."""
    _reuse_port_only_where_it_works(server)
    if server.cfg.reuse_port:
        for address in server.cfg.address:
            _refuse_if_in_use(server, address)
        # gunicorn's own "Listening at" line is empty: the master holds no socket.
        addresses = ", ".join(f"{host}:{port}" for host, port in server.cfg.address)
        server.log.info("Each worker listens on %s (reuse_port)", addresses)


def on_reload(server: "Arbiter") -> None:
    """A reload (SIGHUP) reads this file again, reuse_port with it."""
    _reuse_port_only_where_it_works(server)


def _reuse_port_only_where_it_works(server: "Arbiter") -> None:
    """For TCP addresses gunicorn binds itself: each worker would replace the others' file of a
    Unix socket, and a socket handed over by systemd or a re-exec, or already held by the master
    (a reload of a server started without reuse_port), is bound without SO_REUSEPORT."""
    handed_over = "LISTEN_FDS" in os.environ or "GUNICORN_FD" in os.environ or server.LISTENERS
    tcp_only = all(isinstance(address, tuple) for address in server.cfg.address)
    if server.cfg.reuse_port and (handed_over or not tcp_only):
        server.cfg.set("reuse_port", False)
        server.log.info("reuse_port is off: it needs TCP addresses gunicorn binds itself")


def _refuse_if_in_use(server: "Arbiter", address: tuple[str, int]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT only
        try:
            probe.bind(address)
        except OSError as error:
            server.log.error("Connection in use: %s:%s (%s)", *address, error.strerror)
            sys.exit(1)


# How many connections each worker holds, by worker slot, in memory that the master creates here
# and the workers share after forking: how a worker knows it holds more than its share. Spread at
# random by the kernel, 32 connections still split 21 / 11 or worse one time in ten.
_connections_by_worker = multiprocessing.Array("i", 256, lock=False)
#: Which slots a living worker has (1), and how many slots were ever given, kept by the master.
#: A reload reads this file again: workers forked before it keep the old ones.
_slot_taken = multiprocessing.Array("b", len(_connections_by_worker), lock=False)
_slots_given = multiprocessing.Value("i", 0, lock=False)


def pre_fork(server: "Arbiter", worker: "Worker") -> None:
    """Give the new worker its slot; and move what the preloaded app holds (modules, models,
    templates: about 190,000 objects) out of the garbage collector's reach: a full collection in
    a worker then walks only what its requests made, not all of them (300 ms a collection on the
    dashboard's biggest pages)."""
    import gc

    _give_slot(server, worker)
    gc.freeze()


def _give_slot(server: "Arbiter", worker: "Worker") -> None:
    """The lowest slot no living worker has (a replaced worker's slot is given again)."""
    taken = {getattr(other, "slot", None) for other in server.WORKERS.values()}
    worker.slot = min(set(range(len(_connections_by_worker))) - taken)  # type: ignore[attr-defined]
    _connections_by_worker[worker.slot] = 0  # type: ignore[attr-defined]
    _slot_taken[worker.slot] = 1  # type: ignore[attr-defined]
    _slots_given.value = max(_slots_given.value, worker.slot + 1)  # type: ignore[attr-defined]


def child_exit(server: "Arbiter", worker: "Worker") -> None:
    # A worker forked before a reload counts in the memory of the file as it was then.
    slot = getattr(worker, "slot", None)
    if slot is not None and _slot_taken[slot]:
        _connections_by_worker[slot] = 0
        _slot_taken[slot] = 0


def pre_request(worker: "Worker", req: "Request") -> None:
    """While this worker holds more than its share of the connections, answer with
    `Connection: close`: the client connects again, and the kernel gives the new connection to
    another worker as often as not (reuse_port). A kept-alive connection never moves by itself,
    and closing connections after a fixed number of requests moves them the wrong way: the
    clients of the faster worker reach that number first (benchmarks/README.md, "A socket per
    worker")."""
    held = getattr(worker, "nr_conns", None)  # the gthread worker's count
    if held is None or not worker.cfg.reuse_port:
        return  # on one shared socket the worker that closed would take the client back
    _connections_by_worker[worker.slot] = held  # type: ignore[attr-defined]
    given = _slots_given.value
    share = sum(_connections_by_worker[:given]) / max(sum(_slot_taken[:given]), 1)
    if held > share + 1:
        req.force_close()
