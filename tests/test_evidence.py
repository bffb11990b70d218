"""The evidence pack: personal data redacted from every file (tests/pii/corpus.toml), ordinary
text kept, pseudonyms stable, the letter's template replaceable, the zip reproducible."""

from __future__ import annotations

import html
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, write_csv
from tests.intercom_builder import conversation, write_jsonl

CORPUS = tomllib.loads((REPO / "tests" / "pii" / "corpus.toml").read_text())["messages"]
CUSTOMER = {"type": "user", "id": "user-8841", "name": "Rosalind Achterberg",
            "email": "rosalind.a@example.org"}
AGENT = {"type": "admin", "id": "admin-7", "name": "Dana Whitfield", "email": "dana@larkspur.example",
         "from_ai_agent": False, "is_ai_answer": False}


def _export(folder: Path) -> tuple[Path, Path]:
    """One disputed conversation per corpus message: the customer writes it, Fin answers, the
    agent takes over (greeting the customer by name), Fin closes."""
    records = []
    for n, message in enumerate(CORPUS):
        record = conversation(f"c{n}", [
            (0, "customer", "comment", message["text"]),
            (1, "fin", "comment", "Here is how to do that."),
            (5, "agent", "comment", "Hi Rosalind, Dana here: " + message["text"]),
            (9, "fin", "comment", "Is there anything else I can help with?"),
        ], customer="8841", day=n % 20)
        for part in [record["source"], *record["conversation_parts"]["conversation_parts"]]:
            if part["author"]["type"] == "user":
                part["author"] = dict(CUSTOMER)
            elif part["author"]["type"] == "admin":
                part["author"] = dict(AGENT)
        records.append(record)
    export = write_jsonl(folder / "export.jsonl", records)
    billed = write_csv(folder / "billed.csv", ["conversation_id", "billed_at", "amount"],
                       [[f"c{n}", f"2026-10-{n % 20 + 2:02d}T10:00:00Z", "0.99"]
                        for n in range(len(CORPUS))])
    return export, billed


def _audit(tmp_path: Path, *options: str) -> Path:
    export, billed = _export(tmp_path)
    pack = tmp_path / "pack"
    result = run_cli(["audit", str(export), "--billed", str(billed), "--out",
                      str(tmp_path / "out"), "--evidence", str(pack), *options])
    assert result.exit_code == 1, result.output
    return pack


def _texts(pack: Path) -> dict[str, str]:
    """Every file of the pack folder and of its zip, as text."""
    texts = {str(p.relative_to(pack)): p.read_text(encoding="utf-8")
             for p in pack.rglob("*") if p.is_file()}
    with zipfile.ZipFile(pack.with_name(pack.name + ".zip")) as archive:
        texts.update({f"zip:{n}": archive.read(n).decode("utf-8") for n in archive.namelist()})
    return texts


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _audit(tmp_path_factory.mktemp("pii"))


def test_pack_has_its_files(pack: Path) -> None:
    names = {str(p.relative_to(pack)) for p in pack.rglob("*") if p.is_file()}
    assert {"README.md", "dispute-letter.md", "dispute-letter.html", "index.csv", "index.json",
            "index.html"} <= names
    assert {f"conversations/c{n}.html" for n in range(len(CORPUS))} <= names
    with zipfile.ZipFile(pack.with_name("pack.zip")) as archive:
        assert sorted(archive.namelist()) == sorted(f"pack/{n}" for n in names)


@pytest.mark.parametrize("message", CORPUS, ids=[m["text"][:30] for m in CORPUS])
def test_no_personal_data_leaks_into_any_file(pack: Path, message: dict) -> None:
    for name, text in _texts(pack).items():
        plain = html.unescape(text)
        # Numbers written another way: each run of digits and separators, digits only.
        runs = [re.sub(r"\D", "", r) for r in re.findall(r"\d[\d .()/-]*\d", plain)]
        for secret in message.get("secrets", []):
            assert secret not in plain, f"{secret!r} in {name}"
            if len(numbers := re.sub(r"\D", "", secret)) >= 6:
                assert not [r for r in runs if numbers in r], f"{secret!r} (digits) in {name}"


@pytest.mark.parametrize("message", [m for m in CORPUS if m.get("keep")],
                         ids=[m["text"][:30] for m in CORPUS if m.get("keep")])
def test_ordinary_text_survives(pack: Path, message: dict) -> None:
    page = html.unescape((pack / f"conversations/c{CORPUS.index(message)}.html").read_text())
    for kept in message["keep"]:
        assert kept in page


def test_customer_ids_are_stable_pseudonyms_and_conversation_ids_stay(pack: Path) -> None:
    texts = _texts(pack)
    assert not [n for n, t in texts.items() if "user-8841" in t or "Whitfield" in t]
    pseudonyms = set(re.findall(r"customer-[0-9a-f]{12}", texts["index.csv"]))
    assert len(pseudonyms) == 1  # one customer, one pseudonym on every line
    assert pseudonyms.pop() in texts["conversations/c3.html"]
    assert all(f"c{n}" in texts["index.csv"] for n in range(len(CORPUS)))
    assert "**Redacted.**" in texts["README.md"]


def test_grounding_events_are_highlighted(pack: Path) -> None:
    page = (pack / "conversations" / "c0.html").read_text()
    grounded = re.findall(r'<li class="event role-(\w+) ground">', page)
    assert "human_agent" in grounded  # the agent's reply grounds human_takeover
    assert "Grounds: human_takeover" in page


def test_no_redact_keeps_the_text_and_says_so(tmp_path: Path) -> None:
    pack = _audit(tmp_path, "--no-redact")
    texts = _texts(pack)
    assert "rosalind.a@example.org" in html.unescape(texts["conversations/c0.html"])
    assert "**Not redacted**" in texts["README.md"]


def test_letter_template_is_replaceable(tmp_path: Path) -> None:
    template = tmp_path / "ours.md"
    template.write_text("Dear {{ vendor.name }}: credit {{ credit_requested|usd }} for "
                        "{{ disputed.items }} items; first: {{ reasons_first[0].code }}.\n")
    pack = _audit(tmp_path, "--letter-template", str(template))
    assert (pack / "dispute-letter.md").read_text() == (
        f"Dear Intercom: credit ${0.99 * len(CORPUS):.2f} for {len(CORPUS)} items; "
        "first: human_takeover.\n")
    assert "<table>" in (pack / "dispute-letter.html").read_text()  # the built-in one


def test_bad_letter_template_is_one_line_error(tmp_path: Path) -> None:
    template = tmp_path / "bad.md"
    template.write_text("{{ no_such_field }}")
    export, billed = _export(tmp_path)
    result = run_cli(["audit", str(export), "--billed", str(billed), "--evidence",
                      str(tmp_path / "p"), "--letter-template", str(template)])
    assert result.exit_code == 2
    assert "no_such_field" in result.output and "docs/reports.md" in result.output


def test_no_redact_without_evidence_is_a_usage_error(tmp_path: Path) -> None:
    export, billed = _export(tmp_path)
    result = run_cli(["audit", str(export), "--billed", str(billed), "--no-redact"])
    assert result.exit_code == 2 and "--evidence" in result.output


def test_same_inputs_same_pack_bytes(tmp_path: Path) -> None:
    pack = _audit(tmp_path)
    zipped, page = pack.with_name("pack.zip").read_bytes(), (tmp_path / "out/report.html").read_bytes()
    _audit(tmp_path)  # again, over the first run's pack
    assert pack.with_name("pack.zip").read_bytes() == zipped
    assert (tmp_path / "out" / "report.html").read_bytes() == page


def test_an_evidence_folder_that_is_not_a_pack_is_left_alone(tmp_path: Path) -> None:
    export, billed = _export(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    result = run_cli(["audit", str(export), "--billed", str(billed), "--evidence",
                      str(tmp_path / "mine")])
    assert result.exit_code == 2 and "is not an evidence pack" in result.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_ids_that_are_emails_do_not_leak(tmp_path: Path) -> None:
    from tests.conftest import write_events

    events = write_events(tmp_path / "events.csv", [
        ["t1", "2026-10-02T10:00:00Z", "customer", "ava.k@example.com", "message", "Refund?"],
        ["t1", "2026-10-02T10:01:00Z", "ai_agent", "bot", "message", "Refunds take 5 days."],
        ["t1", "2026-10-02T10:05:00Z", "human_agent", "maya@larkspur.example", "message", "Done."],
    ])
    billed = write_csv(tmp_path / "billed.csv", ["conversation_id"], [["t1"]])
    result = run_cli(["audit", str(events), "--format", "canonical", "--billed", str(billed),
                      "--evidence", str(tmp_path / "pack")])
    assert result.exit_code == 1, result.output
    texts = _texts(tmp_path / "pack")
    assert not [n for n, t in texts.items() if "@example.com" in t or "maya@" in t]
