#!/usr/bin/env bash
# bench-consent.sh: the figures of BENCHMARKS.md for the consent flow, from `callconsent
# simulate` against `callconsent run` as two processes on this machine.
#
#   commits   200 calls, 4 at once, under `strace -f -c`: fsyncs of the daemon per call, for
#             callers who all press 1 (granted) and for callers who all press 2 (declined)
#   latency   400 calls, 4 at once: digit → record_session p50/p99, with the disk's own fsync
#             latency probed just before and after (scripts/bench/fsyncprobe)
#   capacity  raises the calls in flight (250, 500, 1000, 2000, 4000; LEVELS to change) until
#             the rate stops growing (< 5 % more) or calls are handled wrongly, and prints the
#             knee, the best rate without errors: calls/s, calls in flight, CPU of the daemon
#             and the fake per call. A single run at one concurrency only measures that
#             concurrency (C in flight for T seconds each caps the rate at C/T)
#   memory    5,000 calls all in conversation at once; the daemon's RSS above its idle RSS
#
# With BASE=<git revision> each measure also runs the daemon built from that revision,
# alternating with this checkout's (ROUNDS times, default 2), so that before and after come
# from the same minutes of a shared machine. The fake FreeSWITCH is always this checkout's.
# The daemon's database is on the disk (durable commits: fsync); the fake writes the
# recordings to /dev/shm, since its WAV writing is FreeSWITCH's cost, not ours.
# Usage: [BASE=main] [ROUNDS=2] scripts/bench-consent.sh [commits|latency|capacity|memory|all]
# Environment: BENCH_DIR (default a new folder under /tmp).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$(mktemp -d /tmp/bench-consent.XXXXXX)}
REC=/dev/shm/callconsent-bench-rec.$$
LISTEN=127.0.0.1:18084
FS=127.0.0.1:18021
ROUNDS=${ROUNDS:-2}
DPID=
trap '[[ -n $DPID ]] && kill $DPID 2>/dev/null; rm -rf "$REC"' EXIT

(cd "$ROOT" && go build -o "$WORK/callconsent" ./cmd/callconsent && go build -o "$WORK/fsyncprobe" ./scripts/bench/fsyncprobe)
BINS=("new=$WORK/callconsent")
if [[ -n ${BASE:-} ]]; then
	rm -rf "$WORK/base-src" && mkdir -p "$WORK/base-src"
	git -C "$ROOT" archive "$BASE" | tar -x -C "$WORK/base-src"
	(cd "$WORK/base-src" && go build -o "$WORK/callconsent-base" ./cmd/callconsent)
	BINS=("base=$WORK/callconsent-base" "new=$WORK/callconsent")
	echo "base: $BASE ($(git -C "$ROOT" rev-parse --short "$BASE")); new: this checkout ($(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo ', modified'))"
fi
SIM=$WORK/callconsent
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), db on $(df -T "$WORK" | awk 'NR==2 {print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# run_once LABEL BIN CALLS CONC TALK MIX [strace]: runs the daemon BIN and the simulation and
# prints one line of figures; with strace, the daemon runs under `strace -f -c` for fsyncs.
run_once() {
	local label=$1 bin=$2 calls=$3 conc=$4 talk=$5 mix=$6 trace=${7:-}
	rm -rf "$WORK/d" "$REC"
	mkdir -p "$WORK/d"
	local cmd=("$bin" --data-dir "$WORK/d" --recordings-dir "$REC" --esl-listen $LISTEN --freeswitch $FS --log-level warn run)
	if [[ -n $trace ]]; then
		cmd=(strace -f -c --seccomp-bpf -e trace=fsync,fdatasync -o "$WORK/strace.out" "${cmd[@]}")
	fi
	"${cmd[@]}" 2>"$WORK/run.log" &
	local spid=$! dpid
	sleep 1
	dpid=$spid
	[[ -n $trace ]] && dpid=$(pgrep -P "$spid" | head -1)
	DPID=$dpid
	local peak=0 maxc=0 r c t0 t1 base
	base=$(awk '/VmRSS/{print $2}' /proc/$dpid/status)
	t0=$(awk '{print $14+$15}' /proc/$dpid/stat)
	/usr/bin/time -f "%U %S" -o "$WORK/sim.time" "$SIM" --data-dir "$WORK/d" --esl-listen $LISTEN --freeswitch $FS simulate --calls "$calls" --concurrency "$conc" \
		--talk "$talk" --mix "$mix" --output json >"$WORK/sim.json" 2>"$WORK/sim.err" &
	local simpid=$!
	while kill -0 $simpid 2>/dev/null; do
		r=$(awk '/VmRSS/{print $2}' /proc/$dpid/status)
		c=$(ss -Htn state established "( sport = :${LISTEN##*:} )" | wc -l)
		((r > peak)) && peak=$r
		((c > maxc)) && maxc=$c
		sleep 0.25
	done
	wait $simpid || true
	t1=$(awk '{print $14+$15}' /proc/$dpid/stat)
	kill -INT $dpid
	wait $spid || true
	DPID=
	local fsyncs=-1
	[[ -n $trace ]] && fsyncs=$(awk '$NF=="fsync" || $NF=="fdatasync" {n += $4} END {print n+0}' "$WORK/strace.out")
	python3 - "$label" "$WORK/sim.json" "$((t1 - t0))" "$base" "$peak" "$maxc" "$WORK/sim.time" "$fsyncs" <<'PY'
import json, sys
label = sys.argv[1]
r = json.load(open(sys.argv[2]))
ticks, base, peak, maxc = (int(x) for x in sys.argv[3:7])
fake = sum(float(x) for x in open(sys.argv[7]).read().split()[-2:])
fsyncs = int(sys.argv[8])
n = max(r['calls'], 1)
line = f"  {label:5} {r['calls']} calls in {r['seconds']:.1f} s = {r['calls_per_second']:.0f}/s, errors {r['errors']}"
if r['digit_to_record_samples']:
    line += f"; digit->record_session p50 {r['digit_to_record_p50_ms']:.2f} ms, p99 {r['digit_to_record_p99_ms']:.2f} ms"
if fsyncs >= 0:
    line += f"; {fsyncs} fsyncs = {fsyncs/n:.2f} per call"
else:
    line += f"; CPU daemon {ticks*10000/n:.0f} us/call, fake {fake*1e6/n:.0f} us/call; RSS {base}->{peak} KiB, {maxc} in flight: {(peak-base)/max(maxc,1):.0f} KiB/call"
print(line, flush=True)
with open(sys.argv[2] + '.lines', 'a') as f:
    f.write(json.dumps({'label': label, 'rate': r['calls_per_second'], 'errors': r['errors'], 'cpu_us': ticks*10000/n, 'fake_us': fake*1e6/n, 'inflight': maxc}) + '\n')
PY
}

# each LABEL=BIN pair of BINS, ROUNDS times, alternating.
rounds() {
	local i pair
	for ((i = 1; i <= ROUNDS; i++)); do
		for pair in "${BINS[@]}"; do
			"$@" "${pair%%=*}" "${pair#*=}"
		done
	done
}

probe() { "$WORK/fsyncprobe" -dir "$WORK" -n 200 -every 5ms; }

what=${1:-all}
if [[ $what == commits || $what == all ]]; then
	echo "== commits: 200 calls, 4 at once, daemon under strace -f -c (fsync + fdatasync)"
	echo "granted (every caller presses 1):"
	granted() { run_once "$1" "$2" 200 4 300ms consent=1 strace; }
	rounds granted
	echo "declined (every caller presses 2):"
	declined() { run_once "$1" "$2" 200 4 300ms decline=1 strace; }
	rounds declined
fi
if [[ $what == latency || $what == all ]]; then
	echo "== latency: 400 consent calls, 4 at once, the fsync probe before each run"
	latency() { probe; run_once "$1" "$2" 400 4 300ms consent=1; }
	rounds latency
	probe
fi
if [[ $what == capacity || $what == all ]]; then
	echo "== capacity: calls in flight raised until the rate grows less than 5 %; talk 1s"
	knee() {
		local label=$1 bin=$2 conc prev=0 rate
		: >"$WORK/sim.json.lines"
		for conc in ${LEVELS:-250 500 1000 2000 4000}; do
			run_once "$label" "$bin" $((conc * 4)) $conc 1s consent=1
			rate=$(tail -1 "$WORK/sim.json.lines" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["rate"]))')
			if ((rate * 100 < prev * 105)) || grep -q '"errors": [1-9]' <(tail -1 "$WORK/sim.json.lines"); then break; fi
			prev=$rate
		done
		python3 - "$label" "$WORK/sim.json.lines" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[2])]
ok = [r for r in rows if r['errors'] == 0] or rows  # a rate with calls handled wrongly is no capacity
best = max(ok, key=lambda r: r['rate'])
print(f"  {sys.argv[1]:5} knee: {best['rate']:.0f} calls/s at {best['inflight']} calls in flight; CPU per call daemon {best['cpu_us']:.0f} us, fake {best['fake_us']:.0f} us")
PY
	}
	rounds knee
fi
if [[ $what == memory || $what == all ]]; then
	echo "== memory: 5000 consent calls all at once, talk 40s"
	memory() { run_once "$1" "$2" 5000 5000 40s consent=1; }
	rounds memory
fi
