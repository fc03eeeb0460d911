#!/usr/bin/env bash
# ---- identity: each service's AWS identity grants exactly what its uses need; every connection key delivered (tests/identity/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 79 identity/runner bash tests/identity/run.sh

finish
