#!/usr/bin/env bash
# t-exec.sh: exec joins every namespace of the container (compared with its command's while
# both live), with the same capabilities, seccomp and no_new_privs as run; env, user,
# workdir, -d, -t; exit codes (the command's, 126/127, 1 for a stopped container); an exec'd
# process cannot ptrace the container's init.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
P=$(probe_vol)

"$NOOK" run -d --name e1 -e FROM_RUN=yes -w /tmp -v "$P" busybox sh -c 'echo ready; exec sleep 1000' >/dev/null
wait_until "e1 runs" 60 sh -c '"$1" logs e1 2>/dev/null | grep -q ready' _ "$NOOK"

# namespaces: the container's command (PID 2 inside, alive) against the exec'd process
nrun exec e1 sh -c 'for n in user mnt pid net ipc uts cgroup; do echo "$n $(readlink /proc/2/ns/$n) $(readlink /proc/self/ns/$n)"; done'
check_eq "exec exits 0" 0 "$RC"
for n in user mnt pid net ipc uts cgroup; do
  line=$(grep "^$n " <<<"$OUT")
  read -r _ theirs ours <<<"$line"
  check_eq "exec is in the container's $n namespace" "$theirs" "$ours"
done
check_match "the container's namespaces are not the host's" "user:" "$(grep '^user ' <<<"$OUT")"
check_fail "... (the user namespace differs from the host's)" \
  test "$(readlink /proc/self/ns/user)" = "$(awk '/^user /{print $2}' <<<"$OUT")"

# security: the same as run
nrun run --rm -v "$P" busybox /probe status
run_status=$(grep -E '^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|NoNewPrivs|Seccomp)=' <<<"$OUT" | sort)
nrun exec e1 /probe status
exec_status=$(grep -E '^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|NoNewPrivs|Seccomp)=' <<<"$OUT" | sort)
check_match "the probe reports its status" 'CapEff=' "$exec_status"
check_eq "exec has run's CapEff/CapBnd/Seccomp/NoNewPrivs" "$run_status" "$exec_status"
nrun exec e1 /probe ptrace
check_match "an exec'd process cannot ptrace the container's init" 'ptrace=(EPERM|EACCES|ESRCH)' "$OUT"
nrun exec --privileged e1 /probe ptrace
check_match "... even with --privileged" 'ptrace=(EPERM|EACCES|ESRCH)' "$OUT"
nrun exec e1 /probe fds
check_eq "exec: only stdio reaches the command" "fds=0,1,2" "$(grep '^fds=' <<<"$OUT")"

# env, workdir, user
nrun exec -e X=1 e1 sh -c 'echo "$FROM_RUN $X $(pwd)"'
check_eq "exec: the container's env, -e, its workdir" "yes 1 /tmp" "$OUT"
printf 'Y=from-file\n' >"$T_SCRATCH/env"
nrun exec --env-file "$T_SCRATCH/env" -w / e1 sh -c 'echo "$Y $(pwd)"'
check_eq "exec: --env-file and -w" "from-file /" "$OUT"
check_status "exec -w of a missing directory exits 126" 126 exec -w /nonexistent e1 true
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  nrun exec -u 1000:1000 e1 id -u
  check_eq "exec -u 1000" "0 1000" "$RC $OUT"
  nrun exec -u nobody e1 id -un
  check_eq "exec -u nobody (a name from the image)" "0 nobody" "$RC $OUT"
else
  nrun exec -u 1000 e1 id -u
  check_eq "no range: exec -u of another id exits 126" 126 "$RC"
  check_match "... naming the missing subordinate range" 'user id 1000 does not exist.*subordinate id range.*/etc/subuid' "$ERR"
  nrun exec -u 0 e1 id -u
  check_eq "no range: exec -u 0 (the container's user) works" "0 0" "$RC $OUT"
fi

# exit codes
check_status "exec returns the command's status" 7 exec e1 sh -c 'exit 7'
check_status "exec of a missing command exits 127" 127 exec e1 /nonexistent
check_status "exec of a non-executable exits 126" 126 exec e1 /etc/passwd
check_status "exec of a missing container exits 1" 1 exec nosuch true
check_match "... No such container" '^Error: No such container: nosuch' "$ERR"

# -d: returns at once, the command runs on
nrun exec -d e1 sh -c 'echo detached >/tmp/d; sleep 1000'
check_eq "exec -d exits 0 at once" "0" "$RC"
wait_until "the detached command ran" 60 sh -c '"$1" exec e1 cat /tmp/d 2>/dev/null | grep -q detached' _ "$NOOK"

# -t: a terminal from the container
if command -v script >/dev/null; then
  out=$(script -qec "$NOOK exec -t e1 sh -c 'tty; test -t 1 && echo tty1'" /dev/null </dev/null 2>&1 | tr -d '\r')
  check_match "exec -t: a /dev/pts terminal" '/dev/pts/[0-9]+' "$out"
  check_match "exec -t: stdout is a terminal" 'tty1' "$out"
fi
printf 'abc\n' >"$T_SCRATCH/in"
NRUN_STDIN=$T_SCRATCH/in nrun exec -i e1 cat
check_eq "exec -i passes stdin" abc "$OUT"

# a stopped container
"$NOOK" stop -t 0 e1 >/dev/null
check_status "exec into a stopped container exits 1" 1 exec e1 true
check_match "... container e1 is not running" '^Error: container e1 is not running' "$ERR"
"$NOOK" rm -f e1 >/dev/null
done_testing
