"""``python -m tracefreeze.stack.cluster up|down|status|build`` (``make cluster-up`` ...).

up      build the Temporal server and UI server once (cached), start PostgreSQL, the
        Temporal server and its UI server, three Kafka brokers, two workers, two bridges
        and the codec server; wait for health
down    stop them all (state kept in the cluster dir)
status  one line per process: healthy (pid alive and its port answering; the UI server's
        settings API answering) or not
build   only build (or find) the cached Temporal server, schema tool and UI server
"""

from __future__ import annotations

import argparse
import logging
import sys

from tracefreeze.stack.cluster import build, control, layout, ui_build
from tracefreeze.stack.cluster.layout import Cluster
from tracefreeze.stack.errors import StackError


def _status(cluster: Cluster) -> None:
    print("\n".join(control.status(cluster)))


COMMANDS = {
    "up": control.up,
    "down": control.down,
    "status": _status,
    "build": lambda cluster: print(
        build.build(cluster.cache_dir), ui_build.build_ui(cluster.cache_dir), sep="\n"
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tracefreeze.stack.cluster",
        description=__doc__,
        epilog=layout.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=list(COMMANDS))
    args = parser.parse_args(argv)
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    try:
        COMMANDS[args.command](Cluster.from_env(create=args.command == "up"))
    except (StackError, ValueError) as err:
        print(f"cluster: error: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
