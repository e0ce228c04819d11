#!/usr/bin/env bash
# bench-retention.sh: how long a retention sweep takes, against `find -mmin +129600 -delete`
# and against the floor (scripts/bench/unlinkfloor: the due paths, listed beforehand, unlinked
# in their folders with one fsync per folder, no database).
#
# Builds a data folder of N recordings (empty .wav files in dated folders over ~100 days, with
# matching rows in SQLite; a share EXPIRED of them older than 90 days, file mtimes = start) and
# makes a fresh copy for every contestant before any timing. Then, one after the other:
#   floor     unlinkfloor on the list of due files
#   find      find -name '*.wav' -mmin +129600 -delete (exactly the files older than 90 days)
#   sweep     `callconsent --data-dir DIR sweep`, the whole CLI process, and Sweeper.Sweep alone
#             (retention/internal/benchsweep, on its own copy), for this checkout and, with
#             BASE=<git revision>, for that revision too
# Every contestant must leave the same files. Two cases:
#   backlog   N=200000, 10 % expired (20,000 due): a one-off backlog
#   steady    N=200000, 23 due: what the daemon's 15-minute sweep meets every time
#
# Usage: [BASE=main] scripts/bench-retention.sh [backlog|steady|all] [N]
# Environment: BENCH_DIR (default: a new folder under /tmp, removed at the end).
# Exit codes: 0 done, 1 a step failed or the contestants disagree. Needs go, GNU find, python3;
# perf (optional: fsyncs of the sweep's process, counted by the kernel).
set -euo pipefail

what=${1:-all}
N=${2:-200000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$(mktemp -d /tmp/bench-retention.XXXXXX)}
[[ -z ${BENCH_DIR:-} ]] && trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin"

build() { # build OUT_DIR SRC_DIR: the sweep's binaries of one source tree
	(cd "$2" && go build -o "$1/callconsent" ./cmd/callconsent && go build -o "$1/benchsweep" ./retention/internal/benchsweep)
}
cd "$ROOT"
go build -o "$WORK/bin/benchgen" ./retention/internal/benchgen
go build -o "$WORK/bin/unlinkfloor" ./scripts/bench/unlinkfloor
build "$WORK/bin/new" "$ROOT"
VERSIONS=(new)
if [[ -n ${BASE:-} ]]; then
	rm -rf "$WORK/base-src" && mkdir -p "$WORK/base-src"
	git -C "$ROOT" archive "$BASE" | tar -x -C "$WORK/base-src"
	build "$WORK/bin/base" "$WORK/base-src"
	VERSIONS=(base new)
	echo "base: $BASE ($(git -C "$ROOT" rev-parse --short "$BASE")); new: this checkout ($(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet || echo ', modified'))"
fi

# secs CMD...: runs CMD (its stdout to $WORK/out), prints its wall time in seconds.
secs() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$WORK/out"
	t1=$(date +%s%N)
	awk -v n=$((t1 - t0)) 'BEGIN {printf "%.3f", n/1e9}'
}
left() { find "$1/recordings" -name '*.wav' | wc -l; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), fs $(df -T "$WORK" | awk 'NR==2 {print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# run CASE EXPIRED_SHARE
run() {
	local name=$1 share=$2 v c
	echo "== $name: N=$N, expired share $share"
	rm -rf "$WORK/gen" "$WORK"/c.*
	"$WORK/bin/benchgen" -dir "$WORK/gen" -n "$N" -expired "$share" >/dev/null 2>&1
	# benchgen stores no key fingerprint: the CLI adopts this key at its first open.
	head -c 32 /dev/urandom >"$WORK/gen/pseudonym.key" && chmod 600 "$WORK/gen/pseudonym.key"
	# The rows hold absolute paths below gen/: a sweep runs on a copy renamed to gen/ just
	# before it, the others on their own copies. All copies are made before any timing.
	local copies=(floor find)
	for v in "${VERSIONS[@]}"; do copies+=("cli-$v" "sweep-$v"); done
	# The recordings are linked (cp -l): each copy has folders and directory entries of its own,
	# which is what an unlink and a folder fsync touch, and copying 200,000 files' data would
	# take minutes. The database is copied.
	(cd "$WORK/gen/recordings" && find . -name '*.wav' -mmin +129600 -printf '%P\n') >"$WORK/due"
	for c in "${copies[@]}"; do
		mkdir "$WORK/c.$c"
		cp -al "$WORK/gen/recordings" "$WORK/c.$c/recordings"
		cp -p "$WORK/gen"/callconsent.db* "$WORK/gen/pseudonym.key" "$WORK/c.$c/"
	done
	# The files that get deleted are files of their own in every copy (an unlink that only
	# drops a link to a shared inode would be cheaper than a real one).
	python3 - "$WORK" "$WORK/due" "${copies[@]}" <<'PY'
import os, sys
work, due, copies = sys.argv[1], sys.argv[2], sys.argv[3:]
paths = open(due).read().split()
for c in copies:
    for p in paths:
        src, dst = f"{work}/gen/recordings/{p}", f"{work}/c.{c}/recordings/{p}"
        st = os.lstat(src)
        data = open(src, "rb").read()
        os.unlink(dst)
        with open(dst, "wb") as f:
            f.write(data)
        os.chmod(dst, st.st_mode & 0o7777)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
	local due total
	due=$(wc -l <"$WORK/due")
	total=$(left "$WORK/gen")
	rm -rf "$WORK/gen"
	sync
	echo "files $total, due $due"

	local t want=$((total - due))
	t=$(secs "$WORK/bin/unlinkfloor" -dir "$WORK/c.floor/recordings" <"$WORK/due")
	printf '  %-22s %8s s  %6.1f us/file  left %d\n' floor "$t" "$(awk -v t="$t" -v n="$due" 'BEGIN {print (n ? t*1e6/n : 0)}')" "$(left "$WORK/c.floor")"
	FLOOR=$t
	t=$(secs find "$WORK/c.find/recordings" -name '*.wav' -mmin +129600 -delete)
	printf '  %-22s %8s s  %6.1f x floor  left %d\n' "find -mmin -delete" "$t" "$(awk -v t="$t" -v f="$FLOOR" 'BEGIN {print t/f}')" "$(left "$WORK/c.find")"
	for v in "${VERSIONS[@]}"; do
		mv "$WORK/c.cli-$v" "$WORK/gen"
		t=$(secs "$WORK/bin/$v/callconsent" --data-dir "$WORK/gen" sweep)
		printf '  %-22s %8s s  %6.1f x floor  left %d\n' "sweep CLI ($v)" "$t" "$(awk -v t="$t" -v f="$FLOOR" 'BEGIN {print t/f}')" "$(left "$WORK/gen")"
		[[ $(left "$WORK/gen") -eq $want ]] || { echo "MISMATCH: sweep CLI ($v) left $(left "$WORK/gen"), want $want" >&2; exit 1; }
		rm -rf "$WORK/gen"
		mv "$WORK/c.sweep-$v" "$WORK/gen"
		# perf counts the fsyncs in the kernel, without slowing the process as strace would.
		local tr=()
		perf stat -e syscalls:sys_enter_fsync true >/dev/null 2>&1 &&
			tr=(perf stat -e 'syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync' -x, -o "$WORK/perf")
		"${tr[@]}" "$WORK/bin/$v/benchsweep" -data-dir "$WORK/gen" >"$WORK/out"
		local sw fs=""
		sw=$(sed -n 's/.*"sweep_seconds":\([0-9.e-]*\).*/\1/p' "$WORK/out")
		[[ ${#tr[@]} -gt 0 ]] && fs=$(awk -F, '/sys_enter_f/ {n += $1} END {printf "; %d fsyncs in the whole process (open included)", n}' "$WORK/perf")
		printf '  %-22s %8.3f s  %6.1f x floor  %6.1f us/file%s\n' "Sweep() alone ($v)" "$sw" "$(awk -v t="$sw" -v f="$FLOOR" 'BEGIN {print t/f}')" "$(awk -v t="$sw" -v n="$due" 'BEGIN {print (n ? t*1e6/n : 0)}')" "$fs"
		rm -rf "$WORK/gen"
	done
	rm -rf "$WORK"/c.*
}

if [[ $what == backlog || $what == all ]]; then run backlog 0.1; fi
if [[ $what == steady || $what == all ]]; then run steady "$(awk -v n="$N" 'BEGIN {printf "%.8f", 23/n}')"; fi
