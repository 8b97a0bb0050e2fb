"""When work may be split over forked processes: the cores we may use, and whether forking is
safe here."""

from __future__ import annotations

import os
import threading


def usable_cores() -> int:
    """The cores this process may run on (a container's limit, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def may_fork() -> bool:
    """Fork only a process with no other thread (the scheduler's jobs and the site preview run
    in threads, whose locks a child would inherit held): in practice, a command run once."""
    import multiprocessing  # not on every command's start-up: only forking needs it

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
