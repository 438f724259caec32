#!/bin/sh
# Adds latency to the packets a Meridian container sends to the other regions, so that a request
# that fails over crosses a "WAN". Runs in a sidecar that shares the Meridian container's network
# namespace (network_mode: service:meridian-XX) and has NET_ADMIN; see docker/compose.yaml.
#
# usage: netem.sh SUBNET=DELAY ...      e.g. netem.sh 10.89.2.0/24=70ms 10.89.3.0/24=120ms
#
# A prio qdisc on eth0 keeps its three usual bands for everything else and gets one extra band per
# argument, holding a netem qdisc with that delay; a u32 filter sends the packets for SUBNET there.
# Only this side's packets are delayed, so DELAY is added once to each round trip.
# Where tc or the kernel's sch_netem is missing (some Docker Desktop kernels), it says so and the
# regions simply have no added latency.
set -u
dev=eth0
fail() {
  echo "netem: $1: no latency added between regions" >&2
  tc qdisc del dev "$dev" root 2>/dev/null
  exit 0
}
tc qdisc del dev "$dev" root 2>/dev/null
tc qdisc add dev "$dev" root handle 1: prio bands $((3 + $#)) priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1 \
  || fail "cannot add a prio qdisc on $dev"
band=4
for rule in "$@"; do
  subnet=${rule%%=*}
  delay=${rule#*=}
  tc qdisc add dev "$dev" parent 1:$band handle $((band * 10)): netem delay "$delay" \
    || fail "cannot add netem (is the sch_netem module available?)"
  tc filter add dev "$dev" parent 1: protocol ip prio 1 u32 match ip dst "$subnet" flowid 1:$band \
    || fail "cannot add a filter for $subnet"
  echo "netem: +$delay to $subnet"
  band=$((band + 1))
done
tc qdisc show dev "$dev"
# Stay up so that `docker compose exec netem-XX tc -s qdisc show dev eth0` shows the counters;
# exit at once on docker compose stop.
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
