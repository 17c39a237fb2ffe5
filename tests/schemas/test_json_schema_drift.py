"""The committed JSON Schemas are exactly what the models produce."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from schemas.export import EXPORTS, JSON_DIR, main, render_all

REGENERATE = "schema drift: run `python -m schemas.export` and commit schemas/json/"


def test_every_schema_is_committed() -> None:
    committed = sorted(p.name for p in JSON_DIR.glob("*.schema.json"))
    assert committed == sorted(render_all()), REGENERATE


@pytest.mark.parametrize("name", sorted(e.filename for e in EXPORTS))
def test_committed_schema_matches_models(name: str) -> None:
    path = JSON_DIR / name
    assert path.exists(), f"{name} missing; {REGENERATE}"
    assert path.read_text(encoding="utf-8") == render_all()[name], f"{name}: {REGENERATE}"


def test_output_is_stable_and_identified() -> None:
    first, second = render_all(), render_all()
    assert first == second
    for name, text in first.items():
        assert text.endswith("}\n")
        doc = json.loads(text)
        assert text == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert doc["$id"].endswith(name.removesuffix(".schema.json"))
        assert doc["title"]
        jsonschema.Draft202012Validator.check_schema(doc)


def test_state_answer_schema_requires_the_discriminator() -> None:
    doc = json.loads(render_all()["state-answer.schema.json"])
    for variant in ("Acknowledgement", "ExecutionReport", "NoAssetsReport"):
        assert "answer_type" in doc["$defs"][variant]["required"], variant


def test_check_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import schemas.export as export

    for name, text in render_all().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "close-request.schema.json").write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(export, "JSON_DIR", tmp_path)
    lines: list[str] = []
    assert main(["--check"], out=lines.append) == 1
    assert "drifted: schemas/json/close-request.schema.json" in lines
    assert len([line for line in lines if line.startswith("drifted:")]) == 1


def test_check_reports_asyncapi_answer_messages_that_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The AsyncAPI document's State-answer messages are checked and rewritten with the JSON."""
    import schemas.answer_messages as answer_messages
    import schemas.export as export

    for name, text in render_all().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    committed = answer_messages.DOCUMENT.read_text(encoding="utf-8")
    document = tmp_path / "asyncapi.yaml"
    document.write_text(
        committed.replace(
            '      no_assets:\n        $ref: "#/components/messages/no_assets"\n', "", 1
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(export, "JSON_DIR", tmp_path)
    monkeypatch.setattr(answer_messages, "DOCUMENT", document)
    lines: list[str] = []
    assert main(["--check"], out=lines.append) == 1
    assert lines[0] == "drifted: schemas/asyncapi.yaml (its State-answer messages)"
    assert len([line for line in lines if line.startswith("drifted:")]) == 1
    lines.clear()
    assert main([], out=lines.append) == 0
    assert "wrote the State-answer messages of schemas/asyncapi.yaml" in lines
    assert document.read_text(encoding="utf-8") == committed
    assert main(["--check"], out=lines.append) == 0
