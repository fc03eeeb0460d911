#!/usr/bin/env bash
# ---- workloads: ports, probes and TLS of every container fit its API type; one dashboard per service (tests/workloads/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 51 workloads/runner bash tests/workloads/run.sh

finish
