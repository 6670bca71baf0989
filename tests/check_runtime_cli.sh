#!/usr/bin/env bash
# check_runtime_cli.sh STRIPECAST — what the stripecast program says at once
# about flags it can only check by trying them:
#   - a --stats it cannot write fails at start with exit 2 (not at exit with 0);
#   - a --join that does not answer is reported within seconds while the peer
#     keeps trying (it used to stay silent for 20 s).
# Each case bounds a hang with timeout(1); the verdict is the exit status and
# the message, not the time taken.
set -u
bin=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$((23000 + $$ % 1000))

timeout 20 "$bin" --listen 127.0.0.1:$port --stats "$tmp/no/such/dir/s.json" \
  2>"$tmp/err1"
rc=$?
if [ $rc -ne 2 ] || ! grep -q -- "--stats $tmp/no/such/dir/s.json: No such file" "$tmp/err1"; then
  echo "FAIL: unwritable --stats: exit $rc (want 2), stderr: $(cat "$tmp/err1")"
  fail=1
fi
timeout 20 "$bin" --listen 127.0.0.1:$port --stats "$tmp" 2>"$tmp/err2"
rc=$?
if [ $rc -ne 2 ] || ! grep -q "Is a directory" "$tmp/err2"; then
  echo "FAIL: --stats naming a folder: exit $rc (want 2), stderr: $(cat "$tmp/err2")"
  fail=1
fi

# Nobody listens on port+1: the peer must say so and still be running.
"$bin" --listen 127.0.0.1:$port --join localhost:$((port + 1)) 2>"$tmp/err3" &
pid=$!
for _ in $(seq 1 100); do
  grep -q "no answer from --join" "$tmp/err3" && break
  sleep 0.1
done
if ! grep -q "no answer from --join localhost:$((port + 1)) (127.0.0.1:$((port + 1)))" \
  "$tmp/err3"; then
  echo "FAIL: unreachable --join not reported: $(cat "$tmp/err3")"
  fail=1
fi
if ! kill -0 $pid 2>/dev/null; then
  echo "FAIL: the peer gave up instead of trying on"
  fail=1
fi
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: exit $rc after SIGTERM (want 0)"
  fail=1
fi
[ $fail -eq 0 ] && echo "runtime cli checks: ok"
exit $fail
