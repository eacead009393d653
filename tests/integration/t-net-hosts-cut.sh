#!/usr/bin/env bash
# t-net-hosts-cut.sh: the network holder rewrites a member's /etc/hosts in place, and the
# container's resolvers read it without its lock.  When the file gets shorter (a member
# left), a reader between the holder's write and its cut must see a valid file: blank
# lines after the end of the section, never a stale fragment of an old line (it wrote the
# new text over the old, then truncated).  The hooked build holds the holder between the
# two (hook hosts-written-before-cut) while the test reads the remaining member's file.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

need_hooked
hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"

check_status "network create cutnet" 0 network create cutnet
# the holder starts with a's run (the hooked binary, the hook directory in its environment)
NOOK_TEST_HOOK_DIR=$hooks timeout 60 "$NOOK_HOOKED" run -d --network cutnet --name a busybox \
  sleep 1000 >/dev/null 2>"$T_SCRATCH/a.err"
check_eq "a runs on cutnet" 0 "$?"
check_status "b joins cutnet" 0 run -d --network cutnet --name bravo-with-a-long-name \
  --network-alias another-long-alias busybox sleep 1000
nrun exec a cat /etc/hosts
check_match "a's hosts file names b" 'bravo-with-a-long-name another-long-alias' "$OUT"

# b leaves: the holder rewrites b's file (its section removed) and a's, both shorter, and
# stops before each cut; a's is checked at its stop, whichever comes first
r=$hooks/hosts-written-before-cut.reached g=$hooks/hosts-written-before-cut.go
mkfifo "$r" "$g"
(timeout 60 "$NOOK" rm -f bravo-with-a-long-name >/dev/null 2>&1) &
rmpid=$!
seen=0
for _ in 1 2; do
  timeout 30 cat "$r" >/dev/null || break
  nrun exec a cat /etc/hosts
  if ! grep -q bravo-with-a-long-name <<<"$OUT"; then
    seen=1
    after=$(sed -n '/^# end of nook network cutnet$/,$p' <<<"$OUT" | sed 1d)
    check_eq "a's file between the write and the cut: only blank lines after the section's end" \
      "" "$(tr -d '\n' <<<"$after")"
    mv "$r" "$r.off" # (no stop at the next rewrites)
    open_gate "$g" >/dev/null
    break
  fi
  open_gate "$g" >/dev/null
done
[ "$seen" = 1 ] || fail "the holder stopped at the test hook hosts-written-before-cut for a's file"
wait "$rmpid"
nrun exec a cat /etc/hosts
check_eq "after the cut: the file ends with the section's end" "# end of nook network cutnet" \
  "$(tail -n 1 <<<"$OUT")"
check_status "rm -f a" 0 rm -f a
check_status "network rm cutnet" 0 network rm cutnet

done_testing
