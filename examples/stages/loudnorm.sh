#!/usr/bin/env bash
# An external vidq stage around ffmpeg: normalises the audio to a target loudness (EBU R128).
#   loudnorm.sh INPUT OUTPUT_DIR OPTIONS_FILE      (see examples/stages/pipelines.json)
# Protocol: progress as {"progress": x} lines on stdout; result.json in OUTPUT_DIR is the stage's output,
# other files there become its output files; exit 65 = the input cannot be used, 64 = bad options,
# 75 = try again later.
set -euo pipefail
input=$1 out=$2 options=$3
ffmpeg=${VIDQ_FFMPEG:-ffmpeg}

# Options, with the schema's defaults already applied by vidq: {"targetLufs": -16, "truePeakDb": -1.5}
target=$(sed -nE 's/.*"targetLufs": *(-?[0-9.]+).*/\1/p' "$options")
peak=$(sed -nE 's/.*"truePeakDb": *(-?[0-9.]+).*/\1/p' "$options")
target=${target:--16} peak=${peak:--1.5}

if ! "$ffmpeg" -v error -i "$input" -map 0:a:0 -t 0.1 -f null - 2>/dev/null; then
  echo "the video has no audio stream to normalise" >&2
  exit 65
fi
echo '{"progress": 0.1}'

# One pass: measure and normalise (linear mode needs two; one is enough here). loudnorm prints its
# summary at the info level, read from the log below.
"$ffmpeg" -hide_banner -nostats -v info -nostdin -i "$input" -map 0:a:0 -af "loudnorm=I=$target:TP=$peak:LRA=11:print_format=summary" \
  -c:a aac -b:a 160k -ar 48000 -y "$out/normalized.m4a" 2> "$out/.loudnorm.log" || { cat "$out/.loudnorm.log" >&2; exit 65; }
echo '{"progress": 0.9}'

# Loudness as a JSON number, like targetLufs; null when loudnorm measured none (silence reads -inf,
# which JSON cannot hold).
json_number() {
  if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf '%s' "$1"; else printf 'null'; fi
}
input_lufs=$(json_number "$(sed -nE 's/^Input Integrated: *(-?[0-9.inf]+) LUFS/\1/p' "$out/.loudnorm.log")")
output_lufs=$(json_number "$(sed -nE 's/^Output Integrated: *(-?[0-9.inf]+) LUFS/\1/p' "$out/.loudnorm.log")")
rm -f "$out/.loudnorm.log"
printf '{"targetLufs": %s, "truePeakDb": %s, "inputLufs": %s, "outputLufs": %s, "file": "normalized.m4a"}\n' \
  "$target" "$peak" "$input_lufs" "$output_lufs" > "$out/result.json"
