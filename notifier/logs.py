"""Logging for operators and the one way a recipient is ever mentioned: masked."""

from __future__ import annotations

import logging

from sqlalchemy.engine import make_url

_NOISY_LOGGERS = (
    "python_http_client",
    "urllib3",
    "sendgrid",
    "jieba",
    "apscheduler.executors",
    "markdown_it",  # at DEBUG it traces every block rule: 7,000 lines for one `check`
)


def mask_email(address: str) -> str:
    """`zhang.wei@example.cn` → `z***@e***.cn`: enough to tell people apart, not to mail them."""
    local, sep, domain = address.partition("@")
    if not sep:
        return (address[:1] + "***") if address else "***"
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def mask_url(url: str) -> str:
    """A database URL fit to print: the password, if any, as ***."""
    return make_url(url).render_as_string(hide_password=True)


def configure(verbosity: int) -> None:
    """Set up stderr logging: -q → errors, default → warnings, -v → info, -vv → debug.

    Third-party HTTP loggers stay at WARNING even at -vv: at DEBUG they print the
    Authorization header and every recipient address.
    """
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
