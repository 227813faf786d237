#!/usr/bin/env bash
# bench/cluster/claims.sh: claims per second at 1, 8, 32 and 64 concurrent
# claimers, on the stack's single MariaDB and on the three-node Galera
# cluster (claimers spread over the nodes), each claim finished at once by
# a browser stand-in that does nothing (bench/cluster/claim.c).  Interleaved:
# single, cluster, single, cluster … for each count, ROUNDS times.
#
#   ./stack up && stack.d/cluster.sh up        # once
#   (nothing else may use the stack's database meanwhile: task_claim takes any
#   queued task, and the integration tests cancel tasks they did not post)
#   bench/cluster/claims.sh [TASKS_PER_RUN] [ROUNDS] [COUNTS...]
#
# Builds bench/cluster/claim from bench/cluster/claim.c and core/*.c.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
VAR=${SX_VAR_DIR:-$ROOT/var}
TASKS=${1:-2000}
ROUNDS=${2:-2}
shift $(($# > 2 ? 2 : $#))
COUNTS=("$@")
((${#COUNTS[@]})) || COUNTS=(1 8 32 64)
CL=$VAR/cluster
[[ -s $VAR/sextant.conf ]] || { echo "run ./stack up first" >&2; exit 1; }
[[ -s $CL/sextant1.conf ]] || { echo "run stack.d/cluster.sh up first" >&2; exit 1; }

cd "$ROOT"
# Built from the sources with -O2 and no sanitizers whatever the tree was
# configured with, so the figures are the product's.
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Icore $(mariadb_config --cflags) \
	-o "$VAR/claim" bench/cluster/claim.c core/*.c \
	-ljson-c -lcurl $(mariadb_config --libs) -lssl -lcrypto -lpthread

# An organization per database for the bench's tasks (no webhook: the
# finish queues no delivery).
org() { "$ROOT/sextant-admin" --config "$1" org create "claim-bench" 2>/dev/null; }
single_org=$(org "$VAR/sextant.conf")
cluster_org=$(org "$CL/sextant1.conf")

echo "# $(date -u +%FT%TZ) $(uptime)"
for n in "${COUNTS[@]}"; do
	for ((r = 1; r <= ROUNDS; r++)); do
		printf 'single  round=%d ' "$r"
		"$VAR/claim" "$single_org" "$n" "$TASKS" "$VAR/sextant.conf"
		printf 'cluster round=%d ' "$r"
		"$VAR/claim" "$cluster_org" "$n" "$TASKS" "$CL/sextant1.conf" "$CL/sextant2.conf" "$CL/sextant3.conf"
	done
done
echo "# $(uptime)"
