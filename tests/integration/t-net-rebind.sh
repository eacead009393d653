#!/usr/bin/env bash
# t-net-rebind.sh: a port published as "any" (-P, -p 127.0.0.1::80) whose host port was
# taken while the container was stopped gets another at `start`, and `nook port`, `ps` and
# inspect show the new one (the record is rewritten), which answers.
# The old port is held by a listener this test starts (ready file, ended by pid).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

V=$T_SCRATCH/www
mkdir -p "$V"
echo served-from-the-container >"$V/index.html"
chmod -R a+rX "$V"
answers() { curl -fsS --max-time 3 "http://127.0.0.1:$1/" 2>/dev/null | grep -q served-from-the-container; }
port_of() { "$NOOK" port "$1" 80/tcp 2>/dev/null | sed -n 's/.*:\([0-9]*\)$/\1/p'; }

nrun run -d --name rb -p 127.0.0.1::80 -v "$V:/www:ro" busybox httpd -f -p 80 -h /www
check_eq "run -d -p 127.0.0.1::80" 0 "$RC"
OLD=$(port_of rb)
check_match "nook port rb gives a port" '^[0-9]+$' "$OLD"
wait_until "the random port answers" 30 answers "$OLD" || true
nrun stop -t 1 rb
check_eq "stop rb" 0 "$RC"

# take the old port while it is stopped
ready=$T_SCRATCH/holder.ready
python3 - "$OLD" "$ready" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
open(sys.argv[2], "w").close()
time.sleep(120)
EOF
HOLDER=$!
if wait_until "a listener of the test holds the old port $OLD" 60 test -e "$ready"; then
  nrun start rb
  check_eq "start rb (its old port is taken)" 0 "$RC"
  NEW=$(port_of rb)
  check_match "nook port rb: a port" '^[0-9]+$' "$NEW"
  check_fail "nook port rb: not the old, taken port" test "$NEW" = "$OLD"
  wait_until "the new port answers" 30 answers "$NEW" || true
  nrun ps --filter name=rb --format '{{.Ports}}'
  check_eq "ps shows the new port" "127.0.0.1:$NEW->80/tcp" "$OUT"
  nrun inspect -f '{{json .NetworkSettings.Ports}}' rb
  check_eq "inspect shows the new port" "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$NEW\"}]}" "$OUT"
fi
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
nrun rm -f rb
check_eq "rm -f rb" 0 "$RC"
done_testing
