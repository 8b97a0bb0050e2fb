"""Benchmark how fast the `notices` command starts: `--help`, and `diff` on the demo sandbox.

The demo sandbox (the seed as the first release, the example amendment committed on main) is
built once in a temporary folder. Then, interleaved in one loop, each run times three processes
with the same interpreter: `python -c pass` (the floor every Python command pays),
`python -m notifier --help`, and `python -m notifier diff` in the sandbox (the default A/B: the
amendment against the seed). Prints the median wall time of each and its ratio to
`python -c pass`. Targets: `--help` ≤ 10×, `diff` ≤ 20×.

    .venv/bin/python bench/cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from notifier.demo.sandbox import prepare

TARGETS = {"notices --help": 10.0, "notices diff": 20.0}


def wall_ms(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall time of one process, in milliseconds; it must succeed."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True)
    elapsed = (time.perf_counter() - start) * 1000
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    with tempfile.TemporaryDirectory() as folder:
        sandbox = prepare(Path(folder, "demo"), date.today(), say=lambda _: None).repo
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "notices --help": [sys.executable, "-m", "notifier", "--help"],
            "notices diff": [sys.executable, "-m", "notifier", "diff"],
        }
        for command in commands.values():  # warm the file cache and the bytecode
            wall_ms(command, sandbox, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(wall_ms(command, sandbox, env))
    floor = statistics.median(times["python -c pass"])
    header = f"{'command':<16} {'median ms':>9} {'× python -c pass':>16} {'target':>7}"
    print(header)
    print("-" * len(header))
    for name, measured in times.items():
        median = statistics.median(measured)
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if median / floor <= target else "NOT met")
        shown = f"≤ {target:.0f}×" if target else ""
        print(f"{name:<16} {median:>9.1f} {median / floor:>16.1f} {shown:>7} {verdict}")
    print(f"\n{args.runs} interleaved runs each; × = median wall time / median of python -c pass.")


if __name__ == "__main__":
    main()
