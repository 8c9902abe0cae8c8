#!/usr/bin/env bash
# After every shard of a sharded sweep finished (deploy/sweep-shard.sh):
# merges $BIOFED_STUDIES/shard-K-of-N/study.db, K = 1..N, into
# $BIOFED_STUDIES/study.db, prints what it holds (`biofed study info`) and
# writes $BIOFED_STUDIES/report.html, the report of the whole sweep. Run by
# the Slurm merge job and the Kubernetes merge Job. Idempotent.
# Environment: BIOFED_STUDIES, BIOFED_SHARDS (N), BIOFED (default biofed on PATH).
set -euo pipefail
: "${BIOFED_STUDIES:?set BIOFED_STUDIES to the folder of the shard studies}"
: "${BIOFED_SHARDS:?set BIOFED_SHARDS to the number of shards}"
biofed="${BIOFED:-biofed}"
shards=()
for ((k = 1; k <= BIOFED_SHARDS; k++)); do shards+=("$BIOFED_STUDIES/shard-$k-of-$BIOFED_SHARDS/study.db"); done
"$biofed" study merge "$BIOFED_STUDIES/study.db" "${shards[@]}"
"$biofed" study info "$BIOFED_STUDIES/study.db"
"$biofed" report --out "$BIOFED_STUDIES/report.html" "$BIOFED_STUDIES/study.db"
