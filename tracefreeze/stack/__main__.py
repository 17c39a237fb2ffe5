"""``python -m tracefreeze.stack up|down|status|apps-up|apps-down`` (``make up`` ...).

  up         make the local keys if missing (demo State signing keys + registry, payload
             codec key, in <state dir>/keys), start Kafka + Temporal (UI wired to the codec
             server), wait until healthy, ensure the topics (secured: users and ACLs)
  record-up  start the record store's PostgreSQL, if installed, and migrate its database
             (tracefreeze/stack/record_store.py; `make up` and `make demo` run it)
  apps-up    start the worker, the bridge, the codec server (they read <state dir>/keys)
             and the recorder (when there is a record store)
             and wait until each is ready
  apps-down  stop the worker, the bridge, the codec server and the recorder
  down       stop the apps, then Kafka, Temporal and the record store (state is kept)
  status     one line per service, and the Temporal UI address

Processes are found through their pid files only, never by name. An error is one line on
stderr (with the last lines of a log where one says more) and exit status 1.
"""

from __future__ import annotations

import argparse
import logging
import sys

from tracefreeze.stack import layout, record_store, services
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.layout import Stack

COMMANDS = {
    "up": services.up,
    "record-up": record_store.up,
    "down": services.down,
    "apps-up": services.apps_up,
    "apps-down": services.apps_down,
    "status": lambda stack: print("\n".join(services.status(stack))),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tracefreeze.stack",
        description=__doc__,
        epilog=layout.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=list(COMMANDS))
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())  # retries say no more
    try:
        COMMANDS[args.command](Stack.from_env())
    except (StackError, ValueError) as err:
        print(f"stack: error: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
