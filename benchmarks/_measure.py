"""Measuring helpers shared by the benchmarks: wall time and peak memory of a child process."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def run_child(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """(seconds, peak RSS in bytes, stderr) of one child process; exits if it fails
    unexpectedly."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert process.stderr is not None
    errors = process.stderr.read().decode(errors="replace")  # read all first: no full pipe
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1 = the audit found disputes, which is expected
        sys.exit(f"{argv[0]} failed ({code}): {errors}")
    return elapsed, usage.ru_maxrss * 1024, errors  # ru_maxrss is in KiB on Linux


def median_time(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"
