"""The demo's screenshot where no Temporal UI answers (the cluster of ``make cluster-up`` runs
no UI server): one clear line the demo prints, never Selenium's traceback ending the demo.

Chromium and ChromeDriver come from Debian's packages (``deploy/local/browser.sh``, run by
``make test``), as for tests/ui/test_temporal_ui.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracefreeze.errors import TracefreezeError
from tracefreeze.report.snapshot import screenshot
from tracefreeze.stack.ports import HOST, free_ports, listening


def test_no_ui_listening_is_one_clear_error(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    assert not listening(HOST, port)
    url = f"http://{HOST}:{port}/namespaces/tracefreeze/workflows"
    with pytest.raises(TracefreezeError, match="could not be shown") as raised:
        screenshot(url, "request/", tmp_path / "ui.png", timeout_s=10)
    assert url in str(raised.value) and "\n" not in str(raised.value)
    assert not (tmp_path / "ui.png").exists()
