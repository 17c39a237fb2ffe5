"""What the deploy tests share: the files under deploy/ parsed (compose, Kubernetes, the
Dockerfile and the image locks), helpers to find objects in them, and the environment the code
reads (``tracefreeze.config.Settings`` and the ``*_ENV`` constants of its modules)."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel

from tracefreeze.config import REPO_ROOT, Settings
from workflows.search_attributes import ALL, dev_server_flags

DEPLOY = REPO_ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
K8S = DEPLOY / "k8s"
HEALTH_PORT_ENV = "TRACEFREEZE_HEALTH_PORT"
"""Being added with the health endpoints; accepted before it is a Settings field."""
DUMMY_CODEC_KEYS = "k1:" + "A" * 43 + "="
"""For `docker compose config`: the compose file requires TRACEFREEZE_CODEC_KEYS."""
CODEC_PORT = 8081
APP_SERVICES = ("worker", "bridge", "codec-server")
ENV_NAME = re.compile(r"TRACEFREEZE_[A-Z0-9_]*[A-Z0-9]")
PINNED_PYTHON = re.compile(r"^python:\d+\.\d+\.\d+-slim-[a-z]+@sha256:[0-9a-f]{64}$")
"""A base image by tag *and* digest (the tag for readers, the digest decides)."""
LOCK = DEPLOY / "docker" / "requirements.lock"
BUILD_LOCK = DEPLOY / "docker" / "build-requirements.lock"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|PWD|_KEYS\b")


# --- loading ------------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def k8s_docs() -> list[dict[str, Any]]:
    """Every Kubernetes object under deploy/k8s (not kustomizations, not Helm values)."""
    docs = []
    for path in yaml_files():
        if K8S not in path.parents or path.name == "kustomization.yaml":
            continue
        docs += [d for d in load(path) if isinstance(d, dict) and "kind" in d]
    return docs


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_docs() if d["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in of_kind(kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def compose() -> dict[str, Any]:
    (doc,) = load(COMPOSE)
    return doc


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"compose has no service {name}"
    return services[name]


def strings(node: Any) -> Iterator[str]:
    """Every key and string value in a parsed YAML document, recursively."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def pairs(text: str, sep: str) -> dict[str, str]:
    """``"a=b c=d"`` -> ``{"a": "b", "c": "d"}`` (the lists in the jobs' environments)."""
    return dict(item.split(sep, 1) for item in text.split())


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def pod(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment or a Job."""
    return workload["spec"]["template"]["spec"]


def env_of(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The only container's ``env`` entries by name."""
    (c,) = pod(workload)["containers"]
    return {e["name"]: e for e in c.get("env", [])}


def mount_of(workload: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The volume mount of ``workload`` that holds the file or folder ``path`` (the deepest
    mount above it), and its volume; None when ``path`` is on the image's own file system."""
    (c,) = pod(workload)["containers"]
    target = PurePosixPath(path)
    holding = [
        m
        for m in c.get("volumeMounts", [])
        if PurePosixPath(m["mountPath"]) in (target, *target.parents)
    ]
    if not holding:
        return None
    mount = max(holding, key=lambda m: len(PurePosixPath(m["mountPath"]).parts))
    (volume,) = [v for v in pod(workload)["volumes"] if v["name"] == mount["name"]]
    return mount, volume


def secret_names(workload: dict[str, Any]) -> set[str]:
    """Every Secret ``workload`` reads: mounted, or in a variable."""
    names = {v["secret"]["secretName"] for v in pod(workload).get("volumes", []) if "secret" in v}
    for e in env_of(workload).values():
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            names.add(ref["name"])
    return names


def json_patched(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """``doc`` after a kustomize JSON 6902 patch of ``test``, ``remove``, ``replace`` and
    ``add`` operations (what the overlays use); a failed ``test`` fails, as in kustomize."""
    out = copy.deepcopy(doc)
    for op in ops:
        steps = op["path"][1:].split("/")
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in steps]
        node: Any = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) and last != "-" else last
        if op["op"] == "test":
            assert node[key] == op["value"], f"test failed at {op['path']}: {node[key]!r}"
        elif op["op"] == "remove":
            del node[key]
        elif op["op"] == "replace":
            node[key] = op["value"]
        elif op["op"] == "add" and isinstance(node, list):
            node.insert(len(node) if key == "-" else key, op["value"])
        elif op["op"] == "add":
            node[key] = op["value"]
        else:
            raise AssertionError(f"unsupported patch operation {op['op']}")
    return out


def overlaid(overlay: Path, kind: str, name: str) -> dict[str, Any]:
    """The object ``kind``/``name`` of deploy/k8s/base as ``overlay``'s kustomization patches
    it (JSON 6902 patches by target kind and name)."""
    (kustomization,) = load(overlay / "kustomization.yaml")
    doc = named(kind, name)
    for patch in kustomization.get("patches", []):
        target = patch["target"]
        if target.get("kind") == kind and target.get("name") == name:
            doc = json_patched(doc, yaml.safe_load(patch["patch"]))
    return doc


def port_number(c: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in c.get("ports", []) if p.get("name") == port]
    return number


def option(args: list[str], flag: str) -> str:
    assert flag in args, f"{flag} missing from {args}"
    return args[args.index(flag) + 1]


# --- the code's configuration -------------------------------------------------------------


def env_constants() -> set[str]:
    """Variables a tracefreeze module reads itself (``X_ENV = "TRACEFREEZE_..."`` at module
    level, e.g. the codec keys, or ``A_ENV, B_ENV = "...", "..."``), found without importing
    the module."""
    names = set()
    for path in (REPO_ROOT / "tracefreeze").rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    assigned = list(zip(target.elts, node.value.elts, strict=False))
                else:
                    assigned = [(target, node.value)]
                for name, value in assigned:
                    if (
                        isinstance(name, ast.Name)
                        and name.id.endswith("_ENV")
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                        and value.value.startswith("TRACEFREEZE_")
                    ):
                        names.add(value.value)
    return names


def valid_env_names() -> set[str]:
    """TRACEFREEZE_<FIELD>, TRACEFREEZE_<FIELD>__<SUBFIELD> for nested models, and the
    variables that modules read directly."""
    names = {HEALTH_PORT_ENV} | env_constants()
    for field, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {f"TRACEFREEZE_{field}__{sub}".upper() for sub in annotation.model_fields}
        else:
            names.add(f"TRACEFREEZE_{field}".upper())
    return names


def expected_search_attributes() -> dict[str, str]:
    flags = dev_server_flags()
    registered = pairs(" ".join(flags[1::2]), "=")
    assert set(registered) == {key.name for key in ALL}
    return registered
