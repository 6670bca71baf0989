#!/usr/bin/env bash
# check_media_video_late_start.sh CUT_TOOL DATA_DIR
#
# A late listener of a WebM or MPEG-TS station gets the framer's kept headers,
# then the stream from a sync unit. Cut each sample at the sync unit nearest
# its middle, prepend the headers, and decode with ffmpeg: no error, and every
# video frame from the cut on (20 of the samples' 40) decodes. The check can
# fail: the same WebM cut without the headers does not decode, and an MPEG-TS
# cut at a PES start that is not a sync point makes the H.264 decoder complain.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: check_media_video_late_start.sh CUT_TOOL DATA_DIR" >&2; exit 2; }
tool=$1 data=$2
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null ||
  { echo "ffmpeg/ffprobe not installed (scripts/deps.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

# decode FILE: prints ffmpeg's error output; the exit status is ffmpeg's.
decode() { ffmpeg -nostdin -v error -i "$1" -f null - 2>&1; }
video_frames() {
  ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of default=nw=1:nk=1 "$1" | grep -v '^$' | head -1
}

# late NAME FILE [OPTION...]: the cut with headers must decode cleanly.
late() {
  local name=$1 file=$2
  shift 2
  "$tool" late "$data/$file" "$work/with" "$work/without" "$@"
  local errs rc=0
  errs=$(decode "$work/with") || rc=$?
  local frames
  frames=$(video_frames "$work/with")
  if [[ $rc -ne 0 || -n $errs || $frames != 20 ]]; then
    echo "FAIL $name: with headers: ffmpeg exit $rc, $frames video frames, errors: $errs"
    fail=1
  else
    echo "ok   $name: headers + cut decode cleanly, $frames video frames"
  fi
}

# must_fail NAME PATH: ffmpeg must exit non-zero or print an error.
must_fail() {
  local name=$1 path=$2 errs rc=0
  errs=$(decode "$path") || rc=$?
  if [[ $rc -eq 0 && -z $errs ]]; then
    echo "FAIL $name: decoded without error, so the check above could not fail"
    fail=1
  else
    echo "ok   $name: fails as it must (exit $rc): $(head -c 120 <<<"$errs" | tr '\n' ' ')"
  fi
}

late webm_live vp8_opus_live.webm
must_fail webm_live_without_headers "$work/without"
late webm_unknown_size_clusters vp8_opus_live.webm unknown-clusters
must_fail webm_unknown_size_clusters_without_headers "$work/without"
late mpegts_h264_mp2 h264_mp2.ts
"$tool" late "$data/h264_mp2.ts" "$work/with" "$work/without" nonsync
must_fail mpegts_cut_at_non_sync_pes "$work/with"
# Audio only: every PES start is a sync point; count audio frames instead.
"$tool" late "$data/aac.ts" "$work/with" "$work/without"
rc=0
errs=$(decode "$work/with") || rc=$?
if [[ $rc -ne 0 || -n $errs ]]; then
  echo "FAIL mpegts_aac: ffmpeg exit $rc, errors: $errs"
  fail=1
else
  echo "ok   mpegts_aac: headers + cut decode cleanly"
fi
exit $fail
