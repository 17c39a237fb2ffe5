"""Export a request's persons, companies, assets and ownerships as FollowTheMoney entities.

The output is FtM JSON lines (one ``entity.to_dict()`` per line), as ``ftm validate``, Aleph
and other FtM tools load them. It contains personal data of the persons concerned and
confidential case information: it is for authorised investigators only and must be handled
under the confidentiality the request carries (RS 87(3)); do not publish it or load it into a
shared or public dataset.

Only what the request and the ledger say is exported; nothing is inferred. Entity ids are
derived from (case number, request reference, local id), so a re-export yields the same ids.
Country codes (ISO 3166-1 alpha-3 here) are converted to FtM's alpha-2 by the library's own
cleaning of ``country``-typed properties.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from followthemoney import EntityProxy, model, registry

from schemas.assets import Asset, AssetKind, Party, PartyKind
from schemas.ledger import Ledger, LedgerEntry
from schemas.request import CourtRequest

PARTY_SCHEMA = {
    PartyKind.PERSON: "Person",
    PartyKind.COMPANY: "Company",
    PartyKind.ORGANIZATION: "Organization",
}
# Where a registry reference goes, most specific first. FtM's cleaning drops a value that is
# not valid for the property (IBAN, IMO and ISIN check digits), so the next one is tried.
REFERENCE_PROPS = {
    AssetKind.BANK_ACCOUNT: ("iban", "accountNumber"),
    AssetKind.VESSEL: ("imoNumber", "registrationNumber"),
    AssetKind.SECURITY: ("isin", "registrationNumber"),
    AssetKind.CRYPTO_WALLET: ("publicKey",),
}


def _entity(schema: str, request: CourtRequest, *key: str) -> EntityProxy:
    entity = model.make_entity(schema)
    entity.make_id(request.case_number, request.reference, *key)
    return entity


def _label(text: str) -> str:
    limit = registry.name.max_length
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _party(request: CourtRequest, party: Party) -> EntityProxy:
    entity = _entity(PARTY_SCHEMA[party.kind], request, "party", party.party_id)
    entity.add("name", party.name)
    country_prop = "nationality" if party.kind is PartyKind.PERSON else "jurisdiction"
    entity.add(country_prop, party.nationality)  # cleaned: "NLD" -> "nl"
    entity.add("notes", f"{request.reference}: {party.role}")
    return entity


def _add_reference(entity: EntityProxy, kind: AssetKind, reference: str | None) -> None:
    if not reference:
        return
    for prop in (*REFERENCE_PROPS.get(kind, ()), "registrationNumber"):
        if entity.schema.get(prop) is not None:
            entity.add(prop, reference)
            if entity.get(prop):
                return
    entity.add("notes", f"Registry reference: {reference}")


def _asset(request: CourtRequest, entry: LedgerEntry) -> EntityProxy:
    asset = entry.asset
    entity = _entity(asset.kind.ftm_schema, request, "asset", asset.asset_id)
    entity.add("name", _label(asset.description))
    entity.add("description", asset.description)
    entity.add("country", asset.location_country)
    entity.add("address", entry.location or asset.location)
    _add_reference(entity, asset.kind, entry.registry_reference or asset.registry_reference)
    value = entry.value or asset.estimated_value
    if value is not None:
        entity.add("amount", str(value.amount))
        entity.add("currency", value.currency)
    note = f"{request.reference}: status {entry.status.value}"
    if entry.executing_authority:
        note += f" ({entry.executing_authority})"
    entity.add("notes", note)
    return entity


def _ownerships(
    request: CourtRequest, asset: Asset, entity: EntityProxy, parties: dict[str, EntityProxy]
) -> list[EntityProxy]:
    if not entity.schema.is_a("Asset"):  # CryptoWallet is no FtM Asset: it names a holder
        entity.add("holder", [parties[p].id for p in asset.owner_party_ids if p in parties])
        return []
    edges = []
    for party_id in asset.owner_party_ids:
        if party_id not in parties:  # an owner a State named but the request does not know
            continue
        edge = _entity("Ownership", request, "ownership", party_id, asset.asset_id)
        edge.add("owner", parties[party_id].id)
        edge.add("asset", entity.id)
        if asset.ownership_percentage is not None:
            edge.add("percentage", f"{asset.ownership_percentage:g}")
        edges.append(edge)
    return edges


def export_entities(request: CourtRequest, ledger: Ledger | None = None) -> list[EntityProxy]:
    """Parties, then assets (the ledger's if given, else the request's), then ownerships."""
    parties = {p.party_id: _party(request, p) for p in request.parties}
    entries = (
        ledger.entries.values()
        if ledger is not None
        else (LedgerEntry(asset=a) for a in request.known_assets)
    )
    assets: list[EntityProxy] = []
    edges: list[EntityProxy] = []
    for entry in entries:
        assets.append(_asset(request, entry))
        edges.extend(_ownerships(request, entry.asset, assets[-1], parties))
    return [*parties.values(), *assets, *edges]


def write_ftm(entities: Iterable[EntityProxy], stream: TextIO) -> None:
    """Write FtM JSON lines: one entity per line, ``id`` first."""
    for entity in entities:
        stream.write(json.dumps(entity.to_dict(), ensure_ascii=False) + "\n")
