#!/usr/bin/env bash
# ---- unit tests (C) --------------------------------------------------------
# $UNIT (build/unit) runs every TEST of tests/unit/*.c: it must report each
# one, and exit 0 only when all pass. Its writer tests work under $TMPDIR,
# which lib.sh points at tmpfs when there is room (each render's syncfs()
# costs nothing there).
. "$(dirname "$0")/../lib.sh"

n=$(cat tests/unit/*.c | grep -c '^TEST(')
relay -S -n "$n" unit/runner "$UNIT"

finish
