#!/usr/bin/env bash
# install.sh — install callconsent on a FreeSWITCH host (Debian/Ubuntu layout). Idempotent:
# running it again updates the binary, notices, unit and docs, and leaves existing
# configuration, password, database and key alone.
#
# Usage: sudo scripts/install.sh [--dry-run] [--binary PATH] [--no-enable]
#   --dry-run      print what would be done; changes nothing (the only mode that runs without root)
#   --binary PATH  install this prebuilt callconsent binary instead of building from this checkout
#   --no-enable    install the systemd unit but do not enable it
#
# What it does:
#   - builds (go build ./cmd/callconsent, needs Go and a C compiler for SQLite) or copies the
#     binary to /usr/local/bin/callconsent
#   - creates the system user/group callconsent and the group callrec shared with FreeSWITCH
#     (callconsent and, if it exists, freeswitch become members)
#   - /etc/callconsent (0750 root:callconsent) with callconsent.yaml from the sample (only if
#     absent; the sample is always refreshed as callconsent.yaml.example) and a random
#     esl-password (only if absent)
#   - the notices under /usr/share/callconsent/notices, the FreeSWITCH snippets under
#     /usr/share/callconsent/freeswitch, the README under /usr/share/doc/callconsent
#   - the recordings folder /var/lib/freeswitch/recordings (freeswitch:callrec, mode 2770)
#   - /etc/systemd/system/callconsent.service (ExecStart pointed at /usr/local/bin), daemon-reload,
#     enable (not start)
# It does not touch FreeSWITCH's own configuration: see the printed next steps.
# On Debian and Ubuntu, prefer the package (scripts/deb/build-deb.sh, README "Install").
set -euo pipefail

readonly BIN=/usr/local/bin/callconsent
readonly ETC=/etc/callconsent
readonly SHARE=/usr/share/callconsent
readonly DOC=/usr/share/doc/callconsent
readonly STATE=/var/lib/callconsent
readonly RECORDINGS=/var/lib/freeswitch/recordings
readonly UNIT=/etc/systemd/system/callconsent.service
readonly USER_NAME=callconsent
readonly SHARED_GROUP=callrec
readonly FS_USER=freeswitch

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd -- "$script_dir/.." && pwd)

dry_run=0
binary=""
enable=1

die() { echo "install.sh: $*" >&2; exit 1; }
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
	case "$1" in
	--dry-run) dry_run=1 ;;
	--binary)
		[[ $# -ge 2 ]] || die "--binary needs a path"
		binary=$2
		shift
		;;
	--no-enable) enable=0 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done

if [[ $dry_run -eq 0 && $EUID -ne 0 ]]; then
	die "must run as root (or use --dry-run to see what it would do)"
fi

# run CMD...: print the command; execute it unless --dry-run.
run() {
	local quoted
	quoted=$(printf '%q ' "$@")
	if [[ $dry_run -eq 1 ]]; then
		echo "would run: ${quoted% }"
	else
		echo "+ ${quoted% }"
		"$@"
	fi
}

note() { echo "== $*"; }

user_exists() { getent passwd "$1" >/dev/null 2>&1; }
group_exists() { getent group "$1" >/dev/null 2>&1; }
in_group() { id -nG "$1" 2>/dev/null | tr ' ' '\n' | grep -qx "$2"; }

# Sources in this checkout.
for f in scripts/callconsent.example.yaml scripts/systemd/callconsent.service \
	scripts/freeswitch/README.md scripts/freeswitch/dialplan-callconsent.xml \
	scripts/freeswitch/event_socket.conf.xml notices/notices.yaml; do
	[[ -f "$repo_dir/$f" ]] || die "missing $repo_dir/$f (run from a complete checkout)"
done
shopt -s nullglob
notice_files=("$repo_dir"/notices/*.wav "$repo_dir"/notices/*.txt "$repo_dir"/notices/notices.yaml)
[[ -f "$repo_dir/notices/SHA256SUMS" ]] && notice_files+=("$repo_dir/notices/SHA256SUMS")
compgen -G "$repo_dir/notices/notice-*.wav" >/dev/null || die "no notices/notice-*.wav: run scripts/make-notices.sh first"

# Check the committed notices still match their recorded hashes before shipping them.
if [[ -f "$repo_dir/notices/SHA256SUMS" ]]; then
	(cd -- "$repo_dir/notices" && sha256sum --quiet -c SHA256SUMS) ||
		die "notices/ do not match notices/SHA256SUMS (regenerate with scripts/make-notices.sh)"
fi

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# --- 1. binary -------------------------------------------------------------------------------
note "binary -> $BIN"
if [[ -n "$binary" ]]; then
	[[ -f "$binary" && -x "$binary" ]] || die "--binary $binary is not an executable file"
	src_bin=$binary
else
	command -v go >/dev/null 2>&1 || die "go not found: install Go, or pass --binary PATH"
	[[ -d "$repo_dir/cmd/callconsent" ]] || die "no $repo_dir/cmd/callconsent to build"
	src_bin="$tmp/callconsent"
	run env -C "$repo_dir" CGO_ENABLED=1 go build -trimpath -o "$src_bin" ./cmd/callconsent
fi
run install -D -m 0755 -o root -g root "$src_bin" "$BIN"

# --- 2. users and groups ---------------------------------------------------------------------
note "accounts: user $USER_NAME, shared group $SHARED_GROUP"
if ! user_exists "$USER_NAME"; then
	run useradd --system --user-group --home-dir "$STATE" --no-create-home \
		--shell /usr/sbin/nologin --comment "callconsent consent sidecar" "$USER_NAME"
else
	echo "user $USER_NAME exists"
fi
if ! group_exists "$SHARED_GROUP"; then
	run groupadd --system "$SHARED_GROUP"
else
	echo "group $SHARED_GROUP exists"
fi
for member in "$USER_NAME" "$FS_USER"; do
	if ! user_exists "$member"; then
		[[ "$member" == "$FS_USER" ]] && echo "warning: no user $FS_USER (FreeSWITCH not installed yet?): add it to $SHARED_GROUP later: usermod -aG $SHARED_GROUP $FS_USER" >&2
		[[ "$member" == "$USER_NAME" && $dry_run -eq 1 ]] && echo "would add $USER_NAME to $SHARED_GROUP"
		continue
	fi
	if in_group "$member" "$SHARED_GROUP"; then
		echo "$member is in $SHARED_GROUP"
	else
		run usermod -aG "$SHARED_GROUP" "$member"
		[[ "$member" == "$FS_USER" ]] && echo "note: restart FreeSWITCH so it picks up group $SHARED_GROUP"
	fi
done
fs_owner=root
user_exists "$FS_USER" && fs_owner=$FS_USER

# --- 3. configuration ------------------------------------------------------------------------
note "configuration in $ETC"
run install -d -m 0750 -o root -g "$USER_NAME" "$ETC"
run install -m 0640 -o root -g "$USER_NAME" "$repo_dir/scripts/callconsent.example.yaml" "$ETC/callconsent.yaml.example"
if [[ -e "$ETC/callconsent.yaml" ]]; then
	echo "$ETC/callconsent.yaml exists: left unchanged (compare with callconsent.yaml.example)"
else
	run install -m 0640 -o root -g "$USER_NAME" "$repo_dir/scripts/callconsent.example.yaml" "$ETC/callconsent.yaml"
fi
new_password=0
if [[ -e "$ETC/esl-password" ]]; then
	echo "$ETC/esl-password exists: left unchanged"
else
	new_password=1
	# 48 hex characters: safe in XML and in ESL's "auth <password>" line.
	if [[ $dry_run -eq 1 ]]; then
		echo "would write: $ETC/esl-password (random 48 hex chars, 0640 root:$USER_NAME)"
	else
		(umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$tmp/esl-password")
		run install -m 0640 -o root -g "$USER_NAME" "$tmp/esl-password" "$ETC/esl-password"
	fi
fi

# --- 4. notices, FreeSWITCH snippets, docs ---------------------------------------------------
note "notices -> $SHARE/notices"
run install -d -m 0755 -o root -g root "$SHARE" "$SHARE/notices" "$SHARE/freeswitch" "$DOC"
# World-readable: FreeSWITCH (user freeswitch) plays them; they are published texts anyway.
run install -m 0644 -o root -g root "${notice_files[@]}" "$SHARE/notices/"
run install -m 0644 -o root -g root "$repo_dir/scripts/freeswitch/dialplan-callconsent.xml" \
	"$repo_dir/scripts/freeswitch/event_socket.conf.xml" "$repo_dir/scripts/freeswitch/README.md" "$SHARE/freeswitch/"
run install -m 0644 -o root -g root "$repo_dir/scripts/freeswitch/README.md" "$DOC/README.md"

# --- 5. recordings folder --------------------------------------------------------------------
# FreeSWITCH writes here, callconsent reads and deletes: owner freeswitch, group callrec,
# set-group-ID so everything created below inherits the group.
note "recordings folder $RECORDINGS"
run install -d -m 2770 -o "$fs_owner" -g "$SHARED_GROUP" "$RECORDINGS"
if [[ -d /var/lib/freeswitch ]]; then
	perm=$(stat -c %a /var/lib/freeswitch)
	if ((8#$perm & 8#001)) || [[ "$(stat -c %G /var/lib/freeswitch)" == "$SHARED_GROUP" ]]; then
		echo "/var/lib/freeswitch is traversable"
	elif command -v setfacl >/dev/null 2>&1; then
		# callconsent only needs to pass through /var/lib/freeswitch, not to list or read it.
		run setfacl -m "g:$SHARED_GROUP:x" /var/lib/freeswitch
	else
		echo "warning: $USER_NAME cannot traverse /var/lib/freeswitch (mode $perm): install acl and run: setfacl -m g:$SHARED_GROUP:x /var/lib/freeswitch" >&2
	fi
fi

# --- 6. systemd unit -------------------------------------------------------------------------
note "systemd unit -> $UNIT"
# The unit names the Debian package's /usr/bin/callconsent; this script installs to $BIN.
sed "s#^ExecStart=/usr/bin/callconsent #ExecStart=$BIN #" "$repo_dir/scripts/systemd/callconsent.service" >"$tmp/callconsent.service"
grep -q "^ExecStart=$BIN " "$tmp/callconsent.service" || die "scripts/systemd/callconsent.service: no ExecStart=/usr/bin/callconsent line to point at $BIN"
run install -m 0644 -o root -g root "$tmp/callconsent.service" "$UNIT"
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system || $dry_run -eq 1 ]]; then
	run systemctl daemon-reload
	if [[ $enable -eq 1 ]]; then
		run systemctl enable callconsent.service
	fi
else
	echo "warning: systemd is not running here: unit installed but not loaded/enabled" >&2
fi

# --- next steps ------------------------------------------------------------------------------
echo
if [[ $dry_run -eq 1 ]]; then echo "Done (dry run: nothing was changed)."; else echo "Done."; fi
echo "Next steps (see $DOC/README.md):"
echo "  1. Edit $ETC/callconsent.yaml (transfer target, language, retention)."
echo "  2. Put the password from $ETC/esl-password into FreeSWITCH's event socket configuration:"
echo "       $SHARE/freeswitch/event_socket.conf.xml -> /etc/freeswitch/autoload_configs/event_socket.conf.xml"
if [[ $new_password -eq 1 ]]; then
	echo "     (a NEW password was generated: FreeSWITCH keeps its old one until you do this)"
fi
echo "  3. Install the dialplan: $SHARE/freeswitch/dialplan-callconsent.xml -> /etc/freeswitch/dialplan/public/00_callconsent.xml"
echo "     (edit the number and transfer target), then: fs_cli -x reloadxml"
echo "  4. Restart FreeSWITCH (group $SHARED_GROUP, event socket password), then: systemctl start callconsent"
