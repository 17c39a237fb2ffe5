"""Suite-wide fixtures: ``stack``, a real isolated Temporal + Kafka stack (see
``tracefreeze/stack/isolated.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tracefreeze.config import Settings
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.isolated import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a Temporal dev server + Kafka broker started for this session on free ports.

    The stack's ``TRACEFREEZE_*`` variables are in ``os.environ`` while it runs, so processes
    started by a test (``tracefreeze bridge``...) see the same addresses.
    """
    try:
        with running_stack(tmp_path_factory.mktemp("stack")) as settings:
            yield settings
    except StackError as exc:
        pytest.fail(f"could not start the test stack:\n{exc}", pytrace=False)
