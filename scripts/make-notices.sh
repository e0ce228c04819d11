#!/usr/bin/env bash
# make-notices.sh — regenerate the consent-notice WAV files from their text files.
#
# For every notices/<kind>-<lang>.txt (kind = notice | invalid) this writes
# notices/<kind>-<lang>.wav: espeak-ng speech, converted by sox to FreeSWITCH's
# native telephony format (8 kHz, mono, 16-bit signed PCM WAV), with a little
# leading/trailing silence so the first syllable is not lost while media settles.
# Then it writes notices/SHA256SUMS and prints the SHA-256 of every file.
#
# Reproducible: same text + same espeak-ng/sox versions => byte-identical WAVs
# (no dither, sox repeatable mode, fixed voice/speed/pitch). The versions used
# are printed; record them when you publish a new notice version.
#
# Usage: scripts/make-notices.sh [--check] [--dir DIR]
#   --check   regenerate into a temp dir and compare with the WAVs in DIR;
#             exit 1 if any differs (nothing in DIR is changed)
#   --dir     notices directory (default: <repo>/notices)
#
# When the TEXT of a notice changes, also bump its version id in
# notices/notices.yaml and in the deployed callconsent.yaml: the version id and
# the audio hash are part of every stored proof of consent.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
notices_dir="${script_dir}/../notices"
check=0

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
	case "$1" in
	--check) check=1 ;;
	--dir)
		[[ $# -ge 2 ]] || { echo "make-notices: --dir needs a value" >&2; exit 2; }
		notices_dir=$2
		shift
		;;
	-h | --help) usage; exit 0 ;;
	*) echo "make-notices: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

missing=()
for tool in espeak-ng sox soxi sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "make-notices: missing tool(s): ${missing[*]}" >&2
	echo "  install on Debian/Ubuntu: apt-get update && apt-get install -y espeak-ng sox coreutils" >&2
	exit 1
fi

[[ -d "$notices_dir" ]] || { echo "make-notices: no such directory: $notices_dir" >&2; exit 1; }
notices_dir=$(cd -- "$notices_dir" && pwd)

# espeak-ng voice per language code used in the file names.
voice_for() {
	case "$1" in
	nb) echo nb ;;       # Norwegian Bokmål
	en) echo en-gb ;;    # English (British)
	*) echo "$1" ;;      # anything else: try the code itself as the voice name
	esac
}

# Fixed synthesis parameters (changing any of these changes every hash).
readonly SPEED=150   # words per minute (espeak default 175 is fast on a phone)
readonly PITCH=50    # espeak default
readonly WORDGAP=1   # extra pause between words, in units of 10 ms
readonly PAD_START=0.3 PAD_END=0.5

echo "espeak-ng: $(espeak-ng --version | head -n1)"
echo "sox:       $(sox --version 2>&1 | head -n1 | sed "s/^sox: *//")"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

shopt -s nullglob
texts=("$notices_dir"/notice-*.txt "$notices_dir"/invalid-*.txt)
if [[ ${#texts[@]} -eq 0 ]]; then
	echo "make-notices: no notice-*.txt or invalid-*.txt in $notices_dir" >&2
	exit 1
fi

out_dir=$notices_dir
[[ $check -eq 1 ]] && out_dir="$tmp/out" && mkdir -p "$out_dir"

for txt in "${texts[@]}"; do
	base=$(basename -- "$txt" .txt)   # e.g. notice-nb
	lang=${base##*-}
	voice=$(voice_for "$lang")
	raw="$tmp/$base.raw.wav"
	wav="$out_dir/$base.wav"

	if [[ ! -s "$txt" ]]; then
		echo "make-notices: $txt is empty" >&2
		exit 1
	fi
	# -b 1: input is UTF-8 (æ, ø, å); -f: read the text file as is.
	if ! espeak-ng -v "$voice" -s "$SPEED" -p "$PITCH" -g "$WORDGAP" -b 1 -f "$txt" -w "$raw"; then
		echo "make-notices: espeak-ng failed for $txt (voice '$voice' installed? espeak-ng --voices=$lang)" >&2
		exit 1
	fi
	# -D: no dither, -R: repeatable (fixed seeds) => byte-identical output.
	# -V1: only errors. rate -v: very-high-quality resampler to 8 kHz.
	sox -V1 -D -R "$raw" -r 8000 -c 1 -b 16 -e signed-integer -t wav "$wav" \
		remix - rate -v 8000 gain -n -3 pad "$PAD_START" "$PAD_END"

	# Verify the format FreeSWITCH expects.
	rate=$(soxi -r "$wav") chans=$(soxi -c "$wav") bits=$(soxi -b "$wav") enc=$(soxi -e "$wav")
	if [[ "$rate" != 8000 || "$chans" != 1 || "$bits" != 16 || "$enc" != "Signed Integer PCM" ]]; then
		echo "make-notices: $wav has rate=$rate channels=$chans bits=$bits encoding=$enc, want 8000/1/16/Signed Integer PCM" >&2
		exit 1
	fi
	printf '%-16s voice=%-6s %6.1f s  %7d bytes\n' "$base.wav" "$voice" "$(soxi -D "$wav")" "$(stat -c %s "$wav")"
done

if [[ $check -eq 1 ]]; then
	status=0
	for wav in "$out_dir"/*.wav; do
		name=$(basename -- "$wav")
		if ! cmp -s "$wav" "$notices_dir/$name"; then
			echo "DIFFERS: $name (committed $(sha256sum <"$notices_dir/$name" 2>/dev/null | cut -d' ' -f1 || echo missing), regenerated $(sha256sum <"$wav" | cut -d' ' -f1))"
			status=1
		fi
	done
	[[ $status -eq 0 ]] && echo "OK: all WAVs regenerate byte-identically"
	exit "$status"
fi

# SHA256SUMS: verify later with (cd notices && sha256sum -c SHA256SUMS).
(
	cd -- "$notices_dir"
	sha256sum -- *.txt *.wav >SHA256SUMS
	echo
	echo "SHA-256 (also in $notices_dir/SHA256SUMS):"
	cat SHA256SUMS
)
