#!/usr/bin/env bash
# ---- cost: region-true prices, --fail-over-budget, compute beside cloud resources (tests/cost/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 8 cost/runner bash tests/cost/run.sh

finish
