#!/usr/bin/env bash
# t-net-restart-name.sh: a restart policy's restart of a container that `network connect`
# added to a second network keeps its name there all along: its old endpoint stays until
# the new one's JOIN replaces it in the holder (a swap), so a container of that network
# finds the name through the name server and its hosts file at every moment of the
# restart (it used to leave first, then join again: a few ms without the name).
# The restart is stopped right before the rejoin (NOOK_HOOKED: util/test_hook.h's point
# net-rejoin, in the supervisor, which inherits NOOK_TEST_HOOK_DIR from `run -d`).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

need_hooked

a=rna-$$ b=rnb-$$ c=rn-$$ p=rnp-$$
hooks=$T_SCRATCH/hooks
mkdir -p "$hooks" "$T_SCRATCH/v"
chmod 777 "$T_SCRATCH/v"
mkfifo "$hooks/net-rejoin.reached" "$hooks/net-rejoin.go"
nrun network create "$a"
check_eq "network create $a" 0 "$RC"
nrun network create "$b"
check_eq "network create $b" 0 "$RC"
# (its command ends, status 3, once /v/stop exists: the restart policy starts it again)
OUT=$(NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run -d --name "$c" --network "$a" --restart always \
  -v "$T_SCRATCH/v:/v" busybox sh -c 'until [ -e /v/stop ]; do sleep 0.1; done; exit 3' 2>&1)
check_eq "run -d --restart always --network $a (the hooked build)" 0 "$?"
nrun network connect "$b" "$c"
check_eq "network connect $b $c" 0 "$RC"
nrun run -d --name "$p" --network "$b" busybox sleep 1000
check_eq "a peer on $b" 0 "$RC"

found() { # found: the peer finds $c by the name server and in its hosts file
  "$NOOK" exec "$p" sh -c "nslookup $c >/dev/null 2>&1 && echo dns; grep -qw $c /etc/hosts && echo hosts" \
    | tr '\n' ' '
}
found_both() { [ "$(found)" = "dns hosts " ]; }
wait_until "before the restart: the peer finds $c" 30 found_both
check_eq "before the restart: by the name server and its hosts file" "dns hosts " "$(found)"

: >"$T_SCRATCH/v/stop"
if timeout 60 cat "$hooks/net-rejoin.reached" >/dev/null; then
  ok "the restart stopped right before the rejoin of $b"
  check_eq "meanwhile the peer still finds $c by the name server and its hosts file" \
    "dns hosts " "$(found)"
else
  fail "the restart stopped right before the rejoin of $b" "$("$NOOK" logs "$c" 2>&1 | tail -5)"
fi
rm -f "$T_SCRATCH/v/stop"
rm -f "$hooks/net-rejoin.reached" # (later restarts go on without stopping)
timeout 60 sh -c ': >"$1"' _ "$hooks/net-rejoin.go"

up_on_b() { "$NOOK" exec "$c" ip -4 -o addr show eth1 >/dev/null 2>&1; }
wait_until "after the restart: $c is on $b again (eth1)" 30 up_on_b
check_eq "after the restart: the peer finds $c" "dns hosts " "$(found)"
nrun network inspect "$b"
check_eq "network inspect $b lists $c once" 1 "$(grep -c "\"Name\": *\"$c\"" <<<"$OUT")"

nrun rm -f "$c" "$p"
nrun network rm "$a" "$b"
check_eq "network rm" 0 "$RC"
done_testing
