"""deploy/ runs the apps safely: non-root, read-only, with limits, a drain and a disruption
budget; pinned images whose dependencies are locked with hashes; no default passwords; Kafka
with TLS everywhere and SASL for clients; the health server bound where configured. No server
is needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.deploy_files import (
    APP_SERVICES,
    BUILD_LOCK,
    COMPOSE,
    DOCKERFILE,
    HEALTH_PORT_ENV,
    K8S,
    LOCK,
    PINNED_PYTHON,
    SECRET_NAME,
    compose,
    container,
    k8s_docs,
    load,
    named,
    of_kind,
    pairs,
    service,
)
from tracefreeze.config import REPO_ROOT, Settings

# --- security, drain, images --------------------------------------------------------------


def test_compose_apps_run_as_non_root_read_only() -> None:
    for name in APP_SERVICES:
        s = service(name)
        uid = int(str(s["user"]).split(":")[0])
        assert uid != 0, name
        assert s["read_only"] is True, name
        assert s["build"]["dockerfile"] == "deploy/docker/Dockerfile", name
        assert (COMPOSE.parent / s["build"]["context"] / s["build"]["dockerfile"]).is_file()
    for name in ("worker", "bridge"):
        assert service(name)["deploy"]["replicas"] == 2, name


def test_k8s_apps_run_as_non_root_with_limits_and_a_drain() -> None:
    for name in (
        "tracefreeze-worker",
        "tracefreeze-bridge",
        "tracefreeze-recorder",
        "tracefreeze-codec-server",
    ):
        pod = named("Deployment", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["terminationGracePeriodSeconds"] >= 30, name
        c = container(named("Deployment", name))
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["capabilities"]["drop"] == ["ALL"], name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), (name, kind)
        assert {"configMapRef": {"name": "tracefreeze-config"}} in c["envFrom"], name
        keys = {e["name"]: e for e in c["env"]}["TRACEFREEZE_CODEC_KEYS"]
        ref = keys["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "tracefreeze-codec-keys" and not ref.get("optional"), name


def test_every_k8s_app_has_a_disruption_budget() -> None:
    selectors = [p["spec"]["selector"]["matchLabels"] for p in of_kind("PodDisruptionBudget")]
    for name in ("tracefreeze-worker", "tracefreeze-bridge", "tracefreeze-recorder"):
        labels = named("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert any(s.items() <= labels.items() for s in selectors), name


def test_dockerfile_is_pinned_and_non_root() -> None:
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    bases = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert len(bases) >= 2, "expected a multi-stage build"
    for base in bases:
        assert PINNED_PYTHON.match(base), f"base image not pinned by digest: {base}"
    assert len(set(bases)) == 1, f"the stages' base images differ: {bases}"
    final_stage = lines[max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))]
    after = lines[lines.index(final_stage) :]
    users = [line.split()[1] for line in after if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    assert 'ENTRYPOINT ["tracefreeze"]' in lines
    assert 'CMD ["worker"]' in lines
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    text = "\n".join(lines)
    assert "/readyz" in text
    assert f"{HEALTH_PORT_ENV}=8080" in text


def test_no_image_is_unpinned() -> None:
    images = [s["image"] for s in compose()["services"].values() if "image" in s]
    for o in k8s_docs():
        pod = o.get("spec", {}).get("template", {}).get("spec", {})
        images += [c["image"] for c in pod.get("containers", [])]
    assert images
    for image in images:
        if image == "tracefreeze":  # tagged by kustomize (images: newTag)
            continue
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest" and re.search(r"\d", tag), image
    (base,) = load(K8S / "base" / "kustomization.yaml")
    assert any(i["name"] == "tracefreeze" and i.get("newTag") for i in base["images"])


# --- issue 11: secrets, Kafka security, image supply chain, network policies ----------------


def test_compose_has_no_default_passwords() -> None:
    """Every secret is required from the operator (``${VAR:?}``): compose refuses to start
    without it, and no development password ships in the file."""
    text = COMPOSE.read_text(encoding="utf-8")
    defaults = re.findall(r"\$\{([A-Z0-9_]+):?-", text)
    assert not [v for v in defaults if SECRET_NAME.search(v)], defaults
    secrets: dict[str, str] = {}
    for s_name, s in compose()["services"].items():
        for name, value in (s.get("environment") or {}).items():
            if SECRET_NAME.search(name) and name != "TRACEFREEZE_CODEC_ACTIVE_KEY":
                secrets[f"{s_name}.{name}"] = str(value)
    assert len(secrets) >= 10, secrets
    for where, value in secrets.items():
        assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value), f"{where} = {value!r}"


def test_compose_kafka_is_tls_everywhere_and_sasl_for_clients() -> None:
    env = service("kafka-1")["environment"]
    protocols = pairs(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace(",", " "), ":")
    assert protocols and set(protocols.values()) <= {"SSL", "SASL_SSL"}, protocols
    assert env["KAFKA_SSL_CLIENT_AUTH"] == "required"  # controllers and brokers: mutual TLS
    for name in ("kafka-1", "kafka-2", "kafka-3"):
        advertised = service(name)["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        for listener in advertised.split(","):
            assert listener.split("://")[0] in protocols, (name, listener)
        assert "kafka-tls:/etc/kafka/tls:ro" in service(name)["volumes"]
    users = compose_scram_users()
    for name in ("worker", "bridge"):
        app = service(name)["environment"]
        assert app["TRACEFREEZE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert app["TRACEFREEZE_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert app["TRACEFREEZE_KAFKA_SASL_USERNAME"] in users, name
        cafile = Path(app["TRACEFREEZE_KAFKA_SSL_CAFILE"])
        mounts = [m.split(":") for m in service(name)["volumes"]]
        assert any(cafile.parent == Path(target) for _, target, *_ in mounts), name
    assert "CLIENT" in env["KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG"] or (
        "ScramLoginModule" in env["KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG"]
    )


def compose_scram_users() -> set[str]:
    script = " ".join(service("kafka-topics")["command"])
    return set(re.findall(r"--entity-name (\S+) --add-config \"SCRAM-SHA-512=", script))


def lock_entries(path: Path) -> dict[str, tuple[str, list[str]]]:
    """``name -> (version, hashes)`` of a pip-compile ``--generate-hashes`` file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = block.strip().splitlines()[0] if block.strip() else ""
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", head)
        if not match:
            continue
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})\b", block)
        entries[match[1].lower().replace("_", "-")] = (match[2], hashes)
    return entries


def test_image_dependencies_are_locked_with_hashes() -> None:
    from packaging.requirements import Requirement
    from packaging.version import Version

    lock = lock_entries(LOCK)
    assert len(lock) >= 20, "the lock holds the whole dependency closure"
    for name, (version, hashes) in lock.items():
        assert hashes, f"{name}=={version} has no --hash"
    lines = [line for line in LOCK.read_text(encoding="utf-8").splitlines()]
    options = [line for line in lines if line.startswith("-")]
    assert not options, f"index or link options in the lock: {options}"
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for spec in project["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in lock, f"{name} is a dependency but not in {LOCK.name}"
        assert Version(lock[name][0]) in requirement.specifier, (spec, lock[name][0])
    build = lock_entries(BUILD_LOCK)
    for spec in project["build-system"]["requires"]:
        requirement = Requirement(spec)
        name = requirement.name.lower()
        assert name in build and build[name][1], f"build requirement {name} not locked"
        assert Version(build[name][0]) in requirement.specifier

    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "--require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "--require-hashes --no-deps -r build-requirements.lock" in dockerfile
    assert "--no-build-isolation" in dockerfile
    assert "pip install --upgrade" not in dockerfile  # nothing unpinned is fetched
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    for path in (LOCK, BUILD_LOCK):
        assert f"!{path.relative_to(REPO_ROOT)}" in ignore.splitlines()


def test_health_server_binds_loopback_unless_configured(code: Settings) -> None:
    """127.0.0.1 on a developer's machine; the pods set 0.0.0.0 for the kubelet."""
    assert code.health_host == "127.0.0.1"
    assert named("ConfigMap", "tracefreeze-config")["data"]["TRACEFREEZE_HEALTH_HOST"] == "0.0.0.0"
    for name in ("worker", "bridge"):  # compose probes from inside the container
        assert "TRACEFREEZE_HEALTH_HOST" not in service(name)["environment"]


async def test_health_server_listens_where_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from tracefreeze.config import get_settings
    from tracefreeze.ops import http as ops_http

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("TRACEFREEZE_HEALTH_HOST", raising=False)
    get_settings.cache_clear()
    try:
        async with ops_http.serving(port, "probe-test", lambda: True):
            assert ops_http._server is not None
            assert ops_http._server.server_address[0] == "127.0.0.1"
        monkeypatch.setenv("TRACEFREEZE_HEALTH_HOST", "0.0.0.0")  # as in the pods
        get_settings.cache_clear()
        async with ops_http.serving(port, "probe-test", lambda: True):
            assert ops_http._server.server_address[0] == "0.0.0.0"
        async with ops_http.serving(port, "probe-test", lambda: True, host="127.0.0.1"):
            assert ops_http._server.server_address[0] == "127.0.0.1"
    finally:
        get_settings.cache_clear()
