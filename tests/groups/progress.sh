#!/usr/bin/env bash
# ---- progress: the status line on a terminal, never on pipes or in CI (tests/progress/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 7 progress/runner bash tests/progress/run.sh

finish
