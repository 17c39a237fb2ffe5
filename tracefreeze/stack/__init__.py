"""The local stack, controlled from Python: a Kafka 4 broker (KRaft), the Temporal dev server,
and the tracefreeze worker, bridge and codec server as processes of their own.

One package for ``make up/down/status/apps-up/apps-down/demo`` (``python -m
tracefreeze.stack``; ``deploy/local/stack.sh`` only hands over to it), for the tests' and the
fault drills' stacks and for the benchmark's (``isolated``):

- ``layout``: where a stack lives (state dir) and what configures it (``Stack``);
- ``ports``: the one port picker (``free_ports``) and the checks of configured ports;
- ``pids``: services found, and stopped, through their pid files only;
- ``process``: ``App``, the one helper for a child process (worker, bridge, codec server, a
  benchmark's app), used by ``apps-up``, the tests, the drills and the benchmark;
- ``kafka``, ``temporal``: the broker and the dev server;
- ``services``: the commands; ``isolated``: a stack of its own on free ports.
"""
