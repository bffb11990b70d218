"""Smoke test: each benchmark script runs end to end at a tiny size and prints its ratio.

Only that the scripts work from a fresh clone is checked here; no timing is asserted (the
figures at this size mean nothing). Each runs in its own process from a temporary folder,
with its generated data and outputs there too, so the source tree is left alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

RATIO = r"\d+\.\d\dx \(target <= 3x\)"


@pytest.mark.parametrize("script, conversations, expected", [
    ("bench_audit.py", 300, [r"^ratio audit / limit: \d+\.\d\dx \(target <= 2x\)$",
                             rf"^ratio audit / baseline: {RATIO}$",
                             r"^audit by stage \(median run\): reading and validating",
                             r"^audit peak memory: \d+\.\d\d GiB",
                             r"^statuses identical to the limit: True",
                             r"^statuses identical to the baseline: True$"]),
    ("bench_intercom_ingest.py", 50, [rf"^ratio ingest / read_json: {RATIO}$"]),
])
def test_benchmark_runs_at_a_tiny_size(tmp_path: Path, script: str, conversations: int,
                                       expected: list[str]) -> None:
    # The repository first on the path: the children (and the audit they start) run this tree's code.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), "--conversations", str(conversations),
         "--repeats", "1", "--work", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for pattern in expected:
        assert re.search(pattern, result.stdout, re.MULTILINE), (pattern, result.stdout)
    assert (tmp_path / "data").is_dir()  # the data went to --work, not into benchmarks/
