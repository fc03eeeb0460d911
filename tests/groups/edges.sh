#!/usr/bin/env bash
# ---- edges: graph has the same edges as the Backstage relations (tests/graph/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 3 edges/runner bash tests/graph/run.sh

finish
