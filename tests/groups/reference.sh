#!/usr/bin/env bash
# ---- reference: cluster requirements, the parameter reference and explain KIND (tests/reference/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 21 reference/runner bash tests/reference/run.sh

finish
