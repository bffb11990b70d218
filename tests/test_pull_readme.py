"""The README's "Getting the export" works as written: its commands run against the fake
Intercom and Zendesk APIs, with only --base-url added (and the invoices it names provided)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests import pull_months as pm
from tests.conftest import REPO, run_cli
from tests.pull_fakes import serve

VALUES = {"INTERCOM_TOKEN": pm.INTERCOM_TOKEN, "ZENDESK_EMAIL": pm.ZENDESK_EMAIL,
          "ZENDESK_API_TOKEN": pm.ZENDESK_TOKEN}


def section_blocks() -> list[list[str]]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Getting the export", 1)[1].split("\n## ", 1)[0]
    return [block.splitlines() for block in re.findall(r"```sh\n(.*?)\n```", section, re.S)]


def test_the_readme_commands_pull_and_audit_against_the_fake_apis(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_PULL_TIME_SCALE", "0.001")
    monkeypatch.chdir(tmp_path)
    served, _ = pm.intercom_month(40)
    fakes = {"intercom": serve(pm.fake_intercom(served)),
             "zendesk": serve(pm.fake_zendesk(pm.zendesk_month(20)))}
    billed = {"intercom": pm.INTERCOM_BILLED, "zendesk": pm.ZENDESK_DIR / "billed.csv"}
    blocks = section_blocks()
    assert len(blocks) == 2
    outputs = []
    try:
        for lines in blocks:
            vendor = "intercom" if "intercom" in lines[1] else "zendesk"
            exported = re.findall(r"\b([A-Z_]+)=", lines[0].split("#")[0])
            assert lines[0].startswith("export ") and exported
            for name in exported:  # the variables the README names are the ones read
                monkeypatch.setenv(name, VALUES[name])
            for line in lines[1:]:
                args = shlex.split(line)
                assert args[0] == "auditor"
                if args[1] == "pull":
                    args += ["--base-url", fakes[vendor][1]]
                else:
                    invoice = args[args.index("--billed") + 1]
                    shutil.copy(billed[vendor], tmp_path / invoice)
                result = run_cli(args[1:])
                assert result.exit_code in (0, 1), (line, result.output)
                outputs.append(result.output)
            for name in exported:
                monkeypatch.delenv(name)
    finally:
        for server, _ in fakes.values():
            server.shutdown()
    assert (tmp_path / "report" / "findings.csv").exists()
    assert (tmp_path / "zendesk_report" / "findings.csv").exists()
    pm.assert_no_secret(tmp_path, texts=tuple(outputs))
