#!/usr/bin/env bash
# t-ports.sh: published ports. An HTTP server in a container answers on a published TCP
# port from the host's 127.0.0.1 (default network and slirp4netns); a UDP echo through a
# published UDP port; -P with --expose and `nook port`; `nook ps` PORTS; no helper
# outlives its container (normal end, and kill -9 of nook); a port below
# ip_unprivileged_port_start, a taken port and malformed -p specs are clear errors that
# leave nothing behind.
# A foreground `nook run` runs in the background of this script; the port is polled until
# it answers (deadline, fails loudly); nook is ended by its pid.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

W=$T_SCRATCH/www
mkdir -p "$W"
echo served-from-the-container >"$W/index.html"
BG=0

# start_bg ARGS...: `nook ARGS...` in the background; BG gets nook's pid.
start_bg() {
  "$NOOK" "$@" >"$T_SCRATCH/bg.out" 2>"$T_SCRATCH/bg.err" </dev/null &
  BG=$!
}

# stop_bg SIGNAL: signal nook and wait for it (deadline 30 s); its status in RC.
stop_bg() {
  kill "-$1" "$BG" 2>/dev/null
  RC=0
  if ! poll 30 pid_ended "$BG"; then
    kill -KILL "$BG" 2>/dev/null
    RC=999
  fi
  wait "$BG" 2>/dev/null || RC=$?
}

http_get() {
  curl -fsS --max-time 30 "$1" 2>/dev/null
}

# --- TCP: an HTTP server answers on the host's 127.0.0.1 ----------------------------------
for net in bridge slirp4netns; do
  P=$(free_port tcp)
  name="web-$net-$$"
  start_bg run --rm --name "$name" --network "$net" -p "$P:80" -v "$W:/www:ro" busybox httpd -f -p 80 -h /www
  if wait_until "--network $net -p $P:80: the server answers on 127.0.0.1:$P" 30 http_get "http://127.0.0.1:$P/"; then
    check_eq "--network $net: HTTP through the published port" served-from-the-container "$(http_get "http://127.0.0.1:$P/")"
    n_ok=0
    for _ in $(seq 30); do
      [ "$(http_get "http://127.0.0.1:$P/")" = served-from-the-container ] && n_ok=$((n_ok + 1))
    done
    check_eq "--network $net: 30 requests in a row all answered" 30 "$n_ok"
    nrun ps
    check_match "ps PORTS: 0.0.0.0:$P->80/tcp" "0\\.0\\.0\\.0:$P->80/tcp +$name" "$OUT"
    nrun port "$name"
    check_eq "nook port NAME" "80/tcp -> 0.0.0.0:$P" "$OUT"
    nrun port "$name" 80/tcp
    check_eq "nook port NAME 80/tcp" "0.0.0.0:$P" "$OUT"
    check_status "nook port NAME 81: no such mapping" 1 port "$name" 81
    check_match "... says so" "No public port '81' published for $name" "$ERR"
    # the forwarder: a thread a CPU (4 at most), each restricted (seccomp, no_new_privs,
    # no capability but NET_RAW): its threads share its memory, so none may be unrestricted
    fw=$(for k in $(kids "$BG"); do [ "$(cat "/proc/$k/comm" 2>/dev/null)" = nook-ports ] && echo "$k"; done | head -1)
    if [ -n "$fw" ]; then
      want=$(getconf _NPROCESSORS_ONLN); [ "$want" -le 4 ] || want=4 # (as the forwarder counts)
      check_eq "--network $net: the forwarder has a thread a CPU ($want)" "$want" "$(ls "/proc/$fw/task" | wc -l)"
      bad=
      for t in /proc/"$fw"/task/*; do
        st=$(cat "$t/status")
        grep -qE '^Seccomp:[[:space:]]+2$' <<<"$st" || bad="$bad ${t##*/}(seccomp)"
        grep -qE '^NoNewPrivs:[[:space:]]+1$' <<<"$st" || bad="$bad ${t##*/}(no_new_privs)"
        eff=$(sed -n 's/^CapEff:[[:space:]]*//p' <<<"$st")
        [ $((0x$eff & ~(1 << 13))) = 0 ] || bad="$bad ${t##*/}(CapEff $eff)"
      done
      check_eq "--network $net: every forwarding thread is restricted" "" "$bad"
    else
      fail "--network $net: the forwarder (nook-ports) is one of nook's processes" "$(ps -o pid,ppid,comm -u "$(id -u)")"
    fi
    # every child of nook (init, network stack, forwarder) must end with it
    # shellcheck disable=SC2046 # one pid a word
    arm_waiter "$T_SCRATCH/w1" $(kids "$BG")
    stop_bg TERM
    check_eq "--network $net: SIGTERM reaches httpd (143)" 143 "$RC"
    check_eq "--network $net: no helper outlives the container" all-ended "$(waiter_result "$T_SCRATCH/w1")"
    check "--network $net: the host port is free again" poll 60 python3 -c "
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', $P))"
  else
    stop_bg KILL
    diag "$(cat "$T_SCRATCH/bg.err")"
  fi
done

# --- UDP echo through a published UDP port -------------------------------------------------
udp_ping() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(b"ping-udp", ("127.0.0.1", int(sys.argv[1])))
try:
    print(s.recv(100).decode())
except OSError:
    sys.exit(1)
EOF
}
U=$(free_port udp)
start_bg run --rm -p "$U:9999/udp" -v "$(probe_vol)" busybox /probe udpecho 9999
if wait_until "-p $U:9999/udp: the echo answers" 30 udp_ping "$U"; then
  check_eq "UDP through a published UDP port" ping-udp "$(udp_ping "$U")"
  nrun ps
  check_match "ps PORTS: 0.0.0.0:$U->9999/udp" "0\\.0\\.0\\.0:$U->9999/udp" "$OUT"
fi
stop_bg TERM

# --- -P publishes --expose'd ports on free host ports; 127.0.0.1::PORT ---------------------
name="pub-$$"
start_bg run --rm --name "$name" --expose 80 -P -p 127.0.0.1::8080 -v "$W:/www:ro" busybox httpd -f -p 80 -h /www
wait_until "-P: nook port shows the mapping" 30 sh -c "'$NOOK' port '$name' 80 | grep -q ." || true
hp=$("$NOOK" port "$name" 80 2>/dev/null)
check_match "-P: 80/tcp on a free host port of 0.0.0.0" '^0\.0\.0\.0:[0-9]+$' "$hp"
if [ -n "$hp" ]; then
  wait_until "-P: the server answers on 127.0.0.1:${hp#*:}" 30 http_get "http://127.0.0.1:${hp#*:}/" || true
  check_eq "-P: HTTP through the port -P chose" served-from-the-container "$(http_get "http://127.0.0.1:${hp#*:}/")"
fi
nrun port "$name" 8080
check_match "-p 127.0.0.1::8080: a free port on 127.0.0.1" '^127\.0\.0\.1:[0-9]+$' "$OUT"
stop_bg TERM

# --- kill -9 of nook: the helpers die with it ----------------------------------------------
for net in bridge slirp4netns; do
  P=$(free_port tcp)
  start_bg run --rm --network "$net" -p "$P:80" -v "$W:/www:ro" busybox httpd -f -p 80 -h /www
  if wait_until "kill -9 case ($net): the server answers" 30 http_get "http://127.0.0.1:$P/"; then
    # shellcheck disable=SC2046 # one pid a word
    arm_waiter "$T_SCRATCH/w2" $(kids "$BG")
    stop_bg KILL
    check_eq "kill -9 of nook ($net): the container, its network stack and its forwarder end" \
      all-ended "$(waiter_result "$T_SCRATCH/w2")"
    check "kill -9 of nook ($net): the host port is free again" poll 60 python3 -c "
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', $P))"
    nrun ps
    check_no_match "kill -9 of nook ($net): ps shows no running container" 'Up ' "$OUT"
  else
    stop_bg KILL
  fi
done

# --- errors: nothing left behind -------------------------------------------------------------
before=$("$NOOK" ps -a -q | wc -l)
# this user's nook and slirp4netns processes now: the failed runs below must add none
nook_procs() {
  ps -o pid=,stat=,comm= -u "$(id -u)" | awk '$2 !~ /^Z/ && $3 ~ /^(nook|slirp4netns)/ && $3 != "nook-userns" { print $1, $3 }' | sort
}
procs_before=$(nook_procs)
check_status "-p 80:80 (below ip_unprivileged_port_start): exit 125" 125 run -p 80:80 busybox true
check_match "... names the sysctl" 'net\.ipv4\.ip_unprivileged_port_start' "$ERR"
T=$(free_port tcp)
# (holds the port until it is killed, below)
python3 -c "
import socket, time
s = socket.socket(); s.bind(('0.0.0.0', $T)); s.listen(); print('ready', flush=True); time.sleep(300)
" >"$T_SCRATCH/taken" &
TAKER=$!
wait_for "$T_SCRATCH/taken" 600
check_status "-p on a taken port: exit 125" 125 run -p "$T:80" busybox true
check_match "... says the port is already allocated" "Bind for 0\\.0\\.0\\.0:$T failed: port is already allocated" "$ERR"
kill "$TAKER" 2>/dev/null
wait "$TAKER" 2>/dev/null
contains() { case "$2" in *"$1"*) return 0 ;; esac; return 1; }
for bad in 8080:80/sctp 1.2.3.4.5:80:80 '[::1:80:80' 0:80 80-70 99999 8000-8001:80-82 a:b:c:d; do
  check_status "-p '$bad': exit 125" 125 run -p "$bad" busybox true
  check "-p '$bad': the error names the flag and value" contains "\"$bad\" for \"-p, --publish\" flag" "$ERR"
done
check_status "-p with --network none: exit 125" 125 run --network none -p 8080:80 busybox true
check_match "... says why" 'conflicting options: port publishing and --network none' "$ERR"
check_eq "failed runs leave no container" "$before" "$("$NOOK" ps -a -q | wc -l)"
check_eq "failed runs leave no process of this user's nook behind" "" \
  "$(comm -13 <(echo "$procs_before") <(nook_procs))"

done_testing
