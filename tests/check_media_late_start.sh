#!/usr/bin/env bash
# check_media_late_start.sh MEDIA_CUT DATA_DIR
#
# A late listener receives the station's kept codec headers, then the stream from
# a sync unit on. For every sample: cut at a sync unit in the middle, prepend the
# headers, and ffmpeg must decode it with no error and at least one frame. The
# same cut without the headers must fail for Ogg (no BOS page, no decoder), so
# that the check can fail. Exits 77 (skipped) when ffmpeg is missing.
set -u
cut=$1
dir=$2
command -v ffmpeg >/dev/null || { echo "ffmpeg not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# decode FILE: prints the number of decoded frames; returns ffmpeg's status or 1
# when it printed anything at -v error.
decode() {
  ffmpeg -nostdin -hide_banner -v error -i "$1" -f framecrc - >"$tmp/crc" 2>"$tmp/err"
  local rc=$?
  grep -vc '^#' "$tmp/crc"
  [ $rc -eq 0 ] && [ ! -s "$tmp/err" ]
}

# sample FILE [OFFSET]
sample() {
  local f=$dir/$1 name=$1
  shift
  if ! "$cut" probe "$f" late "$@" >"$tmp/late" 2>"$tmp/cutlog"; then
    echo "FAIL $name: media-cut: $(cat "$tmp/cutlog")"; fails=$((fails + 1)); return
  fi
  local frames
  if frames=$(decode "$tmp/late") && [ "$frames" -gt 0 ]; then
    echo "ok   $name: $(cat "$tmp/cutlog" | sed 's/^media-cut: //'); $frames frames decoded"
  else
    echo "FAIL $name: with headers: $frames frames, ffmpeg said: $(head -3 "$tmp/err")"
    fails=$((fails + 1))
  fi
  case $name in
    *.opus|*.ogg|*.oga|*.spx|*.ogv)
      "$cut" probe "$f" late-bare "$@" >"$tmp/bare" 2>/dev/null
      if frames=$(decode "$tmp/bare") && [ "$frames" -gt 0 ]; then
        echo "FAIL $name: decoded without its headers ($frames frames): the check cannot fail"
        fails=$((fails + 1))
      else
        echo "ok   $name: without headers ffmpeg fails: $(head -1 "$tmp/err")"
      fi
      ;;
  esac
}

for f in opus.opus vorbis.ogg flac.oga speex.spx theora.ogv mp3.mp3 aac.aac chained.opus; do
  sample $f
done
# A cut in the chained stream's second link: the headers kept then are the
# second link's.
size1=$(stat -c %s "$dir/opus.opus")
sample chained.opus $((size1 + 2000))

[ $fails -eq 0 ] && echo "all late starts decode" || echo "$fails failures"
exit $((fails > 0))
