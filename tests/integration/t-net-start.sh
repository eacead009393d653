#!/usr/bin/env bash
# t-net-start.sh: `nook start`, `nook restart` and restart policies rebuild a container's
# default network (bridge: the user-mode stack, published ports) as its run asked: a
# created container started later answers on its published port and reaches out through
# eth0; the port answers again after restart and after stop + start (the same host port;
# -P's random port too); a restart policy keeps the port across its restarts.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

V=$T_SCRATCH/v
mkdir -p "$V/www"
chmod -R 777 "$V"
echo served-from-the-container >"$V/www/index.html"

http_get() {
  curl -fsS --max-time 3 "$1" 2>/dev/null
}
answers() {
  http_get "http://127.0.0.1:$1/" | grep -q served-from-the-container
}

# --- create, then start ------------------------------------------------------------------
P=$(free_port tcp)
nrun create --name w -p "127.0.0.1:$P:80" -v "$V/www:/www:ro" busybox httpd -f -p 80 -h /www
check_eq "create -p 127.0.0.1:$P:80 --name w" 0 "$RC"
nrun start w
check_eq "start w" 0 "$RC"
check_eq "... prints no warning" "" "$ERR"
wait_until "the started container answers on 127.0.0.1:$P" 30 answers "$P" || true
nrun exec w sh -c 'ip -4 addr show eth0 | grep -o "inet [0-9.]*"'
check_eq "... it has the default network's eth0" "inet 10.0.2.100" "$OUT"
nrun port w
check_eq "nook port w" "80/tcp -> 127.0.0.1:$P" "$OUT"
nrun inspect -f '{{.NetworkSettings.IPAddress}} {{json .NetworkSettings.Ports}}' w
check_eq "inspect: its address and ports (NetworkSettings)" \
  "10.0.2.100 {\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$P\"}]}" "$OUT"

# --- restart; stop + start --------------------------------------------------------------------
nrun restart -t 1 w
check_eq "restart w" 0 "$RC"
wait_until "after restart, the port answers again" 30 answers "$P" || true
nrun stop -t 1 w
check_eq "stop w" 0 "$RC"
check_fail "stopped, the port no longer answers" answers "$P"
nrun start w
wait_until "after stop + start, the same port answers" 30 answers "$P" || true
nrun rm -f w
check_eq "rm -f w" 0 "$RC"
check_fail "removed, the port no longer answers" answers "$P"

# --- -P: a random port, kept across stop + start -------------------------------------------
nrun run -d --name rp -P --expose 80 -v "$V/www:/www:ro" busybox httpd -f -p 80 -h /www
check_eq "run -d -P --expose 80" 0 "$RC"
RP=$("$NOOK" port rp 80/tcp | sed -n 's/.*:\([0-9]*\)$/\1/p')
check_match "nook port rp 80/tcp gives a port" '^[0-9]+$' "$RP"
wait_until "-P: the random port answers" 30 answers "$RP" || true
nrun stop -t 1 rp
nrun start rp
wait_until "... and answers again after stop + start" 30 answers "$RP" || true
nrun rm -f rp

# --- a restart policy keeps the published port ------------------------------------------
Q=$(free_port tcp)
nrun run -d --name once --restart on-failure:1 -p "127.0.0.1:$Q:80" -v "$V:/v" busybox sh -c \
  'if [ ! -e /v/ran-once ]; then touch /v/ran-once; exit 1; fi; exec httpd -f -p 80 -h /v/www'
check_eq "run -d --restart on-failure:1 -p $Q:80 (fails once)" 0 "$RC"
wait_until "after its restart, the port answers" 30 answers "$Q" || true
nrun inspect -f '{{.RestartCount}}' once
check_eq "... it was restarted once" 1 "$OUT"
nrun rm -f once
check_eq "rm -f once" 0 "$RC"
done_testing
