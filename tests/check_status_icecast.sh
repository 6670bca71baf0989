#!/usr/bin/env bash
# check_status_icecast.sh STRIPECAST — starts icecast2 on loopback with its
# stock stylesheets (status-json.xsl, the admin pages) and runs
# check_status.py's icecast scenario against it and a stripecast broadcaster.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: check_status_icecast.sh path/to/stripecast}
command -v ffmpeg >/dev/null || { echo "$0: ffmpeg not found" >&2; exit 77; }
[[ -d /usr/share/icecast2/web ]] || { echo "$0: icecast2's web root not found" >&2; exit 77; }
source "$here/icecast_server.sh"
cp /usr/share/icecast2/web/* "$tmp/web/"
cp /usr/share/icecast2/admin/* "$tmp/admin/"
chmod -R a+rX "$tmp"
python3 "$here/check_status.py" "$bin" icecast "$port"
