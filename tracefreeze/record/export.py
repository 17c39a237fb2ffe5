"""``tracefreeze record export REF DIR``: a request's record as a bundle for the case file.

``DIR/<request key>/record.json`` holds the search row and every entry (its place in Kafka,
ids, times, headers as hex, the body as JSON, the verification of an answer);
``originals/`` the State's answers and the Court's signed actions byte for byte
(``<seq>.answer.bin``, ``<seq>.court-action.bin``, their headers in ``<seq>.headers.json``)
with their SHA-256 in ``record.json``; ``key-registry/`` each key registry version an
original was checked against (public keys only: the States' or the organs'). The bundle is
plaintext: it is for the case file, kept as the Registry keeps confidential material
(RS 87(3)).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import asyncpg

from tracefreeze.record.evidence import headers_json
from tracefreeze.record.reader import RequestRecord, StoredEntry


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _entry(e: StoredEntry, folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = {
        "seq": e.seq, "kind": e.kind, "topic": e.topic, "partition": e.partition,
        "offset": e.offset, "event_id": e.event_id, "type": e.type,
        "occurred_at": e.occurred_at, "kafka_time": e.kafka_time,
        "recorded_at": e.recorded_at, "headers": json.loads(headers_json(e.headers)),
        "body": e.body(), "sha256": hashlib.sha256(e.value).hexdigest(),
    }  # fmt: skip
    if e.kind in ("answer", "court_action"):
        name = f"originals/{e.seq}.{e.kind.replace('_', '-')}.bin"
        _write(folder / name, e.value)
        _write(folder / f"originals/{e.seq}.headers.json", headers_json(e.headers))
        data |= {
            "original": name, "key_id": e.key_id, "verdict": e.verdict,
            "verdict_detail": e.verdict_detail, "checked_at": e.checked_at,
            "key_registry": f"key-registry/{e.registry_fingerprint}.json",
        }  # fmt: skip
    return data


async def export(conn: asyncpg.Connection, record: RequestRecord, out_dir: Path) -> Path:
    """Write the bundle of one request; its folder."""
    folder = out_dir / record.request_key.replace("/", "_")
    (folder / "originals").mkdir(parents=True, exist_ok=True)
    (folder / "key-registry").mkdir(exist_ok=True)
    for fp in {e.registry_fingerprint for e in record.entries if e.registry_fingerprint}:
        raw = await conn.fetchval(
            "SELECT registry FROM key_registry_versions WHERE fingerprint = $1", fp
        )
        _write(folder / f"key-registry/{fp}.json", str(raw).encode())
    bundle = {
        "request_key": record.request_key,
        "request": record.row,
        "entries": [_entry(e, folder) for e in record.entries],
    }
    _write(folder / "record.json", json.dumps(bundle, indent=2, default=str).encode())
    return folder
