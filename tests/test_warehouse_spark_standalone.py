"""Spark in standalone mode: a master and two workers on loopback, started here and stopped
after, so the distributed path (shuffles between executors, checkpoints on workers) gives the
same facts, verdicts and findings as DuckDB on the edge-case month. (The sample months run on
Spark local and PostgreSQL: the same SQL; CI time is kept for the edge cases here.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_warehouse_engines import MONTHS, SPARK_TEST_CONFIG, SPARK_TEST_JVM, _spark_missing
from tests.warehouse_support import all_differences, portable_month

pytestmark = pytest.mark.skipif(_spark_missing() is not None, reason=str(_spark_missing()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(spark_home: Path, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(spark_home / "bin" / "spark-class"), *args], env=env,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pyspark

    home, logs = Path(pyspark.__file__).parent, tmp_path_factory.mktemp("spark-cluster")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_DAEMON_JAVA_OPTS": SPARK_TEST_JVM,
           "PYSPARK_PYTHON": sys.executable, "SPARK_WORKER_DIR": str(logs / "work")}
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    processes = [_start(home, env, logs / "master.log", "org.apache.spark.deploy.master.Master",
                        "--host", "127.0.0.1", "--port", str(port),
                        "--webui-port", str(_free_port()))]
    try:
        for n in range(2):
            processes.append(_start(home, env, logs / f"worker{n}.log",
                                    "org.apache.spark.deploy.worker.Worker", "--host",
                                    "127.0.0.1", "--cores", "1", "--memory", "1g",
                                    "--webui-port", str(_free_port()), url))
        deadline = time.monotonic() + 180
        while (logs / "master.log").read_text(errors="replace").count("Registering worker") < 2:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                pytest.fail("the Spark master and workers did not start: "
                            + (logs / "master.log").read_text(errors="replace")[-2000:])
            time.sleep(1)
        yield url
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _block_managers(target: object) -> int:
    return int(target.spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size())  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def on_cluster(cluster: str) -> Iterator[object]:
    """One driver session on the cluster, its executors registered, for every month."""
    from auditor.engines.spark import SparkEngine
    from auditor.warehouse import dialects

    target = SparkEngine.start(cluster, **SPARK_TEST_CONFIG, **{
        "spark.executor.memory": "768m", "spark.executor.cores": "1", "spark.cores.max": "2",
        "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"})
    try:
        for text in dialects.preamble("spark"):
            target.execute(text)
        deadline = time.monotonic() + 120
        while _block_managers(target) < 3:  # the driver and an executor on each worker
            assert time.monotonic() < deadline, "the executors did not register"
            time.sleep(1)
        yield target
    finally:
        target.close()


@pytest.mark.parametrize("month", ["edge"])
def test_standalone_cluster_equals_duckdb(month: str, on_cluster: object, tmp_path: Path) -> None:
    local = MONTHS[month](tmp_path)
    try:
        assert all_differences(local, on_cluster, portable_month(local, on_cluster)) == {}
    finally:
        local.con.close()
