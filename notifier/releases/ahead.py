"""Judge ahead: the comparisons and verdicts a site build will ask its cache for, computed on
every core before the build asks.

A history with no cache entries yet (a first build, or the first after notices or the rules
changed) is parsed, compared and judged release by release: seconds of one core while the
others wait. Before the build reads them, the missing entries are computed in worker processes,
each taking a run of consecutive releases (neighbours share a parsed text), and written to the
cache as the build would write them. The workers call the very functions the build calls, and
whatever they fail to store the build computes itself, so the site never depends on them.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from notifier.processes import may_fork, usable_cores
from notifier.releases.history import History, Release
from notifier.releases.judgement_cache import JudgementCache
from notifier.releases.verdicts import judged, verdict_source
from notifier.statement.materiality import RuleSet
from notifier.statement.wording import load_dictionary

log = logging.getLogger(__name__)

JUDGED, COMPARED, INERT = "judged", "compared", "inert"
Task = tuple[str, int, int]  # (kind, old, new): places in `History.releases` (INERT: new alone)
PER_WORKER = 8  # fewer missing entries than this per core are not worth a process

# What the workers read, set before they are forked (they inherit it, nothing is pickled).
_SHARED: list[tuple[History, RuleSet, JudgementCache]] = []


def judge_ahead(
    history: History,
    rules: RuleSet,
    stored: JudgementCache,
    comparisons: Sequence[tuple[Release, Release]] = (),
) -> int:
    """Compute the entries `stored` lacks for every release's verdict against the one before
    it, its text made inert and for `comparisons` (old, new), on every core; how many were
    computed."""
    if usable_cores() < 2 or not may_fork():
        return 0  # the build computes them itself, as it always can
    tasks = _missing(history, rules, stored, comparisons)
    workers = min(usable_cores(), len(tasks) // PER_WORKER)
    if workers < 2:
        return 0
    load_dictionary()  # once here, shared by the workers
    size = len(tasks)
    runs = [tasks[n * size // workers : (n + 1) * size // workers] for n in range(workers)]
    _SHARED[:] = [(history, rules, stored)]
    try:
        context = multiprocessing.get_context("fork")  # the history is inherited, not copied over
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            return sum(pool.map(_work, runs))
    except Exception as error:  # a worker's failure is the build's to meet, with its context
        log.debug("judging ahead stopped: %s", error)
        return 0
    finally:
        _SHARED.clear()


def _missing(
    history: History,
    rules: RuleSet,
    stored: JudgementCache,
    comparisons: Sequence[tuple[Release, Release]],
) -> list[Task]:
    """The tasks whose entries are not stored, by their older release: a run of them reads
    few texts beyond its own releases."""
    place = {release.id: index for index, release in enumerate(history.releases)}
    tasks: set[Task] = set()
    for release in history.releases:
        if not stored.has_inert_body(release):
            tasks.add((INERT, place[release.id], place[release.id]))
        previous = history.previous(release)
        if previous is None:
            continue
        pair = (place[previous.id], place[release.id])
        if verdict_source(history, release) is None:  # judged on its own
            if not stored.has_judged(previous, release, rules):
                tasks.add((JUDGED, *pair))
        elif not stored.has_compared(previous, release):
            tasks.add((COMPARED, *pair))
    for old, new in comparisons:
        if not stored.has_compared(old, new):
            tasks.add((COMPARED, place[old.id], place[new.id]))
    return sorted(tasks, key=lambda task: (task[1], task[2], task[0]))


def _work(tasks: Sequence[Task]) -> int:
    history, rules, stored = _SHARED[0]
    releases = history.releases
    for kind, old, new in tasks:
        if kind == JUDGED:
            judged(releases[old], releases[new], rules, stored)
        elif kind == INERT:
            stored.inert_body(releases[new])
        else:
            stored.compared(releases[old], releases[new])
    return len(tasks)
