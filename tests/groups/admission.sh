#!/usr/bin/env bash
# ---- admission: the rendered Kyverno policies run with a conformant CEL engine (tests/admission/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 448 admission/runner bash tests/admission/run.sh

finish
