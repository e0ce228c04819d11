#!/usr/bin/env bash
# bench-consent.sh: the figures of BENCHMARKS.md for the consent flow, from `callconsent
# simulate` against `callconsent run` as two processes on this machine.
#
#   throughput  N calls, C at once, every caller presses 1 (a full consent flow: prompt,
#               durable grant, record_session, transfer, talk, hang-up, finalised row)
#   latency     a light load, where the digit→record_session latency is the daemon's own
#   memory      M calls all in conversation at once; the daemon's RSS above its idle RSS
#
# The daemon's database is on the disk (durable commits: fsync); the fake FreeSWITCH writes
# the recordings to /dev/shm, since its WAV writing is FreeSWITCH's cost, not ours.
# Usage: scripts/bench-consent.sh [throughput|latency|memory|all]   (default all)
# Environment: BENCH_DIR (default a new folder under /tmp), CALLS, CONC, TALK.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$(mktemp -d /tmp/bench-consent.XXXXXX)}
REC=/dev/shm/callconsent-bench-rec
BIN=$WORK/callconsent
LISTEN=127.0.0.1:18084
FS=127.0.0.1:18021
trap 'pkill -f "$BIN --data-dir $WORK/d" 2>/dev/null || true; rm -rf "$REC"' EXIT
(cd "$ROOT" && go build -o "$BIN" ./cmd/callconsent)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), db on $(df -T "$WORK" | awk 'NR==2 {print $2}')"

# run_once CALLS CONC TALK MIX: prints the simulate summary and the daemon's CPU and memory.
run_once() {
	rm -rf "$WORK/d" "$REC"
	mkdir -p "$WORK/d"
	"$BIN" --data-dir "$WORK/d" --recordings-dir "$REC" --esl-listen $LISTEN --freeswitch $FS --log-level warn run 2>"$WORK/run.log" &
	local dpid=$! peak=0 maxc=0 rss r c t0 t1 base
	sleep 1
	base=$(awk '/VmRSS/{print $2}' /proc/$dpid/status)
	t0=$(awk '{print $14+$15}' /proc/$dpid/stat)
	/usr/bin/time -f "%U %S" -o "$WORK/sim.time" "$BIN" --data-dir "$WORK/d" --esl-listen $LISTEN --freeswitch $FS simulate --calls "$1" --concurrency "$2" \
		--talk "$3" --mix "$4" --output json >"$WORK/sim.json" 2>"$WORK/sim.err" &
	local spid=$!
	while kill -0 $spid 2>/dev/null; do
		r=$(awk '/VmRSS/{print $2}' /proc/$dpid/status)
		c=$(ss -Htn state established "( sport = :${LISTEN##*:} )" | wc -l)
		((r > peak)) && peak=$r
		((c > maxc)) && maxc=$c
		sleep 0.25
	done
	wait $spid || true
	t1=$(awk '{print $14+$15}' /proc/$dpid/stat)
	kill -INT $dpid
	wait $dpid || true
	python3 - "$WORK/sim.json" "$((t1 - t0))" "$base" "$peak" "$maxc" "$WORK/sim.time" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ticks, base, peak, maxc = (int(x) for x in sys.argv[2:6])
fake = sum(float(x) for x in open(sys.argv[6]).read().split()[-2:])
print(f"  calls {r['calls']} in {r['seconds']:.1f} s = {r['calls_per_second']:.0f} calls/s, errors {r['errors']}")
print(f"  digit->record_session: p50 {r['digit_to_record_p50_ms']:.2f} ms, p99 {r['digit_to_record_p99_ms']:.2f} ms, max {r['digit_to_record_max_ms']:.2f} ms ({r['digit_to_record_samples']} calls)")
print(f"  daemon CPU {ticks/100:.2f} s = {ticks*10000/r['calls']:.0f} us per call; fake FreeSWITCH CPU {fake:.2f} s = {fake*1e6/r['calls']:.0f} us per call")
print(f"  daemon RSS idle {base} KiB, peak {peak} KiB; max concurrent calls {maxc}: {(peak-base)/max(maxc,1):.0f} KiB per concurrent call")
PY
}

what=${1:-all}
if [[ $what == throughput || $what == all ]]; then
	echo "== throughput: ${CALLS:-3000} consent calls, ${CONC:-500} at once, talk ${TALK:-1s}"
	run_once "${CALLS:-3000}" "${CONC:-500}" "${TALK:-1s}" consent=1
fi
if [[ $what == latency || $what == all ]]; then
	echo "== latency: 400 consent calls, 4 at once"
	run_once 400 4 300ms consent=1
fi
if [[ $what == memory || $what == all ]]; then
	echo "== memory: 5000 consent calls all at once, talk 40s"
	run_once 5000 5000 40s consent=1
fi
