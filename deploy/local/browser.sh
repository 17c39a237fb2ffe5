#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the browser test of the Temporal UI
# (tests/ui/test_temporal_ui.py), from Debian's packages: /usr/bin/chromium, /usr/bin/chromedriver.
#
# Idempotent: does nothing when both are there. Installs them with apt-get when run as root;
# otherwise prints what to install and exits 0, so `make test` goes on and the browser test
# fails with the same message (it never skips).
#
# Environment:
#   TRACEFREEZE_CHROMIUM       the browser       (/usr/bin/chromium)
#   TRACEFREEZE_CHROMEDRIVER   its WebDriver     (/usr/bin/chromedriver)
set -euo pipefail

PROG=$(basename "$0")
CHROMIUM=${TRACEFREEZE_CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${TRACEFREEZE_CHROMEDRIVER:-/usr/bin/chromedriver}

have() { [[ -x $CHROMIUM && -x $CHROMEDRIVER ]]; }

if have; then
    exit 0
fi
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    printf '%s: installing chromium and chromium-driver with apt-get...\n' "$PROG"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt-get (a `make demo` beside `make test` on a new machine) holds the lock for a
    # while: wait for it rather than fail.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        chromium chromium-driver >/dev/null
    have || {
        printf '%s: error: apt-get ran, but %s or %s is still missing\n' "$PROG" "$CHROMIUM" "$CHROMEDRIVER" >&2
        exit 1
    }
    printf '%s: %s, %s\n' "$PROG" "$("$CHROMIUM" --version 2>/dev/null || echo chromium)" \
        "$("$CHROMEDRIVER" --version 2>/dev/null | cut -d' ' -f1-2 || echo chromedriver)"
    exit 0
fi
printf '%s: %s or %s missing: install the Debian packages chromium and chromium-driver (as root: apt-get install chromium chromium-driver); the browser test of the Temporal UI fails without them\n' \
    "$PROG" "$CHROMIUM" "$CHROMEDRIVER" >&2
exit 0
