"""docs/legal-process.md is the project's own account of the law it serves: every section the
code, tests and published schemas cite exists, no file cites a document outside the
repository, every repository path a file mentions exists, and every escalation kind a clock of
the freeze-limit consultation or a Rule 180 notice produces is explained there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from schemas.escalations import EscalationKind

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "legal-process.md"
OUTSIDE_BRIEF = "DOMAIN" + ".md"  # spelled apart so this file does not cite it either
CITATION = re.compile(r"docs/legal-process\.md,\s*['\"]([^'\"]+)['\"]")
REPO_PATH = re.compile(
    r"(?<![\w/.-])((?:workflows|schemas|tracefreeze|activities|docs|tests|bench|deploy)"
    r"/[\w/.-]*\.(?:py|md|toml|yaml|json|sh))"
)


def tracked_text_files() -> dict[str, str]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    out = {}
    for name in names:
        if name.startswith("tests/workflows/histories/"):
            continue  # recorded payloads, not prose
        try:
            out[name] = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
    return out


def headings() -> set[str]:
    return {
        line.lstrip("#").strip()
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    }


def test_every_cited_section_exists() -> None:
    known = headings()
    cited: dict[str, set[str]] = {}
    for name, text in tracked_text_files().items():
        flat = " ".join(text.replace('"""', " ").split())
        for section in CITATION.findall(flat):
            cited.setdefault(section, set()).add(name)
    assert cited, "nothing cites docs/legal-process.md"
    missing = {s: sorted(files) for s, files in cited.items() if s not in known}
    assert missing == {}, f"sections cited but not in docs/legal-process.md: {missing}"


def test_no_file_cites_a_document_outside_the_repository() -> None:
    citing = sorted(n for n, text in tracked_text_files().items() if OUTSIDE_BRIEF in text)
    assert citing == []


def test_every_repository_path_mentioned_exists() -> None:
    dead = {
        ref.rstrip("."): name
        for name, text in tracked_text_files().items()
        for ref in REPO_PATH.findall(text)
        if "*" not in ref and not (ROOT / ref.rstrip(".")).exists()
    }
    assert dead == {}, f"references to files that do not exist: {dead}"


def test_the_freeze_limit_and_rule_180_events_are_explained() -> None:
    text = DOC.read_text(encoding="utf-8")
    prefixes = ("freeze_", "channel_", "domestic_")
    kinds = [k.value for k in EscalationKind if k.value.startswith(prefixes)]
    assert len(kinds) == 9
    assert [k for k in kinds if f"`{k}`" not in text] == []
