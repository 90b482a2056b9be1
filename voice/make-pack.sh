#!/usr/bin/env bash
# Makes the default voice pack: one WAV a clip of voice/clips.txt, spoken by espeak-ng's
# Southern Vietnamese voice (the speech of Hồ Chí Minh City) at an unhurried pace,
# silence trimmed, brought to the same peak level, 16 kHz mono. Needs `apt-get install espeak-ng sox`; the pack is committed, so building and
# running need neither.
#   voice/make-pack.sh [folder] [espeak-ng voice]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-voice/packs/vi-south}
voice=${2:-vi-vn-x-south}
mkdir -p "$out"
while IFS= read -r clip; do
    [ -n "$clip" ] || continue
    # Letter names are written with hyphens ("e-lờ") but spoken as words.
    espeak-ng -v "$voice" -s 130 -w "$out/raw.wav" "${clip//-/ }"
    sox -V1 "$out/raw.wav" -r 16000 -c 1 -b 16 "$out/$clip.wav" \
        silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse norm -1 pad 0.02 0.04
    # A word spoken in under 0.3 s ("trăm", "gi") is slowed to 0.3 s, pitch kept: heard
    # across a hall, a clipped word is lost.
    length=$(soxi -D "$out/$clip.wav")
    if awk "BEGIN { exit !($length < 0.3) }"; then
        mv "$out/$clip.wav" "$out/short.wav"
        sox -V1 "$out/short.wav" "$out/$clip.wav" tempo -s "$(awk "BEGIN { print $length / 0.3 }")"
        rm "$out/short.wav"
    fi
done < voice/clips.txt
rm -f "$out/raw.wav"
echo "voice pack written to $out"
