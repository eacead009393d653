#!/usr/bin/env bash
# t-net-detach.sh: containers on a user-defined network that no foreground nook runs:
# `run -d`, `create` + `start`, restart policies and `nook restart`. Their supervisor is
# the network's member: they find each other by name, --network-alias and generated name,
# in both directions, through the hosts files and through the network's name server
# (`nslookup NAME` asks the gateway, as Docker's 127.0.0.11); `network inspect` lists
# them while they run; `stop` takes them off the network at once; the network's processes
# end with its last container. A container on another network finds none of them.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

V=$T_SCRATCH/v
mkdir -p "$V/www"
chmod -R 777 "$V"
echo served-by-db >"$V/www/index.html"
me=$(id -u)
net_procs() {
  ps -u "$me" -o pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 ~ /^nook-(netns|uplink|slirp)$/ {printf "%s ", $1}'
}
json_field() { sed -n "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p" | head -1; }

nrun network create nd
check_eq "network create nd" 0 "$RC"
nrun network create --internal --subnet 10.97.0.0/16 nd2
check_eq "network create --internal nd2" 0 "$RC"

# --- run -d: the supervisor joins the network ---------------------------------------------
nrun run -d --network nd --name db --network-alias dbal -v "$V/www:/www:ro" busybox httpd -f -p 80 -h /www
check_eq "run -d --network nd --name db: exit 0" 0 "$RC"
check_match "... prints the container's ID" '^[0-9a-f]{64}$' "$OUT"
nrun network inspect nd
check_match "network inspect nd lists db while it runs detached" '"Name": "db"' "$OUT"
nrun run --rm --network nd busybox sh -c 'timeout 30 wget -qO- http://db/; timeout 30 wget -qO- http://dbal/'
check_eq "a later container reaches the detached db by name and alias" "served-by-db${NL}served-by-db" "$OUT"

# --- create + start: joins at start; both directions ---------------------------------------
nrun create --network nd --name web -v "$V:/v" busybox sh -c \
  'httpd -p 8080 -h /v/www; timeout 30 wget -qO- http://db/ >/v/web-saw 2>&1; exec sleep 1000'
check_eq "create --network nd --name web: exit 0" 0 "$RC"
nrun network inspect nd
check_no_match "... a created container is not on the network yet" '"Name": "web"' "$OUT"
nrun start web
check_eq "start web" 0 "$RC"
wait_until "web has looked for db" 60 test -s "$V/web-saw" || true
check_eq "web (started later) reaches db by name" served-by-db "$(cat "$V/web-saw" 2>/dev/null)"
nrun exec db sh -c 'timeout 30 wget -qO- http://web:8080/'
check_eq "db (there first) reaches web by name" served-by-db "$OUT"

# --- a generated name; the name server --------------------------------------------------------
nrun run -d --network nd busybox httpd -f -p 80 -h /etc
gen_id=$OUT
gen=$("$NOOK" inspect -f '{{.Name}}' "$gen_id" | sed 's#^/##')
check_match "a container without --name gets a generated name ($gen)" '^[a-z]+_[a-z]+$' "$gen"
nrun run --rm --network nd busybox sh -c "
  grep '^nameserver' /etc/resolv.conf
  nslookup db; nslookup dbal; nslookup $gen
  ping -c1 -W30 $gen >/dev/null && echo ping-ok
  timeout 30 wget -qO- http://$gen/hostname"
gw=$("$NOOK" network inspect nd | json_field Gateway)
db_ip=$("$NOOK" network inspect nd | tr -d '\n ' | sed -n 's/.*"IPv4Address":"\([0-9.]*\)\/[0-9]*","IPv6Address":"","Name":"db".*/\1/p')
check_match "resolv.conf names the network's gateway ($gw) as name server" "^nameserver ${gw//./\\.}${NL}" "$OUT"
check_match "nslookup db answers db's address ($db_ip)" "Name:[[:space:]]+db${NL}Address:[[:space:]]+${db_ip//./\\.}" "$OUT"
check_match "nslookup dbal (the alias) too" "Name:[[:space:]]+dbal${NL}Address:[[:space:]]+${db_ip//./\\.}" "$OUT"
check_match "nslookup of the generated name answers" "Name:[[:space:]]+$gen${NL}Address:[[:space:]]+172\." "$OUT"
check_match "ping and wget by the generated name" "ping-ok${NL}${gen_id:0:12}\$" "$OUT"
nrun inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' db
check_eq "inspect: db's address on its network (NetworkSettings.Networks)" "$db_ip" "$OUT"
nrun run --rm --network nd busybox nslookup "$db_ip"
check_match "nslookup of db's address gives its name (PTR)" "name = db" "$OUT"
# another network: neither its hosts nor its name server know db (no uplink: the lookup
# fails, never with db's address)
nrun run --rm --network nd2 busybox sh -c 'grep -cw db /etc/hosts; timeout 5 nslookup db; echo rc=$?'
check_match "nd2 does not know db (hosts)" "^0${NL}" "$OUT"
check_match "... nor its name server (the lookup fails)" "rc=[1-9]" "$OUT"
check_no_match "... and never answers db's address" "Address:[[:space:]]+${db_ip//./\\.}\$" "$OUT"

# --- restart policy and nook restart keep the network ------------------------------------
nrun run -d --network nd --name rp --restart on-failure:2 busybox sh -c \
  'ip -4 addr show eth0 | grep -c inet; grep -cw db /etc/hosts; exit 3'
wait_until "rp has been restarted twice and stopped" 60 sh -c \
  "[ \"\$('$NOOK' inspect -f '{{.State.Status}} {{.RestartCount}}' rp)\" = 'exited 2' ]" || true
nrun logs rp
check_eq "each of rp's three runs had eth0 and saw db" "1${NL}1${NL}1${NL}1${NL}1${NL}1" "$OUT"
nrun network inspect nd
check_no_match "rp, stopped for good, has left the network" '"Name": "rp"' "$OUT"
rm -f "$V/web-saw"
nrun restart -t 1 web
check_eq "nook restart web" 0 "$RC"
wait_until "web, restarted, has looked for db" 60 test -s "$V/web-saw" || true
check_eq "... and reaches db by name again" served-by-db "$(cat "$V/web-saw" 2>/dev/null)"
nrun run --rm --network nd busybox sh -c 'timeout 30 wget -qO- http://web:8080/'
check_eq "web is found by name after its restart" served-by-db "$OUT"

# --- a published port on a user network, detached, across a restart ----------------------
P=$(free_port tcp)
nrun run -d --network nd --name pub -p "127.0.0.1:$P:80" -v "$V/www:/www:ro" busybox httpd -f -p 80 -h /www
check_eq "run -d --network nd -p 127.0.0.1:$P:80" 0 "$RC"
wait_until "... the port answers" 30 sh -c "curl -fsS --max-time 3 http://127.0.0.1:$P/ 2>/dev/null | grep -q served-by-db" || true
nrun restart -t 1 pub
wait_until "... and again after nook restart" 30 sh -c "curl -fsS --max-time 3 http://127.0.0.1:$P/ 2>/dev/null | grep -q served-by-db" || true
nrun rm -f pub

# --- network connect of a detached container ----------------------------------------------
# db (run -d on nd) joins nd2; a container on the default network joins nd2 too with a
# range, and without one gets the kernel's refusal, said (its user namespace is not below
# the network's), with nothing left on nd2.
nrun network connect --alias dee nd2 db
check_eq "network connect --alias dee nd2 db (detached)" 0 "$RC"
nrun run --rm --network nd2 busybox sh -c 'timeout 30 wget -qO- http://dee/; nslookup db | grep -c "^Address: 10\.97\."'
check_eq "on nd2, db is found by alias (hosts) and by name (name server)" "served-by-db${NL}1" "$OUT"
nrun network disconnect nd2 db
check_eq "network disconnect nd2 db" 0 "$RC"
nrun run -d --name onbridge busybox sleep 1000
nrun network connect nd2 onbridge
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  check_eq "network connect nd2 of a container on bridge (range)" 0 "$RC"
else
  check_eq "network connect nd2 of a container on bridge (no range): exit 1" 1 "$RC"
  check_match "... says why (the kernel's rule) and what works" \
    "not below the network's.*start it with --network nd2" "$ERR"
  nrun network inspect nd2
  check_no_match "... and leaves no endpoint on nd2" '"Name": "onbridge"' "$OUT"
fi
nrun rm -f onbridge

# --- stop and rm release the membership; the network's processes end with it ----------------
nrun stop -t 1 db
nrun network inspect nd
check_no_match "stop db: db is off the network as stop returns" '"Name": "db"' "$OUT"
nrun run --rm --network nd busybox sh -c 'grep -cw db /etc/hosts; timeout 5 wget -qO- http://db/ 2>&1; echo rc=$?'
check_match "... and no longer found by name" "^0${NL}(.*${NL})?rc=1" "$OUT"
procs=$(net_procs)
# shellcheck disable=SC2086 # one pid a word
arm_waiter "$T_SCRATCH/w" $procs
nrun rm -f web rp "$gen_id" db
check_eq "rm -f of the containers" 0 "$RC"
check_eq "the network's processes end with its last container" all-ended "$(waiter_result "$T_SCRATCH/w")"
nrun network rm nd nd2
check_eq "network rm nd nd2" "nd${NL}nd2" "$OUT"
done_testing
