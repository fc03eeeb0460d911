#!/usr/bin/env bash
# ---- schema: the editor schemas of the root and included files (tests/schema/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 32 schema/runner bash tests/schema/run.sh

finish
