"""A lost database connection, told apart from the other errors of the database.

The server ends a session when it restarts, when an operator calls ``pg_terminate_backend``,
or when the network between them fails: what the session had not committed is rolled back, so
work that is safe to repeat can simply be done again. The command line says so
(``database_connection_lost``, docs/design/errors.md) and the worker queues such a task again
(``salesledger.worker``). SQLite has no connection to lose.
"""

from __future__ import annotations

# SQLSTATE class 57P: the server ended the session (admin_shutdown, crash_shutdown,
# cannot_connect_now); and what the client library says when the socket is gone.
LOST_STATES = ("57P01", "57P02", "57P03")
LOST_TEXTS = ("terminating connection", "server closed the connection",
              "connection already closed", "the connection is closed",
              "consuming input failed", "connection is lost", "SSL SYSCALL error: EOF")


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (a Django database error) says the connection went away."""
    cause = exc.__cause__ or exc
    if getattr(cause, "sqlstate", None) in LOST_STATES:
        return True
    return connection_lost_in(str(exc))


def connection_lost_in(text: str) -> bool:
    """Whether an error's text (a message, a stored traceback) says the connection went
    away."""
    return any(t in text for t in LOST_TEXTS)
