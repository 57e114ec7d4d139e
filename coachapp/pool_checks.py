"""A pooled database connection is checked before a request uses it, without a round trip while
the server is in steady use.

SQLAlchemy's pool_pre_ping sends a statement to the server every time a request takes a
connection from the pool: on PostgreSQL one round trip of the seven in an entry's save, and a
hand-over of Python's lock between the worker's threads each time. What pre-ping guards against
shows on the connection's socket: a server that ended the connection (a restart, a failover,
pg_terminate_backend, idle_session_timeout) sends its reason and closes, so the socket of an
idle connection is readable. Here a connection back from the pool is pinged only when its
socket has something to read, or when it has lain idle longer than IDLE_PING_SECONDS (where a
connection can vanish silently: a firewall or NAT forgetting the flow sends nothing). A failed
ping discards the connection and the pool opens another (DisconnectionError), as pre-ping does.

SQLite has no socket and no server to lose: its connections are not checked.
"""

import select
import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.pool import ConnectionPoolEntry, Pool

#: Idle longer than this, a connection is pinged before use whatever its socket shows.
IDLE_PING_SECONDS = 30.0
_IDLE_SINCE = "coachapp_idle_since"


def install() -> None:
    """Check every pool's connections from now on (once per process, whatever the apps)."""
    if not event.contains(Pool, "checkout", _check_before_use):
        event.listen(Pool, "checkin", _note_idle_since)
        event.listen(Pool, "checkout", _check_before_use)


def _note_idle_since(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    if dbapi_connection is not None:  # None when the connection was invalidated
        record.info[_IDLE_SINCE] = time.monotonic()


def _check_before_use(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    idle_since = record.info.get(_IDLE_SINCE)
    fileno = getattr(dbapi_connection, "fileno", None)
    if idle_since is None or fileno is None:  # just opened, or no socket (SQLite)
        return
    try:
        if time.monotonic() - idle_since > IDLE_PING_SECONDS or _readable(fileno()):
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
    except Exception as error:  # whatever the driver raises for a dead connection
        raise exc.DisconnectionError(f"pooled connection failed its check: {error}") from error


def _readable(fd: int) -> bool:
    """Whether the server sent anything on an idle connection: unasked, it only speaks to leave."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
