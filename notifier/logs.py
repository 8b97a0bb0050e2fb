"""Logging for operators and the one way a recipient is ever mentioned: masked."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

_NOISY_LOGGERS = (
    "python_http_client",
    "urllib3",
    "sendgrid",
    "jieba",
    "apscheduler.executors",
    "markdown_it",  # at DEBUG it traces every block rule: 7,000 lines for one `check`
    "alembic.runtime.plugins",  # "setup plugin …" seven times per database, at INFO
)
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def mask_email(address: str) -> str:
    """`zhang.wei@example.cn` → `z***@e***.cn`: enough to tell people apart, not to mail them."""
    local, sep, domain = address.partition("@")
    if not sep:
        return (address[:1] + "***") if address else "***"
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def mask_url(url: str) -> str:
    """A database URL fit to print: the password, if any, as *** (libpq also takes one in the
    query string: `?password=…`, `?sslpassword=…`)."""
    from sqlalchemy.engine import make_url  # only here: `notices --help` must not load it

    parsed = make_url(url)
    query = {
        key: "***" if key.lower() in _SECRET_PARAMETERS else value
        for key, value in parsed.query.items()
    }
    return parsed.set(query=query).render_as_string(hide_password=True)


_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


class _Stderr(logging.Handler):
    """Writes to whatever `sys.stderr` is when a record comes (a test runner may swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def configure(verbosity: int) -> None:
    """Set the log level: -q → errors, default → warnings, -v → info, -vv → debug.

    Third-party HTTP loggers stay at WARNING even at -vv: at DEBUG they print the
    Authorization header and every recipient address.
    """
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.getLogger().setLevel(level)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


@contextlib.contextmanager
def to_stderr(verbosity: int) -> Iterator[None]:
    """Log to stderr at `verbosity` while a command runs; afterwards every level is as it was,
    so a second run in the same process logs once, at its own level."""
    loggers = [logging.getLogger(), *map(logging.getLogger, _NOISY_LOGGERS)]
    levels = [logger.level for logger in loggers]
    handler = _Stderr()
    handler.setFormatter(logging.Formatter(_FORMAT))
    loggers[0].addHandler(handler)
    configure(verbosity)
    try:
        yield
    finally:
        loggers[0].removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
