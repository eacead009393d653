#!/usr/bin/env bash
# t-net-connect-start.sh: the networks `network connect` adds (with its --alias) stay the
# container's across `nook stop` + `nook start` and `nook restart`, as Docker's: a container
# of the second network reaches it by name and alias each time; after `network disconnect`
# (of the stopped container) a start leaves it off that network.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

a=csa-$$ b=csb-$$ c=cs-$$
nrun network create "$a"
check_eq "network create $a" 0 "$RC"
nrun network create "$b"
check_eq "network create $b" 0 "$RC"
nrun run -d --name "$c" --network "$a" busybox sh -c \
  'mkdir -p /www && echo served >/www/index.html && exec httpd -f -p 80 -h /www'
check_eq "run -d --network $a" 0 "$RC"
nrun network connect --alias "$c-alias" "$b" "$c"
check_eq "network connect --alias $b $c" 0 "$RC"

# from a new container of $b: both names answer (polled: httpd may be starting)
reach() {
  nrun run --rm --network "$b" busybox sh -c '
    end=$(( $(date +%s) + 30 ))
    for n in '"$c $c-alias"'; do
      until timeout 5 wget -qO- "http://$n/" 2>/dev/null | grep -q served; do
        [ "$(date +%s)" -lt "$end" ] || { echo "no answer from $n"; exit 1; }
        sleep 0.2
      done
    done
    echo reached'
}
on_b() { "$NOOK" exec "$c" ip -4 -o addr show eth1 2>/dev/null | sed -n 's/.*inet \([0-9.]*\).*/\1/p'; }

reach
check_eq "connected: a container of $b reaches $c by name and alias" reached "$OUT"

nrun stop -t 1 "$c"
check_eq "stop" 0 "$RC"
nrun start "$c"
check_eq "start" 0 "$RC"
check_match "after stop + start: $c is on $b again (eth1)" '^[0-9.]+$' "$(on_b)"
nrun exec "$c" ip -4 -o addr show eth0
check_match "... and still on $a (eth0)" 'eth0 +inet ' "$OUT"
reach
check_eq "... a container of $b reaches it by name and alias" reached "$OUT"
nrun network inspect "$b"
check_match "... network inspect $b lists it" "\"Name\": *\"$c\"" "$OUT"

nrun restart -t 1 "$c"
check_eq "restart" 0 "$RC"
check_match "after restart: $c is on $b again (eth1)" '^[0-9.]+$' "$(on_b)"
reach
check_eq "... a container of $b reaches it by name and alias" reached "$OUT"

nrun stop -t 1 "$c"
check_eq "stop again" 0 "$RC"
nrun network disconnect "$b" "$c"
check_eq "network disconnect $b of the stopped $c" 0 "$RC"
nrun start "$c"
check_eq "start after disconnect" 0 "$RC"
nrun exec "$c" ip -4 -o addr
check_no_match "... $c is not on $b (no eth1)" 'eth1' "$OUT"
check_match "... still on $a" 'eth0 +inet ' "$OUT"
nrun network inspect "$b"
check_no_match "... network inspect $b does not list it" "\"Name\": *\"$c\"" "$OUT"

# disconnect of a running container is for good too
nrun network connect "$b" "$c"
check_eq "connect again" 0 "$RC"
nrun network disconnect "$b" "$c"
check_eq "disconnect while running" 0 "$RC"
nrun restart -t 1 "$c"
check_eq "restart after disconnect" 0 "$RC"
nrun exec "$c" ip -4 -o addr
check_no_match "... $c is not on $b after a restart" 'eth1' "$OUT"

nrun rm -f "$c"
check_eq "rm -f" 0 "$RC"
nrun network rm "$a" "$b"
check_eq "network rm $a $b" 0 "$RC"
done_testing
