#!/usr/bin/env bash
# check_nat.sh STRIPECAST CASE — listeners behind home routers (docs/nat.md).
#
# Network namespaces make an internet and its home routers: one segment (a
# bridge) with the broadcaster and one router per home; each router
# masquerades (nftables) its home's 192.168.K.0/24 behind its own public
# address, as a home router does, and drops what comes in unasked. A public
# listener joins beside the broadcaster; then one listener a home.
#
#   cone        every router endpoint-independent (Linux masquerade keeps a
#               source port where it can): each listener learns its public
#               address from the peer it joins through, announces it, and
#               reaches the others (themselves behind routers) by punching
#               through a peer both sides talk with. Every listener's output
#               is byte-identical to the source's input, whole; punches were
#               needed; nothing from the internet reaches a listener unasked.
#               A station broadcast on the public side is found from a home with
#               `stripecast stations`.
#   symmetric   the routers map every destination to its own random port
#               (masquerade random,fully-random): each listener finds this out
#               before it joins (a second view from the broadcaster's alternate
#               port), takes a relay at the broadcaster (the peer it joins
#               through), announces the relay's address, and receives the
#               stream byte-identical through it
#   portmap     every router runs miniupnpd, odd homes' with NAT-PMP only, even
#               homes' with UPnP-IGD only: each listener has its router forward
#               its port (traversal.port_map), a datagram sent unasked from the
#               internet reaches it, every output is byte-identical, and the
#               mappings are gone after the listeners exit
#
# The internet segment is 11.0.0.0/24, a public block (miniupnpd refuses to map
# for a router whose outside address is private or reserved); the namespaces have
# no way out, so nothing is sent to its owner.
#
# Needs root, ip (iproute2) and nft (nftables), and miniupnpd for portmap;
# skipped (exit 77) without them.
set -euo pipefail

sc=$1
case_=${2:-cone}
homes=${SC_NAT_HOMES:-16}

skip() {
  echo "SKIP: $*"
  exit 77
}
[[ $(id -u) == 0 ]] || skip "needs root for network namespaces"
command -v ip >/dev/null || skip "ip (iproute2) not installed"
command -v nft >/dev/null || skip "nft (nftables) not installed"
if [[ $case_ == portmap ]]; then
  command -v miniupnpd >/dev/null || skip "miniupnpd not installed"
  homes=${SC_NAT_HOMES:-4}
fi

tag=n$$
net=11.0.0
port=9000
# SC_NAT_OUT=DIR keeps the counters and outputs there (bench/nat.sh reads them).
if [[ -n ${SC_NAT_OUT:-} ]]; then
  work=$SC_NAT_OUT
  mkdir -p "$work"
  SC_NAT_KEEP=1
else
  work=$(mktemp -d)
fi
pids=()      # every process started, killed at the end
peer_pids=() # the stripecast peers
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$tag"); do ip netns del "$ns"; done
  [[ -n ${SC_NAT_KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL ($case_): $*" >&2
  for f in "$work"/*.err; do
    [[ -s $f ]] && { echo "--- $f" >&2; tail -5 "$f" >&2; }
  done
  exit 1
}

ip netns add "${tag}wan" || skip "cannot make a network namespace here"
ip -n "${tag}wan" link add br0 type bridge
ip -n "${tag}wan" link set br0 up

# uplink NS ADDR: a veth from NS to the internet's bridge, NS's end at ADDR.
uplink() {
  local ns=$1 addr=$2 dev=${1: -6}
  ip link add "w$dev" type veth peer name "u$dev"
  ip link set "w$dev" netns "${tag}wan"
  ip link set "u$dev" netns "$ns"
  ip -n "${tag}wan" link set "w$dev" master br0 up
  ip -n "$ns" addr add "$addr/24" dev "u$dev"
  ip -n "$ns" link set "u$dev" up
  ip -n "$ns" link set lo up
}

# router K: home K behind router K, which masquerades with $masq.
router() {
  local k=$1 r=${tag}rt$1 h=${tag}ho$1
  ip netns add "$r"
  ip netns add "$h"
  uplink "$r" "$net.$((20 + k))"
  ip link add "l$tag$k" type veth peer name "h$tag$k"
  ip link set "l$tag$k" netns "$r"
  ip link set "h$tag$k" netns "$h"
  ip -n "$r" addr add "192.168.$k.1/24" dev "l$tag$k"
  ip -n "$r" link set "l$tag$k" up
  ip -n "$h" addr add "192.168.$k.2/24" dev "h$tag$k"
  ip -n "$h" link set "h$tag$k" up
  ip -n "$h" link set lo up
  ip -n "$h" route add default via "192.168.$k.1"
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
  # A home router: the home's traffic leaves under the router's address;
  # from outside only answers come in (conntrack), nothing unasked, to the
  # home or to the router itself. (Dropped before conntrack confirms it, a
  # datagram sent unasked leaves no entry that would take the port an
  # answer from inside is mapped to, as on a router with a firewall.) The
  # chains named *miniupnpd are miniupnpd's, empty until it maps a port.
  ip netns exec "$r" nft -f - <<NFT
table inet filter {
  chain inbound {
    type filter hook forward priority 0; policy drop;
    jump miniupnpd
    iifname "l$tag$k" accept
    ct state established,related accept
  }
  chain miniupnpd {
  }
  chain router {
    type filter hook input priority 0; policy drop;
    iifname { "lo", "l$tag$k" } accept
    ct state established,related accept
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain outbound {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "u${r: -6}" $masq
  }
  chain postrouting_miniupnpd {
  }
}
NFT
}

# upnpd K: miniupnpd on router K, NAT-PMP only for odd K, UPnP-IGD only for even.
upnpd() {
  local k=$1 r=${tag}rt$1 pmp=yes upnp=no
  ((k % 2 == 0)) && pmp=no upnp=yes
  cat >"$work/upnpd$k.conf" <<CONF
ext_ifname=u${r: -6}
listening_ip=l$tag$k
enable_natpmp=$pmp
enable_upnp=$upnp
secure_mode=yes
system_uptime=yes
uuid=3ae2774b-d938-44f1-bafb-35cbe33bc0$((10 + k))
upnp_table_name=filter
upnp_nat_table_name=filter
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 192.168.$k.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
  ip netns exec "$r" miniupnpd -d -f "$work/upnpd$k.conf" -P "$work/upnpd$k.pid" \
    >"$work/upnpd$k.log" 2>&1 &
  pids+=($!)
  disown $!
}

# probe K: whether a datagram sent unasked from the internet to home K's
# listener (at its router's address) is answered: a traversal BINDING request.
probe() {
  ip netns exec "${tag}bcast" python3 - "$net.$((20 + $1))" "$port" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.sendto(bytes([0xF5, 1]) + struct.pack(">QIH", 77, 0, 0), (sys.argv[1], int(sys.argv[2])))
try:
    data, _ = s.recvfrom(64)
    sys.exit(0 if len(data) == 16 and data[0] == 0xF5 and data[1] == 2 else 1)
except socket.timeout:
    sys.exit(1)
PY
}

ip netns add "${tag}bcast"
uplink "${tag}bcast" "$net.10"
masq="masquerade"
[[ $case_ == symmetric ]] && masq="masquerade random,fully-random"
for k in $(seq 1 "$homes"); do
  router "$k"
  [[ $case_ == portmap ]] && upnpd "$k"
done

# The public side reaches no home address directly: a router is in the way.
if ip netns exec "${tag}bcast" ping -c1 -W1 192.168.1.2 >/dev/null 2>&1; then
  fail "a home is reachable from outside without its router"
fi

head -c 600000 /dev/urandom >"$work/in.bin"
ip netns exec "${tag}bcast" "$sc" --listen "$net.10:$port" --seed 1 \
  --source "$work/in.bin" --rate-kbps 1000 --start-delay-ms 6000 \
  --stats "$work/bcast.json" --heartbeat-ms 2000 >"$work/bcast.out" 2>"$work/bcast.err" &
pids+=($!)
peer_pids+=($!)
sleep 0.5
# A listener with a public address too, beside the broadcaster.
ip netns exec "${tag}bcast" "$sc" --listen "$net.10:$((port + 1))" --seed 99 \
  --join "$net.10:$port" --output "$work/out0.bin" --heartbeat-ms 2000 \
  --stats "$work/l0.json" >/dev/null 2>"$work/l0.err" &
pids+=($!)
peer_pids+=($!)
sleep 0.3
for k in $(seq 1 "$homes"); do
  # A bare port: the listener finds its address on the home network itself.
  ip netns exec "${tag}ho$k" "$sc" --listen "$port" --seed $((k + 1)) \
    --join "$net.10:$port" --output "$work/out$k.bin" --heartbeat-ms 2000 \
    --stats "$work/l$k.json" >/dev/null 2>"$work/l$k.err" &
  pids+=($!)
  peer_pids+=($!)
  sleep 0.3
done

want=$(stat -c %s "$work/in.bin")
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  complete=0
  for k in $(seq 0 "$homes"); do
    [[ -f $work/out$k.bin && $(stat -c %s "$work/out$k.bin") -ge $want ]] &&
      complete=$((complete + 1))
  done
  ((complete == homes + 1)) && break
  sleep 1
done
# A station on the public side: from behind its router, home 1 finds it with
# `stripecast stations` (which names the address the router gives it).
if [[ $case_ == cone ]]; then
  "$sc" keygen --out "$work/st.key" >/dev/null 2>&1
  ip netns exec "${tag}bcast" "$sc" broadcast --station /home.opus --key "$work/st.key" \
    --listen "$net.10:$((port + 100))" --source "$(dirname "$0")/data/media/opus.opus" \
    --eof-exit-ms 60000 >/dev/null 2>"$work/station.err" &
  pids+=($!)
  peer_pids+=($!)
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    sleep 1
    ip netns exec "${tag}ho1" "$sc" stations --join "$net.10:$((port + 100))" --json \
      >"$work/stations.json" 2>"$work/stations.err" || true
    grep -q home.opus "$work/stations.json" && break
  done
fi
# While the listeners run: does the internet reach them unasked?
reached=0
for k in $(seq 1 "$homes"); do
  if probe "$k"; then reached=$((reached + 1)); fi
done
for p in "${peer_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${peer_pids[@]}"; do wait "$p" 2>/dev/null || true; done

insum=$(sha256sum <"$work/in.bin")
nat0=$(jq -r '.peers[0].traversal.nat' "$work/l0.json")
[[ $nat0 == none ]] || fail "the public listener: nat $nat0, want none"
[[ $(sha256sum <"$work/out0.bin") == "$insum" ]] || fail "the public listener: output differs"
for k in $(seq 1 "$homes"); do
  [[ -f $work/l$k.json ]] || fail "listener $k wrote no counters"
  nat=$(jq -r '.peers[0].traversal.nat' "$work/l$k.json")
  pub=$(jq -r '.peers[0].traversal.public_addr' "$work/l$k.json")
  case $case_ in
  cone | portmap)
    [[ $nat == mapped && $pub == "$net.$((20 + k)):$port" ]] ||
      fail "listener $k: nat $nat, public address $pub"
    [[ $(sha256sum <"$work/out$k.bin") == "$insum" ]] ||
      fail "listener $k: output differs ($(stat -c %s "$work/out$k.bin") of $want bytes)"
    ;;&
  portmap)
    want_m=natpmp
    ((k % 2 == 0)) && want_m=upnp
    pm=$(jq -c '.peers[0].traversal.port_map' "$work/l$k.json")
    jq -e --arg m "$want_m" --arg e "$net.$((20 + k)):$port" \
      '.method == $m and .external == $e and .forwarded' <<<"$pm" >/dev/null ||
      fail "listener $k: port_map $pm, want $want_m"
    # Removed at exit.
    if ip netns exec "${tag}rt$k" nft list ruleset | grep -q "dnat"; then
      fail "listener $k: the mapping is still on the router after exit"
    fi
    ;;
  symmetric)
    relayed=$(jq -r '.peers[0].traversal.relayed' "$work/l$k.json")
    [[ $nat == symmetric && $relayed == true && $pub == "$net.10:"* ]] ||
      fail "listener $k: nat $nat, relayed $relayed, address $pub"
    [[ $(sha256sum <"$work/out$k.bin") == "$insum" ]] ||
      fail "listener $k: output differs ($(stat -c %s "$work/out$k.bin") of $want bytes)"
    ;;
  esac
done
jq -s '[.[].peers[0].traversal] | {punch_requests: (map(.punch_requests_sent) | add),
       forwarded: (map(.punches_forwarded) | add), hellos: (map(.hellos_got) | add),
       resent: (map(.held_resent) | add), keepalives: (map(.keepalives_sent) | add)}' \
  "$work"/l*.json "$work/bcast.json" >"$work/trav.json"
case $case_ in
cone)
  # (jq -e passes an empty file: the JSON must be there and name the station.)
  [[ -s $work/stations.json ]] &&
    jq -e 'map(select(.mount == "/home.opus")) | length == 1' "$work/stations.json" \
      >/dev/null || fail "stations from behind a router: $(head -3 "$work/stations.err")"
  ((reached == 0)) || fail "$reached listeners were reached unasked through their routers"
  # Some peer had to be reached through its router by one it had not called.
  jq -e '.punch_requests > 0 and .forwarded > 0 and .hellos > 0 and .resent > 0' \
    "$work/trav.json" >/dev/null || fail "no punch was needed: $(jq -c . "$work/trav.json")"
  ;;
portmap)
  ((reached == homes)) || fail "$reached of $homes listeners reached through their mappings"
  ;;
symmetric)
  relays=$(jq '.peers[0].traversal | [.relays_opened, .relay_dgrams_in, .relay_dgrams_out]' \
    -c "$work/bcast.json")
  jq -e --argjson n "$homes" '.[0] == $n and .[1] > 0 and .[2] > 0' <<<"$relays" >/dev/null ||
    fail "the broadcaster's relays [opened, in, out]: $relays"
  ;;
esac
echo "ok: $case_, $homes listeners behind routers, $reached reached unasked:" \
  "$(jq -c . "$work/trav.json")"
