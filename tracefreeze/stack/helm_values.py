"""The Temporal server's Helm values of production (deploy/k8s/temporal-values.yaml), read by
both local engines: the cluster generates its configuration from them and the dev server takes
their dynamic config, so that what runs here is what production gets."""

from __future__ import annotations

from typing import Any

import yaml

from tracefreeze.config import REPO_ROOT

VALUES = REPO_ROOT / "deploy" / "k8s" / "temporal-values.yaml"


def helm_values() -> dict[str, Any]:
    """``server.config`` of the Helm values."""
    values = yaml.safe_load(VALUES.read_text())
    return dict(values["server"]["config"])


def helm_dynamic_config() -> dict[str, Any]:
    """The dynamic config of the Helm values (``server.dynamicConfig``)."""
    return dict(yaml.safe_load(VALUES.read_text())["server"]["dynamicConfig"])
