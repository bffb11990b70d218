"""Mutated Intercom and Zendesk files fed to the ingesters: whatever the bytes, the answer is a
result or a one-line error with exit code 2, never a traceback or an internal error.

Mutations are byte-level (flip, delete, insert, truncate, splice in JSON tokens), seeded from
small valid exports; examples are derandomized so CI is repeatable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import zendesk_builder as zd
from tests.conftest import REPO, run_cli

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOKENS = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"null", b"true", b"0", b"-1", b"1e309",
          b'"id"', b'{"id": {}}', b"\n", b"\x00", b"\xff\xfe", "é".encode(), b"\\u0000"]
INTERCOM_SEED = (REPO / "tests" / "fixtures" / "intercom" / "api-2.14.jsonl").read_bytes()
STEPS = [(0, "customer", "comment", "My parcel is late"), (1, "ai", "comment", "It ships today."),
         (5, "customer", "comment", "thanks")]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "token"]))
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "truncate":
            del data[at:]
        else:
            data[at:at] = draw(st.sampled_from(TOKENS))
    return bytes(data)


def assert_clean(args: list[str]) -> None:
    result = run_cli(args)
    assert result.exit_code in (0, 1, 2), result.output
    assert "internal error" not in result.output, result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, \
            result.output


@FUZZ
@given(data=mutated(INTERCOM_SEED))
def test_mutated_intercom_export_never_breaks_the_audit(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "export.jsonl"
        export.write_bytes(data)
        assert_clean(["audit", str(export), "--format", "intercom", "--billed-from-labels"])


def _zendesk_seed() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        export = zd.api_export(Path(folder) / "zd", 41, STEPS)
        return {p.name: p.read_bytes() for p in sorted(export.iterdir())}


ZENDESK_SEED = _zendesk_seed()


@FUZZ
@given(name=st.sampled_from(sorted(ZENDESK_SEED)), data=st.data())
def test_mutated_zendesk_export_never_breaks_the_audit(name: str, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "zd"
        export.mkdir()
        for file, content in ZENDESK_SEED.items():
            (export / file).write_bytes(data.draw(mutated(content)) if file == name else content)
        assert_clean(["audit", str(export), "--format", "zendesk", "--billed-count", "1",
                      "--vendor", "zendesk-ai-agents"])
