"""The Temporal UI server (``github.com/temporalio/ui-server/v2``, its ``cmd/server``), built
once per version into ``<cache dir>/ui-server-<version>/ui-server`` by ``make cluster-build``.

``go install <module>/cmd/server@<version>`` cannot build it here: two of the versions its
go.mod requires are not served by the module proxy. So the build writes a small wrapper
module in a temporary directory: it requires the UI server and replaces each refused version
with the nearest one served (``REPLACE``: a patch release of the same minor version), a
``//go:build tools`` file imports the command, ``go mod tidy`` resolves the rest and ``go
build`` links the binary. The wrapper is generated at every build and never kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tracefreeze.stack.cluster.build import GO_TOOLCHAIN, go_binary, go_env
from tracefreeze.stack.errors import StackError, tail_of

UI_VERSION = "v2.58.1"
UI_MODULE = "github.com/temporalio/ui-server/v2"
UI_COMMAND = f"{UI_MODULE}/cmd/server"
BINARY = "ui-server"
REPLACE = {
    "github.com/labstack/echo/v4": ("v4.16.1", "v4.16.0"),
    "go.temporal.io/api": ("v1.64.0", "v1.64.3"),
}
"""Module -> (the version the UI server requires, the version built instead)."""
WRAPPER = "tracefreeze.local/uibuild"


def ui_dir(cache_dir: Path) -> Path:
    return cache_dir / f"ui-server-{UI_VERSION}"


def binary(cache_dir: Path) -> Path:
    return ui_dir(cache_dir) / BINARY


def cached(cache_dir: Path) -> bool:
    return os.access(binary(cache_dir), os.X_OK)


def go_mod() -> str:
    """The wrapper module's go.mod: the UI server at its version, the refused ones replaced."""
    go = GO_TOOLCHAIN.removeprefix("go").rsplit(".", 1)[0]
    lines = [f"module {WRAPPER}", "", f"go {go}", "", f"require {UI_MODULE} {UI_VERSION}", ""]
    lines += [f"replace {module} {old} => {module} {new}" for module, (old, new) in REPLACE.items()]
    return "\n".join(lines) + "\n"


def tools_go() -> str:
    """The file that makes the command a dependency of the wrapper (never compiled itself)."""
    return f'//go:build tools\n\npackage uibuild\n\nimport _ "{UI_COMMAND}"\n'


def write_wrapper(directory: Path) -> None:
    (directory / "go.mod").write_text(go_mod())
    (directory / "tools.go").write_text(tools_go())


def build_ui(cache_dir: Path) -> Path:
    """The UI server's binary, built through the wrapper module if missing."""
    if cached(cache_dir):
        return binary(cache_dir)
    go = go_binary()
    cache_dir.mkdir(parents=True, exist_ok=True)
    out_dir = Path(tempfile.mkdtemp(prefix=".build-ui.", dir=cache_dir))
    wrapper = Path(tempfile.mkdtemp(prefix="tracefreeze-uibuild-"))
    log = cache_dir / f"ui-server-{UI_VERSION}-build.log"
    print(f"temporal-ui: building the UI server {UI_VERSION} into {ui_dir(cache_dir)} (once; "
          f"log {log})...", flush=True)  # fmt: skip
    started = time.monotonic()
    try:
        write_wrapper(wrapper)
        steps = [[go, "mod", "tidy"], [go, "build", "-o", str(out_dir / BINARY), UI_COMMAND]]
        with log.open("w") as out:
            for argv in steps:
                out.write(f"$ {' '.join(argv)}\n")
                out.flush()
                done = subprocess.run(
                    argv, cwd=wrapper, env=go_env(), stdout=out, stderr=subprocess.STDOUT,
                    check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    shutil.rmtree(out_dir, ignore_errors=True)
                    raise StackError(
                        f"the build of the Temporal UI server failed at `{' '.join(argv[1:3])}` "
                        f"(log {log})" + tail_of(log)
                    )
    finally:
        shutil.rmtree(wrapper, ignore_errors=True)
    out_dir.chmod(0o755)
    try:  # atomic publish; a concurrent build may have won the race, which is fine
        out_dir.rename(ui_dir(cache_dir))
    except OSError:
        shutil.rmtree(out_dir, ignore_errors=True)
    if not cached(cache_dir):
        raise StackError(f"could not publish the UI server build to {ui_dir(cache_dir)}")
    print(f"temporal-ui: built in {time.monotonic() - started:.0f}s")
    return binary(cache_dir)
