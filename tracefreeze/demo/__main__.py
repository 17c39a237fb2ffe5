"""``python -m tracefreeze.demo``: the demo walk (``tracefreeze/demo/walk.py``)."""

from tracefreeze.demo.walk import main
from tracefreeze.temporal import exit_process

exit_process(main())
