"""The investigators' export is valid FollowTheMoney, as the library itself checks it."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from followthemoney import EntityProxy, model
from followthemoney.cli.cli import cli

from schemas.answers import STATE_ANSWER, ExecutionReport
from schemas.assets import Asset, AssetKind
from schemas.ledger import Ledger
from schemas.request import CourtRequest
from tracefreeze.report.ftm import export_entities, write_ftm
from workflows.ledger import apply_result, ledger_from_request

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def _load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _request() -> CourtRequest:
    return CourtRequest.model_validate(_load("court-request.json"))


def _ledger(request: CourtRequest) -> Ledger:
    report = STATE_ANSWER.validate_python(_load("execution-report.json"))
    assert isinstance(report, ExecutionReport)
    ledger = ledger_from_request(request)
    for result in report.results:
        apply_result(ledger, result, report.event_id, datetime(2026, 3, 20, tzinfo=UTC))
    return ledger


def _by_schema(entities: list[EntityProxy]) -> dict[str, list[EntityProxy]]:
    out: dict[str, list[EntityProxy]] = {}
    for entity in entities:
        out.setdefault(entity.schema.name, []).append(entity)
    return out


def _assert_valid(data: dict[str, Any]) -> None:
    """Re-parse with the library's cleaning: nothing may be dropped, nothing may be invalid."""
    schema = model.get(data["schema"])
    assert schema is not None and not schema.abstract, data["schema"]
    assert schema.validate({"properties": data["properties"]}) is None
    assert set(schema.required) <= set(data["properties"]), (data["schema"], schema.required)
    assert set(data["properties"]) <= set(schema.properties), data["properties"].keys()
    reparsed = model.get_proxy(data, cleaned=False)
    assert reparsed.schema is schema and reparsed.id == data["id"]
    assert reparsed.to_dict()["properties"] == data["properties"], data["schema"]


def test_export_maps_parties_assets_and_ownerships() -> None:
    request = _request()
    entities = export_entities(request, _ledger(request))
    for entity in entities:
        _assert_valid(entity.to_dict())
    by_schema = _by_schema(entities)
    assert sorted(by_schema) == [
        "BankAccount",
        "Company",
        "Ownership",
        "Person",
        "RealEstate",
        "Vessel",
    ]
    assert len(by_schema["Person"]) == 1 and len(by_schema["Company"]) == 2  # party + shares

    person = by_schema["Person"][0]
    assert person.get("name") == ["Aldo Fictivio Marren"]
    northwind = next(c for c in by_schema["Company"] if c.has("jurisdiction"))
    assert northwind.get("jurisdiction") == ["nl"]  # alpha-3 NLD -> FtM alpha-2

    assets = [e for e in entities if e.schema.is_a("Asset") and e is not northwind]
    assert len(assets) == 4 and all(a.get("country") == ["nl"] for a in assets)
    account = by_schema["BankAccount"][0]
    # The example IBAN has invalid check digits, so FtM would drop it as `iban`.
    assert account.get("accountNumber") == ["NL00TEST0123456789"] and not account.has("iban")
    assert [Decimal(v) for v in account.get("amount")] == [Decimal("398214.37")]  # reported
    assert account.get("currency") == ["EUR"]
    vessel = by_schema["Vessel"][0]
    assert vessel.get("registrationNumber") == ["Ship register 12345 Z 2019"]
    assert [Decimal(v) for v in vessel.get("amount")] == [Decimal("1150000.00")]
    assert any("frozen" in n for n in by_schema["RealEstate"][0].get("notes"))

    ids = {e.id for e in entities}
    edges = by_schema["Ownership"]
    assert len(edges) == 4  # account, apartment, shares -> suspect; vessel -> Northwind
    for edge in edges:
        assert edge.first("owner") in ids and edge.first("asset") in ids
    assert {e.first("owner") for e in edges} == {person.id, northwind.id}
    shares = by_schema["Company"][1]  # parties come first
    (shares_edge,) = [e for e in edges if e.first("asset") == shares.id]
    assert shares_edge.get("percentage") == ["60"]


def test_ids_are_stable_and_without_ledger_the_known_assets_are_exported() -> None:
    request = _request()
    first = [e.to_dict() for e in export_entities(request, _ledger(request))]
    again = [e.to_dict() for e in export_entities(_request(), _ledger(_request()))]
    assert first == again
    known = export_entities(request)
    assert sum(e.schema.is_a("Asset") for e in known) == 4  # 3 known assets + the party company
    assert {e.id for e in known} <= {d["id"] for d in first}


def test_jsonl_parses_back_and_passes_ftm_validate(tmp_path: Path) -> None:
    request = _request()
    entities = export_entities(request, _ledger(request))
    buffer = io.StringIO()
    write_ftm(entities, buffer)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == len(entities)
    for line, entity in zip(lines, entities, strict=True):
        proxy = model.get_proxy(json.loads(line))
        assert proxy.schema is entity.schema and proxy.to_dict() == entity.to_dict()

    infile, outfile = tmp_path / "export.ftm.json", tmp_path / "validated.ftm.json"
    infile.write_text(buffer.getvalue(), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "-i", str(infile), "-o", str(outfile)])
    assert result.exit_code == 0, result.output
    validated = [json.loads(x) for x in outfile.read_text(encoding="utf-8").splitlines()]
    core = ("id", "schema", "properties")  # `ftm validate` also adds `referents`, `datasets`
    assert [{k: v[k] for k in core} for v in validated] == [e.to_dict() for e in entities]


def test_references_fall_back_and_wallets_name_their_holder() -> None:
    data = _load("court-request.json")
    data["known_assets"] = [
        Asset(
            asset_id="a-iban",
            kind=AssetKind.BANK_ACCOUNT,
            description="Savings account",
            registry_reference="NL91ABNA0417164300",
            owner_party_ids=("p-suspect",),
        ).model_dump(mode="json"),
        Asset(
            asset_id="a-wallet",
            kind=AssetKind.CRYPTO_WALLET,
            description="Hardware wallet seized at the residence",
            registry_reference="bc1qexampleaddress0000000000000000000000",
            owner_party_ids=("p-suspect",),
        ).model_dump(mode="json"),
    ]
    entities = export_entities(CourtRequest.model_validate(data))
    for entity in entities:
        _assert_valid(entity.to_dict())
    by_schema = _by_schema(entities)
    person = by_schema["Person"][0]
    assert by_schema["BankAccount"][0].get("iban") == ["NL91ABNA0417164300"]
    wallet = by_schema["CryptoWallet"][0]
    assert wallet.get("holder") == [person.id]  # FtM: a wallet is no Asset, so no Ownership
    assert wallet.get("publicKey") == ["bc1qexampleaddress0000000000000000000000"]
    assert len(by_schema["Ownership"]) == 1
