"""The real Temporal server and its schema tool, built once per version into
``<cache dir>/temporal-<version>-<source>/{server,sql}``, like the Kafka jars; the Temporal
UI server into ``<cache dir>/ui-server-<version>/ui-server`` (``ui_build``).

The server is the Go module's, built from ``deploy/temporal-server`` (``go build``): its
command with an authorizer that lets only the workers' principal take and settle tasks;
``<source>`` names that directory's content, so a change to it builds anew. The schema tool is
the module's own (``go install``).

A fresh machine pays the Go build once (minutes: the module and build caches of Go are the
machine's, ``go env GOMODCACHE GOCACHE``); every later start finds the two binaries. The
server module's own files (``config/``, ``schema/postgresql/v12``) are read from Go's module
cache (``go list -m``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tracefreeze.stack.errors import StackError, tail_of

TEMPORAL_VERSION = "v1.32.2"
GO_TOOLCHAIN = "go1.27.3"
MODULE = "go.temporal.io/server"
SQL_COMMAND = "cmd/tools/sql"
SERVER_SOURCE = Path(__file__).resolve().parents[3] / "deploy" / "temporal-server"
"""The server's command as the cluster runs it (``main.go``, with its ``go.mod`` and
``go.sum`` naming this version of the module)."""
BINARIES = ("server", "sql")
BUILD_COMMAND = "make cluster-build"
"""What builds the cache (named by a drill that skips for want of it)."""


def source_digest() -> str:
    """What ``deploy/temporal-server`` holds, in 12 hex digits."""
    digest = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        digest.update(name.encode() + b"\0" + (SERVER_SOURCE / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def tools_dir(cache_dir: Path) -> Path:
    return cache_dir / f"temporal-{TEMPORAL_VERSION}-{source_digest()}"


def server_cached(cache_dir: Path) -> bool:
    """Both binaries of this version and source are in the cache."""
    directory = tools_dir(cache_dir)
    return all(os.access(directory / name, os.X_OK) for name in BINARIES)


def cached(cache_dir: Path) -> bool:
    """Everything the cluster runs of Go is in the cache: the server, its schema tool and the
    UI server (``make cluster-build``)."""
    from tracefreeze.stack.cluster import ui_build

    return server_cached(cache_dir) and ui_build.cached(cache_dir)


def go_env() -> dict[str, str]:
    return dict(os.environ) | {"GOTOOLCHAIN": GO_TOOLCHAIN}


def go_binary() -> str:
    go = shutil.which("go")
    if go is None:
        raise StackError(
            f"go not found: install Go (any version; GOTOOLCHAIN={GO_TOOLCHAIN} fetches the "
            f"toolchain) to build the Temporal server {TEMPORAL_VERSION} once"
        )
    return go


def build(cache_dir: Path) -> Path:
    """The directory holding ``server`` and ``sql``, built if missing."""
    directory = tools_dir(cache_dir)
    if server_cached(cache_dir):
        return directory
    go = go_binary()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build.", dir=cache_dir))
    log = cache_dir / f"temporal-{TEMPORAL_VERSION}-build.log"
    print(f"temporal: building the server {TEMPORAL_VERSION} and its schema tool into "
          f"{directory} (once; minutes on a cold Go cache, log {log})...", flush=True)  # fmt: skip
    started = time.monotonic()
    server = [go, "build", "-mod=readonly", "-trimpath", "-o", str(tmp / "server"), "."]
    steps = [  # go install names the binary after its directory: sql
        ([go, "install", f"{MODULE}/{SQL_COMMAND}@{TEMPORAL_VERSION}"], None),
        (server, SERVER_SOURCE),
    ]
    with log.open("w") as out:
        for argv, cwd in steps:
            done = subprocess.run(
                argv, cwd=cwd, env=go_env() | {"GOBIN": str(tmp)},
                stdout=out, stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                shutil.rmtree(tmp, ignore_errors=True)
                raise StackError(f"the Temporal server's build failed (log {log})" + tail_of(log))
    try:  # atomic publish; a concurrent start may have won the race, which is fine
        tmp.rename(directory)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    if not server_cached(cache_dir):
        raise StackError(f"could not publish the Temporal build to {directory}")
    print(f"temporal: built in {time.monotonic() - started:.0f}s")
    return directory


def module_dir() -> Path:
    """The server module's source in Go's module cache (downloaded if missing)."""
    done = subprocess.run(
        [go_binary(), "mod", "download", "-json", f"{MODULE}@{TEMPORAL_VERSION}"],
        env=go_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        directory = Path(json.loads(done.stdout)["Dir"])
    except (ValueError, KeyError) as exc:
        raise StackError(
            f"cannot find the module {MODULE}@{TEMPORAL_VERSION}: {done.stderr.strip()}"
        ) from exc
    if not (directory / "schema" / "postgresql" / "v12").is_dir():
        raise StackError(f"no schema/postgresql/v12 in {directory}")
    return directory
