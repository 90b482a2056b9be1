#!/usr/bin/env bash
# Makes the default voice pack: one WAV a clip of voice/clips.txt, spoken by espeak-ng's
# Southern Vietnamese voice (the speech of Hồ Chí Minh City), silence trimmed, 16 kHz
# mono. Needs `apt-get install espeak-ng sox`; the pack is committed, so building and
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
    espeak-ng -v "$voice" -s 140 -w "$out/raw.wav" "${clip//-/ }"
    sox -V1 "$out/raw.wav" -r 16000 -c 1 -b 16 "$out/$clip.wav" gain -1 \
        silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
done < voice/clips.txt
rm -f "$out/raw.wav"
echo "voice pack written to $out"
