#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with its S3 gateway (RGW) on 127.0.0.1, for floe's s3:// tests
# and benches: one monitor, one OSD that keeps objects in memory (memstore), one radosgw (beast).
#
#   scripts/rgw.sh start    start it, or do nothing when it already answers (idempotent)
#   scripts/rgw.sh stop     stop the daemons this script started (by their PID files, never by name)
#   scripts/rgw.sh status   exit 0 and say so when the gateway answers, 1 otherwise
#   scripts/rgw.sh env      print FLOE_S3_* variables for tests (eval "$(scripts/rgw.sh env)")
#   scripts/rgw.sh restart-gateway [NAME]
#                           kill the gateway (SIGKILL, by its PID file: a crash, not a shutdown) and start
#                           it again; the monitor and the OSD, and so the data, keep running. NAME picks an
#                           extra gateway (below); without it, the main one on FLOE_RGW_PORT
#   scripts/rgw.sh start-gateway NAME PORT
#                           start an extra gateway NAME (letters, digits, '-') on 127.0.0.1:PORT in front of
#                           the same cluster and data (idempotent), so a test can kill and restart a gateway
#                           of its own without cutting off the tests that share the main one
#   scripts/rgw.sh stop-gateway NAME
#                           stop an extra gateway (stop stops them all)
#
# Settings (environment): FLOE_RGW_DIR (default /tmp/floe-rgw), FLOE_RGW_PORT (7480),
# FLOE_RGW_MON_PORT (6789). The cluster's data lives in memory: stop loses it, and start after a stop
# builds a fresh cluster. The script installs nothing; it says what to install when a binary is missing.
set -euo pipefail

DIR="${FLOE_RGW_DIR:-/tmp/floe-rgw}"
PORT="${FLOE_RGW_PORT:-7480}"
MON_PORT="${FLOE_RGW_MON_PORT:-6789}"
# Fixed test credentials: the cluster is loopback-only and thrown away, so nothing secret is at stake.
ACCESS_KEY="FLOETESTACCESSKEY000"
SECRET_KEY="floe-test-secret-key-0000000000000000000"
REGION="us-east-1"
ENDPOINT="http://127.0.0.1:${PORT}"
CONF="$DIR/ceph.conf"
DAEMONS=(mon osd rgw)

say() { echo "rgw.sh: $*" >&2; }

need_binaries() {
  local missing=()
  for b in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool uuidgen flock setsid; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  if ((${#missing[@]})); then
    say "missing: ${missing[*]}."
    say "install on Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw"
    exit 127
  fi
}

# The PID recorded for a daemon, if that process is alive and still the binary we started (a PID file
# left from an earlier boot may name an unrelated process that reused the number).
live_pid() {
  local name="$1" bin pid
  case "$name" in mon) bin=ceph-mon ;; osd) bin=ceph-osd ;; rgw | rgw-*) bin=radosgw ;; esac
  [[ -f "$DIR/$name.pid" ]] || return 1
  pid="$(cat "$DIR/$name.pid")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$bin .*-c $CONF" || return 1
  echo "$pid"
}

daemons_alive() {
  local d
  for d in "${DAEMONS[@]}"; do live_pid "$d" >/dev/null || return 1; done
}

gateway_answers() {
  # Any HTTP status line proves the gateway is serving. Bash's /dev/tcp, so curl need not be installed.
  local port="${1:-$PORT}" line=""
  {
    exec 3<>"/dev/tcp/127.0.0.1/$port" &&
      printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
      read -r -t 2 line <&3
  } 2>/dev/null || true
  exec 3<&- 3>&-
  [[ "$line" == HTTP/* ]]
}

running() {
  local d
  for d in "${DAEMONS[@]}"; do live_pid "$d" >/dev/null || return 1; done
  gateway_answers
}

# Runs a daemon in the foreground of its own session (so it outlives the caller and holds none of the
# caller's pipes open) and records its PID.
spawn() {
  local name="$1"
  shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 9>&- &
  echo $! >"$DIR/$name.pid"
}

wait_for() {
  local what="$1" seconds="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      say "timed out after ${seconds}s waiting for $what; logs in $DIR/log"
      return 1
    fi
    sleep 0.2
  done
}

ceph_cli() { ceph -c "$CONF" --connect-timeout 5 "$@"; }
osd_up() { ceph_cli osd dump 2>/dev/null | grep -q '^osd.0 up'; }

write_conf() {
  local fsid="$1"
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
# A loopback test cluster: no cephx, the v1 protocol only, one copy of everything.
auth cluster required = none
auth service required = none
auth client required = none
ms bind msgr2 = false
mon allow pool size one = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# Objects in memory: fast, and nothing to clean on disk. 8 GB is the OSD's capacity, not its RSS.
osd objectstore = memstore
memstore device bytes = 8589934592
# Without these two, about 2 starts in 5 failed with "wrong fsid" (the OSD re-registers itself).
osd crush update on start = false
osd class update on start = false
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
keyring = $DIR/keyring

[client.rgw.a]
# Without tcp_nodelay a small GET waits ~40 ms on Nagle's algorithm and delayed ACKs.
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw data = $DIR/rgw
rgw dns name = localhost
# Deleted objects' data goes to RGW's garbage collector, which by default waits two hours: the
# cluster outlives test runs, so memstore would fill with data tests deleted long ago.
rgw gc obj min wait = 30
rgw gc processor period = 30
EOF
}

start() {
  need_binaries
  if running; then
    say "already running at $ENDPOINT ($DIR)"
    return 0
  fi
  # Every daemon alive but the gateway slow to answer (busy serving other tests): wait for it rather
  # than tear down a cluster that test files running in parallel are using.
  if daemons_alive; then
    local waited=0
    while ((waited < 60)); do
      if gateway_answers; then
        say "already running at $ENDPOINT ($DIR; it answered after ${waited}s)"
        return 0
      fi
      sleep 2
      waited=$((waited + 2))
    done
    say "the cluster's daemons run but the gateway has not answered for 60 s; restarting it"
  fi
  # Anything left from a half-started or crashed cluster goes: memstore kept no data worth keeping.
  stop_daemons
  local t0=$SECONDS fsid osd_uuid
  if gateway_answers; then
    say "something else already answers on 127.0.0.1:$PORT; stop it or choose another FLOE_RGW_PORT"
    exit 1
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"/{run,log,mon/ceph-a,osd/ceph-0,rgw}
  fsid="$(uuidgen)"
  write_conf "$fsid"
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" >>"$DIR/log/mkfs.out" 2>&1
  spawn mon ceph-mon -c "$CONF" -i a -f
  wait_for "the monitor" 30 ceph_cli -s

  osd_uuid="$(uuidgen)"
  ceph_cli osd new "$osd_uuid" >/dev/null
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/mkfs.out" 2>&1
  ceph_cli osd crush add-bucket node-a host >/dev/null 2>&1
  ceph_cli osd crush move node-a root=default >/dev/null 2>&1
  ceph_cli osd crush add osd.0 1.0 host=node-a >/dev/null 2>&1
  spawn osd ceph-osd -c "$CONF" -i 0 -f
  wait_for "the OSD" 60 osd_up

  spawn rgw radosgw -c "$CONF" -n client.rgw.a -f
  # radosgw-admin needs the gateway's pools, which radosgw creates as it starts: retry until they exist.
  wait_for "the S3 user" 60 radosgw-admin -c "$CONF" user create --uid=floe-test --display-name="floe tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY"
  wait_for "the gateway on $ENDPOINT" 60 gateway_answers
  local d
  for d in "${DAEMONS[@]}"; do
    live_pid "$d" >/dev/null || {
      say "$d exited during start; see $DIR/log"
      exit 1
    }
  done
  say "started in $((SECONDS - t0))s at $ENDPOINT ($DIR)"
}

# Stops daemon `name` (by its PID file) with `signal`, then KILL if it outlives 10 s; drops the PID file.
stop_one() {
  local name="$1" signal="${2:-TERM}" pid
  pid="$(live_pid "$name")" || {
    rm -f "$DIR/$name.pid"
    return 0
  }
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    alive "$pid" || break
    sleep 0.2
  done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/$name.pid"
}

# Whether process `pid` still runs: a zombie (dead, not yet reaped by a parent that is slow to) does not.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# The extra gateways' names (from their port files).
extra_gateways() {
  local f
  for f in "$DIR"/rgw-*.port; do
    [[ -e "$f" ]] || continue
    f="${f##*/rgw-}"
    echo "${f%.port}"
  done
}

stop_daemons() {
  local d
  # The gateways first, the monitor last: each depends on the ones after it.
  for d in $(extra_gateways); do
    stop_one "rgw-$d"
    rm -rf "$DIR/rgw-$d.port" "${DIR:?}/rgw-$d"
  done
  for d in rgw osd mon; do stop_one "$d"; done
}

# Starts gateway `name` (main: rgw on $PORT; extra: rgw-NAME on its recorded port) and waits for it.
spawn_gateway() {
  local name="$1" port
  if [[ "$name" == rgw ]]; then
    spawn rgw radosgw -c "$CONF" -n client.rgw.a -f
    port="$PORT"
  else
    port="$(cat "$DIR/$name.port")"
    mkdir -p "$DIR/$name"
    # Every setting the main gateway takes from its [client.rgw.a] section, given on the command line.
    spawn "$name" radosgw -c "$CONF" -n "client.$name" -f \
      "--rgw_frontends=beast endpoint=127.0.0.1:$port tcp_nodelay=1" \
      "--rgw_data=$DIR/$name" --rgw_dns_name=localhost
  fi
  wait_for "the gateway on 127.0.0.1:$port" 60 gateway_answers "$port" || exit 1
  live_pid "$name" >/dev/null || {
    say "$name exited during start; see $DIR/log/$name.out"
    exit 1
  }
}

gateway_name() {
  local name="${1:-}"
  if [[ -z "$name" ]]; then
    echo rgw
    return
  fi
  if ! [[ "$name" =~ ^[A-Za-z0-9-]{1,32}$ ]]; then
    say "a gateway name is letters, digits and '-', got '$name'"
    exit 2
  fi
  echo "rgw-$name"
}

cluster_up() {
  live_pid mon >/dev/null && live_pid osd >/dev/null || {
    say "the cluster is not running; run '$0 start' first"
    exit 1
  }
}

start_gateway() {
  local name port="${2:-}"
  name="$(gateway_name "${1:-}")"
  [[ "$name" != rgw ]] || {
    say "usage: $0 start-gateway NAME PORT (the main gateway starts with '$0 start')"
    exit 2
  }
  [[ "$port" =~ ^[0-9]+$ ]] || {
    say "usage: $0 start-gateway NAME PORT"
    exit 2
  }
  cluster_up
  if live_pid "$name" >/dev/null && [[ "$(cat "$DIR/$name.port" 2>/dev/null)" == "$port" ]] &&
    gateway_answers "$port"; then
    say "gateway $name already running on 127.0.0.1:$port"
    return 0
  fi
  stop_one "$name"
  if gateway_answers "$port"; then
    say "something else already answers on 127.0.0.1:$port; choose another port"
    exit 1
  fi
  echo "$port" >"$DIR/$name.port"
  spawn_gateway "$name"
  say "gateway $name started on 127.0.0.1:$port"
}

stop_gateway() {
  local name
  name="$(gateway_name "${1:-}")"
  [[ "$name" != rgw ]] || {
    say "usage: $0 stop-gateway NAME (the main gateway stops with '$0 stop')"
    exit 2
  }
  stop_one "$name"
  rm -rf "$DIR/$name.port" "${DIR:?}/$name"
}

restart_gateway() {
  local name t0=$SECONDS
  name="$(gateway_name "${1:-}")"
  cluster_up
  [[ "$name" == rgw || -f "$DIR/$name.port" ]] || {
    say "no gateway ${1:-} was started; start it with '$0 start-gateway ${1:-} PORT'"
    exit 1
  }
  # KILL: the gateway dies as in a crash, mid-request, without finishing what it was doing.
  stop_one "$name" KILL
  spawn_gateway "$name"
  say "gateway $name restarted in $((SECONDS - t0))s"
}

stop() {
  stop_daemons
  say "stopped ($DIR kept for its logs; the next start wipes it)"
}

status() {
  if running; then
    echo "running at $ENDPOINT ($DIR)"
    return 0
  fi
  echo "not running"
  return 1
}

print_env() {
  cat <<EOF
export FLOE_S3_ENDPOINT=$ENDPOINT
export FLOE_S3_REGION=$REGION
export FLOE_S3_ACCESS_KEY=$ACCESS_KEY
export FLOE_S3_SECRET_KEY=$SECRET_KEY
EOF
}

cmd="${1:-}"
case "$cmd" in
start | stop | restart-gateway | start-gateway | stop-gateway)
  mkdir -p "$(dirname "$DIR")"
  # One start or stop at a time: test files that start the cluster in parallel wait for each other.
  exec 9>"$DIR.lock"
  flock 9
  shift
  "${cmd//-/_}" "$@"
  ;;
status) status ;;
env) print_env ;;
*)
  echo "usage: $0 start|stop|status|env|restart-gateway [NAME]|start-gateway NAME PORT|stop-gateway NAME" >&2
  exit 2
  ;;
esac
