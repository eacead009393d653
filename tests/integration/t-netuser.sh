#!/usr/bin/env bash
# t-netuser.sh: user-defined networks. The network verbs (create/ls/inspect/rm/prune: messages
# and exit codes as Docker's); two containers on one network reach each other by name and
# --network-alias in both directions (the one that joined first finds the later one); a
# container on another network reaches neither by name nor by address (a network error);
# --network container:NAME shares NAME's network namespace; two containers with different
# -u on one network; a published port on a user network; bad input exits 125 and leaves
# nothing.
# Foreground `nook run`s run in the background of this script, synchronised by ready files
# on a volume (polled with deadlines); they end when the test creates /v/stop.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

V=$T_SCRATCH/v
mkdir -p "$V/www-a" "$V/www-b"
chmod -R 777 "$V"
echo served-by-a >"$V/www-a/index.html"
echo served-by-b >"$V/www-b/index.html"
PIDS=()

bg() {
  "$NOOK" "$@" >>"$T_SCRATCH/bg.out" 2>>"$T_SCRATCH/bg.err" </dev/null &
  PIDS+=("$!")
}

# --- the verbs ------------------------------------------------------------------------------
nrun network create tmpnet
nrun network prune -f
check_eq "network prune -f removes the unused ones" "Deleted Networks:${NL}tmpnet" "$OUT"
nrun network create --label team=red lab
check_eq "network create lab: prints the ID" 0 "$RC"
check_match "... a 64-hex ID" '^[0-9a-f]{64}$' "$OUT"
lab_id=$OUT
check_status "network create lab again: exit 1" 1 network create lab
check_eq "... Docker's message" "Error: network with name lab already exists" "$ERR"
nrun network inspect lab
check_match "inspect: the default subnet comes from Docker's pools" '"Subnet": "172\.(1[7-9]|2[0-9]|3[01])\.0\.0/16"' "$OUT"
check_match "inspect: the gateway is its first address" '"Gateway": "172\.[0-9]+\.0\.1"' "$OUT"
check_match "inspect: the label" '"team": "red"' "$OUT"
lab_subnet=$(sed -n 's/.*"Subnet": "\(.*\)".*/\1/p' <<<"$OUT")
check_status "network create --subnet overlapping lab's: exit 1" 1 network create --subnet "$lab_subnet" lab3
check_match "... names the flag, the value and the other network" "invalid --subnet ${lab_subnet//./\\.}: it overlaps network lab" "$ERR"
check_status "network create --subnet 10.0.2.0/24 (the uplink's): exit 1" 1 network create --subnet 10.0.2.0/24 up
check_match "... says it is the uplink's" 'overlaps the user-mode uplink' "$ERR"
check_status "network create --subnet 10.1.2.3/16: exit 1" 1 network create --subnet 10.1.2.3/16 x
check_match "... Docker's hint" 'invalid --subnet .10\.1\.2\.3/16.: it should be 10\.1\.0\.0/16' "$ERR"
check_status "network create --subnet twice: exit 1" 1 network create --subnet 10.9.0.0/16 --subnet 10.8.0.0/16 x
check_match "... names the flag and both values" "--subnet given twice \('10\.9\.0\.0/16', '10\.8\.0\.0/16'\)" "$ERR"
nrun network create --subnet 10.88.0.0/16 lab2
check_eq "network create --subnet 10.88.0.0/16 lab2" 0 "$RC"
nrun network ls
check_match "network ls: bridge, host, none and lab" "bridge.*${NL}.*host.*${NL}.*none.*${NL}.*lab " "$OUT"
nrun network ls -f name=lab2 --format '{{.Name}}/{{.Driver}}/{{.Scope}}'
check_eq "network ls --format: a Go template per network" "0 lab2/bridge/local" "$RC $OUT"
nrun network ls -f name=lab2 --format 'table {{.Name}}'
check_eq "network ls --format 'table ...': Docker's header, then the rows" "NAME${NL}lab2" "$OUT"
nrun network ls -q -f name=lab2
check_eq "network ls -q -f name=lab2" "$("$NOOK" network inspect lab2 | sed -n 's/.*"Id": "\(.\{12\}\).*/\1/p')" "$OUT"
nrun network ls -f label=team=red --format json
check_eq "network ls -f label=team=red --format json" "{\"ID\":\"${lab_id:0:12}\",\"Name\":\"lab\",\"Driver\":\"bridge\",\"Scope\":\"local\"}" "$OUT"
check_status "network rm nosuch: exit 1" 1 network rm nosuch
check_eq "... Docker's message" "Error: network nosuch not found" "$ERR"
check_status "network inspect nosuch: exit 1" 1 network inspect nosuch
check_status "network rm bridge: exit 1" 1 network rm bridge
nrun network create --internal --subnet 10.89.0.0/16 lab2b
check_eq "network create --internal lab2b (no uplink: for the strict isolation checks)" 0 "$RC"

# --- bad input of run: 125, nothing left ------------------------------------------------------
before=$("$NOOK" ps -a -q | wc -l)
check_status "run --network nosuch: exit 125" 125 run --rm --network nosuch busybox true
check_match "... says the network is not found" 'network nosuch not found' "$ERR"
check_status "run --network-alias on the default network: exit 125" 125 run --rm --network-alias x busybox true
check_match "... names the flag" '--network-alias x: network-scoped aliases are only supported for user-defined networks' "$ERR"
check_status "run --ip outside the subnet: exit 125" 125 run --rm --network lab2 --ip 10.99.0.5 busybox true
check_match "... names the flag, value and network" 'invalid --ip 10\.99\.0\.5: not a host address of network lab2 \(10\.88\.0\.0/16\)' "$ERR"
check_status "run --network given twice: exit 125" 125 run --rm --network lab --network lab2 busybox true
check_match "... names both" "--network given twice \('lab', 'lab2'\)" "$ERR"
check_status "run --network container:nosuch: exit 125" 125 run --rm --network container:nosuch busybox true
check_match "... says so" 'container:nosuch: No such container: nosuch' "$ERR"
check_eq "bad input leaves no container" "$before" "$("$NOOK" ps -a -q | wc -l)"

# --- two containers on lab, both directions; a and b by name and alias ------------------------
# a starts first; b joins later; a must find b (its hosts file is rewritten in place).
bg run --rm --network lab --name a --network-alias alpha -v "$V:/v" busybox sh -c '
  httpd -p 80 -h /v/www-a; readlink /proc/self/ns/net >/v/a.ns
  hostname -i >/v/a.ip 2>/v/a.ip.err; echo $? >/v/a.ip.rc
  while [ ! -e /v/b.ready ]; do sleep 0.1; done
  { timeout 30 wget -qO- http://b/; timeout 30 wget -qO- http://bravo/; } >/v/a-saw 2>&1; touch /v/a.done
  while [ ! -e /v/stop ]; do sleep 0.1; done'
# (a's hostname -i done, whatever its result: its status, output and stderr are checked
# below; a resolver that waits for a name server may take a while, so 60 s)
wait_until "a is up (its hostname -i has returned)" 60 test -s "$V/a.ip.rc" ||
  diag "$(cat "$T_SCRATCH/bg.err")"
bg run --rm --network lab --name b --network-alias bravo -v "$V:/v" busybox sh -c '
  httpd -p 80 -h /v/www-b
  { timeout 30 wget -qO- http://a/; timeout 30 wget -qO- http://alpha/; ping -c1 -W30 a >/dev/null && echo ping-ok; } >/v/b-saw 2>&1
  touch /v/b.ready
  while [ ! -e /v/stop ]; do sleep 0.1; done'
wait_until "a has looked for b" 90 test -e "$V/a.done" || true
check_eq "b (joined later) reaches a by name and alias, and pings it" \
  "served-by-a${NL}served-by-a${NL}ping-ok" "$(cat "$V/b-saw" 2>/dev/null)"
check_eq "a (joined first) reaches b by name and alias" \
  "served-by-b${NL}served-by-b" "$(cat "$V/a-saw" 2>/dev/null)"
a_ip=$(tr -d ' \n' <"$V/a.ip" 2>/dev/null)
check_eq "a's hostname -i succeeds" 0 "$(cat "$V/a.ip.rc" 2>/dev/null)"
[ "$(cat "$V/a.ip.rc" 2>/dev/null)" = 0 ] || diag "hostname -i's stderr: $(cat "$V/a.ip.err" 2>/dev/null)"
check_match "a's address (hostname -i) is on lab's subnet" "^${lab_subnet%%.0.0/16}\." "$a_ip"
# (the address the later checks use, from the record: a failed hostname -i above is
# reported once, not again by every check that needs the address)
rec_ip=$("$NOOK" inspect -f '{{.NetworkSettings.Networks.lab.IPAddress}}' a 2>/dev/null)
check_eq "hostname -i says the address nook recorded" "$rec_ip" "$a_ip"
a_ip=${rec_ip:-$a_ip}

# --- another network: neither by name nor by address ------------------------------------------
# lab2b has no uplink, so nothing answers but the network itself: a network error
# (its resolver is unreachable too: the lookup fails or times out)
nrun run --rm --network lab2b busybox sh -c "
  grep -w -e a -e alpha /etc/hosts; echo hosts-status=\$?
  timeout 5 wget -qO- http://a/ 2>&1; echo name-status=\$?
  timeout 5 wget -qO- http://$a_ip/ 2>&1; echo addr-status=\$?"
check_match "lab2b: a's name does not resolve (not in its hosts; the lookup fails or times out)" \
  "^hosts-status=1${NL}(wget: bad address 'a'${NL}name-status=1|Terminated${NL}name-status=143)${NL}" "$OUT"
check_match "lab2b: a's address is unreachable (a network error)" \
  "(Connection refused|No route to host|Network is unreachable|timed out)[^${NL}]*${NL}addr-status=1" "$OUT"
# lab2 has an uplink: what it reaches is the host's outside (whose answer this machine
# decides), never a
nrun run --rm --network lab2 busybox sh -c "
  timeout 5 wget -qO- http://a/ 2>&1; echo name-status=\$?
  timeout 5 wget -qO- http://$a_ip/ 2>&1; echo addr-status=\$?"
check_no_match "lab2 (with an uplink): a is not reached by name or address" served-by-a "$OUT"
check_match "... both fail" "name-status=[1-9].*${NL}(.*${NL})*addr-status=[1-9]" "$OUT"

# --- container:NAME --------------------------------------------------------------------------
nrun run --rm --network container:a busybox readlink /proc/self/ns/net
check_eq "--network container:a shares a's network namespace (both alive)" "$(cat "$V/a.ns")" "$OUT"
nrun run --rm --network container:a busybox sh -c 'timeout 30 wget -qO- http://127.0.0.1/'
check_eq "... and reaches a's server on 127.0.0.1" served-by-a "$OUT"

# --- different -u on one network ---------------------------------------------------------------
bg run --rm --network lab -u 1000:1000 --name u1000 -v "$V:/v" busybox sh -c '
  id -u >/v/u1000.id; httpd -p 8080 -h /v/www-a; while [ ! -e /v/stop ]; do sleep 0.1; done'
wait_until "the -u 1000 container is up" 30 test -s "$V/u1000.id" || true
nrun run --rm --network lab -u 0 busybox sh -c 'id -u; timeout 30 wget -qO- http://u1000:8080/; ping -c1 -W30 u1000 >/dev/null && echo ping-ok'
check_eq "-u 0 reaches -u 1000 on lab by name ($NOOK_TEST_USER_KIND)" "0${NL}served-by-a${NL}ping-ok" "$OUT"
check_eq "... which runs as 1000" 1000 "$(cat "$V/u1000.id" 2>/dev/null)"

# --- network connect / disconnect of a running container ------------------------------------
# b (on lab) joins lab2 with an alias; a container on lab2 then finds it, and no longer after
# the disconnect. Both kinds of user: every network's holder is in the user's kept user
# namespace, so b's is below lab2's (a container on bridge without a range: t-net-detach.sh).
nrun network connect --alias bee lab2 b
check_eq "network connect --alias bee lab2 b" 0 "$RC"
nrun run --rm --network lab2 busybox sh -c 'timeout 30 wget -qO- http://bee/; timeout 30 wget -qO- http://b/'
check_eq "on lab2, b is found by name and by the alias given to connect" "served-by-b${NL}served-by-b" "$OUT"
check_status "network connect lab2 b again: exit 1" 1 network connect lab2 b
check_match "... says it is there already" 'endpoint with name b already exists in network lab2' "$ERR"
nrun network disconnect lab2 b
check_eq "network disconnect lab2 b" 0 "$RC"
nrun run --rm --network lab2 busybox sh -c "grep -cw bee /etc/hosts; ip -4 addr | grep -c 'inet '"
check_eq "after the disconnect, lab2's containers no longer see b" "0${NL}2" "$OUT"
check_status "network disconnect lab2 a (not connected): exit 1" 1 network disconnect lab2 a
check_eq "... says so" "Error: container a is not connected to network lab2" "$ERR"

# (run -d, create and start on a user network: t-net-detach.sh)

# --- rm of a network in use; a published port on a user network ----------------------------
check_status "network rm lab (in use): exit 1" 1 network rm lab
check_eq "... Docker's message" "Error: error while removing network: network lab has active endpoints" "$ERR"
nrun network inspect lab
check_match "inspect lists a and b" '"Name": "a"' "$OUT"
P=$(free_port tcp)
bg run --rm --network lab2 -p "127.0.0.1:$P:80" -v "$V/www-b:/www:ro" busybox httpd -f -p 80 -h /www
wait_until "-p on lab2: the server answers on 127.0.0.1:$P" 30 sh -c "curl -fsS --max-time 3 http://127.0.0.1:$P/ 2>/dev/null | grep -q served-by-b" || true

: >"$V/stop"
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
nrun network rm lab lab2 lab2b
check_eq "network rm lab lab2 lab2b once their containers ended" "lab${NL}lab2${NL}lab2b" "$OUT"
done_testing
