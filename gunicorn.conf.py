"""gunicorn settings for coachapp: `gunicorn -c gunicorn.conf.py app:app` (see docs/deploy.md).

Every value can be changed without editing this file: the environment variables below, or a
command-line option (which wins over this file).
"""

import multiprocessing
import os

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


def pre_fork(server: object, worker: object) -> None:
    """Move what the preloaded app holds (modules, models, templates: about 190,000 objects) out
    of the garbage collector's reach: a full collection in a worker then walks only what its
    requests made, not all of them (300 ms a collection on the dashboard's biggest pages)."""
    import gc

    gc.freeze()
