#!/usr/bin/env bash
# bench-retention.sh: how long a retention sweep takes, against `find -mtime +90 -delete`.
#
# Builds a data folder of N recordings (empty .wav files in dated folders over ~100 days, with
# matching rows in SQLite; a share EXPIRED of them older than 90 days, file mtimes = start),
# makes an identical copy, then times on one the sweep (`callconsent --data-dir DIR sweep` if the
# binary has that command, else retention/internal/benchsweep, which calls Sweeper.Sweep) and on
# the other `find DIR -name '*.wav' -mtime +90 -delete`, and prints the ratio. find only unlinks;
# the sweep also marks, fsyncs, writes tombstones and purges call rows, in batches.
#
# A second series shows how the sweep's time grows with the expired count and with the total:
# it should follow the expired count (O(expired)), not the total.
#
# Usage: scripts/bench-retention.sh [N] [EXPIRED]
#   N        recordings in the main run (default 1000000)
#   EXPIRED  share older than 90 days (default 0.1)
# Environment:
#   BENCH_DIR     work folder (default: a new one under /tmp, removed at the end)
#   SERIES_TOTALS totals of the series (default "100000 1000000"; "" skips the series)
#   SERIES_SHARES expired shares of the series (default "0.01 0.1")
#
# Exit codes: 0 done, 1 a step failed or sweep and find disagree. Needs go, GNU find, awk.
set -euo pipefail

N=${1:-1000000}
EXPIRED=${2:-0.1}
SERIES_TOTALS=${SERIES_TOTALS-"100000 1000000"}
SERIES_SHARES=${SERIES_SHARES-"0.01 0.1"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$(mktemp -d /tmp/bench-retention.XXXXXX)}
[[ -z ${BENCH_DIR:-} ]] && trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin"

cd "$ROOT"
go build -o "$WORK/bin/benchgen" ./retention/internal/benchgen
go build -o "$WORK/bin/benchsweep" ./retention/internal/benchsweep
SWEEP=("$WORK/bin/benchsweep" -data-dir)
if go build -o "$WORK/bin/callconsent" ./cmd/callconsent 2>/dev/null &&
	"$WORK/bin/callconsent" sweep --help >/dev/null 2>&1; then
	SWEEP=(callconsent_sweep)
fi
callconsent_sweep() { "$WORK/bin/callconsent" --data-dir "$1" sweep; }

# secs CMD...: runs CMD, prints its wall time in seconds (3 decimals) on stdout.
secs() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	printf '%d.%03d' $(((t1 - t0) / 1000000000)) $((((t1 - t0) / 1000000) % 1000))
}

# ms SECONDS: seconds as integer milliseconds, for bash arithmetic.
ms() { local s=${1%.*} f=${1#*.}; echo $((10#$s * 1000 + 10#$f)); }

gen() { # gen DIR N EXPIRED
	rm -rf "$1"
	"$WORK/bin/benchgen" -dir "$1" -n "$2" -expired "$3" >&2
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), fs $(df -T "$WORK" | awk 'NR==2 {print $2}')"
echo "sweep command: ${SWEEP[*]}"

echo "== main: N=$N expired=$EXPIRED"
# The rows hold absolute paths, so the sweep runs on the folder where they were generated and
# find on the copy (find does not read the database).
gen "$WORK/a" "$N" "$EXPIRED"
rm -rf "$WORK/b"
cp -a "$WORK/a" "$WORK/b"
sync
want=$(find "$WORK/a/recordings" -name '*.wav' -mtime +90 | wc -l)
ts=$(secs "${SWEEP[@]}" "$WORK/a")
tf=$(secs find "$WORK/b/recordings" -name '*.wav' -mtime +90 -delete)
left_a=$(find "$WORK/a/recordings" -name '*.wav' | wc -l)
left_b=$(find "$WORK/b/recordings" -name '*.wav' | wc -l)
echo "expired files: $want; left after sweep: $left_a, after find: $left_b"
echo "sweep: ${ts}s  find -delete: ${tf}s  ratio sweep/find: $(awk -v a="$(ms "$ts")" -v b="$(ms "$tf")" 'BEGIN {printf "%.2f", (b ? a/b : 0)}')"
if [[ $left_a -ne $left_b ]]; then
	echo "MISMATCH: sweep and find left different counts" >&2
	exit 1
fi
rm -rf "$WORK/a" "$WORK/b"

[[ -z $SERIES_TOTALS ]] && exit 0
echo "== series: sweep time by total and expired share (regular sweep, no orphan scan)"
# process_s is the whole command (opening the store runs an integrity check that reads the
# whole database file); sweep_s is Sweeper.Sweep alone, when benchsweep reports it.
printf '%10s %8s %10s %10s %10s %14s\n' total share expired process_s sweep_s sweep_ms/1k_exp
for total in $SERIES_TOTALS; do
	for share in $SERIES_SHARES; do
		gen "$WORK/s" "$total" "$share"
		sync
		n=$(awk -v t="$total" -v s="$share" 'BEGIN {printf "%d", t*s}')
		t0=$(date +%s%N)
		out=$("${SWEEP[@]}" "$WORK/s")
		t1=$(date +%s%N)
		t=$(printf '%d.%03d' $(((t1 - t0) / 1000000000)) $((((t1 - t0) / 1000000) % 1000)))
		sw=$(sed -n 's/.*"sweep_seconds":\([0-9.]*\).*/\1/p' <<<"$out")
		printf '%10d %8s %10d %10s %10s %14s\n' "$total" "$share" "$n" "$t" "${sw:0:5}" \
			"$(awk -v a="${sw:-0}" -v n="$n" 'BEGIN {printf "%.1f", (n ? a*1e6/n : 0)}')"
	done
done
rm -rf "$WORK/s"
