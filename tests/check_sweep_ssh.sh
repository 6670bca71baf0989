#!/usr/bin/env bash
# ctest sweep_ssh: scripts/sweep's --sshloginfile path through a real ssh server.
#
#   tests/check_sweep_ssh.sh SIMULATOR
#
# Starts a private sshd (its own host key, an authorized key made here, 127.0.0.1 on
# a port of its own; the system's sshd and ~/.ssh are not touched), hands a small
# sweep to GNU parallel with an sshloginfile that names that server, and checks that
# every run went through ssh (parallel's joblog and the server's log) and finished,
# and that a second invocation skips them all. Exits 77 (ctest: skipped) only when
# sshd is not installed or its privilege-separation directory cannot be made.
set -euo pipefail

sim=${1:?usage: check_sweep_ssh.sh SIMULATOR}
[[ -x "$sim" ]] || { echo "check_sweep_ssh: no simulator at $sim" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sshd=/usr/sbin/sshd
if [[ ! -x "$sshd" ]] || ! command -v ssh >/dev/null; then
  echo "check_sweep_ssh: skipped: no $sshd or ssh (scripts/deps.sh installs openssh-server)"
  exit 77
fi
# OpenSSH refuses to start without its privilege-separation directory.
if [[ ! -d /run/sshd ]] && ! mkdir -p /run/sshd 2>/dev/null; then
  echo "check_sweep_ssh: skipped: /run/sshd is missing and cannot be made (not root)"
  exit 77
fi

tmp=$(mktemp -d)
cleanup() {
  [[ -s "$tmp/sshd.pid" ]] && kill "$(cat "$tmp/sshd.pid")" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

ssh-keygen -q -t ed25519 -N '' -f "$tmp/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/user_key"
cp "$tmp/user_key.pub" "$tmp/authorized_keys"
chmod 600 "$tmp/authorized_keys"

# A port of our own, away from the node tests' range: try a few.
user=$(id -un)
ssh_cmd=""
for try in 0 1 2 3 4; do
  port=$((30000 + ($$ * 7 + try * 131) % 20000))
  cat >"$tmp/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/host_key
AuthorizedKeysFile $tmp/authorized_keys
PidFile $tmp/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
CONF
  rm -f "$tmp/sshd.pid" "$tmp/sshd.log"
  "$sshd" -f "$tmp/sshd_config" -E "$tmp/sshd.log" || continue
  cand="ssh -p $port -i $tmp/user_key -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR $user@127.0.0.1"
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if $cand true 2>/dev/null; then ssh_cmd=$cand; break 2; fi
    sleep 0.3
  done
  [[ -s "$tmp/sshd.pid" ]] && kill "$(cat "$tmp/sshd.pid")" 2>/dev/null || true
done
if [[ -z "$ssh_cmd" ]]; then
  echo "FAIL: could not start a private sshd and log in to it; its log:" >&2
  cat "$tmp/sshd.log" >&2 || true
  exit 1
fi
ok "private sshd on 127.0.0.1:$port accepts the test key"

# GNU parallel's sshlogin format: "N/ssh command user@host", N jobs at once there.
echo "2/$ssh_cmd" >"$tmp/hosts"
res="$tmp/results"
rc=0
"$root/scripts/sweep" run "$root/tests/tiny.sweep" --results "$res" --sshloginfile "$tmp/hosts" \
  --sim "$sim" >"$tmp/out" 2>"$tmp/err" || rc=$?
if ((rc == 0)); then ok "sweep run over ssh exits 0"; else
  bad "sweep run over ssh exited $rc: $(tail -c 600 "$tmp/err")"
fi
n=$(find "$res/runs" -maxdepth 1 -name '*.json' -size +0 | wc -l)
if ((n == 4)); then ok "4 runs' JSON written"; else bad "expected 4 JSON files, found $n"; fi
for f in "$res"/runs/*.json; do
  jq -e '.command == "pastry" and .correct_fraction == 1' "$f" >/dev/null ||
    bad "$(basename "$f") is not a finished Pastry run"
done
# Column 2 of GNU parallel's joblog is the sshlogin that ran the job (':' is local).
hosts=$(awk -F'\t' 'NR > 1 { print $2 }' "$res/joblog" | sort -u)
if [[ "$hosts" == "$ssh_cmd" ]]; then ok "every job ran through the ssh login"; else
  bad "joblog hosts: '$hosts'"
fi
logins=$(grep -c 'Accepted publickey' "$tmp/sshd.log" || true)
if ((logins >= 5)); then ok "sshd accepted $logins logins (1 probe + 4 runs)"; else
  bad "sshd accepted only $logins logins"
fi
"$root/scripts/sweep" run "$root/tests/tiny.sweep" --results "$res" --sshloginfile "$tmp/hosts" \
  --sim "$sim" >"$tmp/out" 2>"$tmp/err2" || bad "second run exited non-zero"
if grep -q '4 finished, 0 to run' "$tmp/err2"; then ok "a second run skips the finished runs"; else
  bad "second run did not skip: $(cat "$tmp/err2")"
fi

if ((fails)); then
  echo "check_sweep_ssh: $fails failure(s)" >&2
  exit 1
fi
echo "check_sweep_ssh: all checks passed"
