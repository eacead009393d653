#!/usr/bin/env bash
# t-build-progress.sh: `nook build`'s output (issue 17): BuildKit's plain form when piped
# (auto), the compact view with --progress=tty and, through a real terminal (script(1)),
# with auto; a failing step shows its output's tail and the error in either.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<'EOF2'
FROM busybox
RUN echo one; echo last-line
CMD ["true"]
EOF2

nrun build --no-cache -t p1 "$ctx"
check_eq "piped: the build succeeds" 0 "$RC"
check_match "piped (auto): BuildKit's plain form" \
  "#[0-9]+ \[2/2\] RUN echo one; echo last-line${NL}#[0-9]+ [0-9.]+ one${NL}#[0-9]+ [0-9.]+ last-line${NL}#[0-9]+ DONE [0-9.]+s" "$ERR"
check_no_match "piped (auto): no compact view" " => " "$ERR"

nrun build --no-cache --progress=tty -t p1 "$ctx"
check_eq "--progress=tty: the build succeeds" 0 "$RC"
plain=$(sed 's/\r\x1b\[K//g; s/\x1b\[K//g' <<<"$ERR")
check_match "--progress=tty: one line per step, with its time" \
  " => \[2/2\] RUN echo one; echo last-line +[0-9.]+s" "$plain"
check_match "--progress=tty: the RUN's last line shown while it ran" \
  " => \[2/2\] RUN echo one; echo last-line \| last-line" "$plain"
check_match "--progress=tty: the image named, a closing line" \
  " => => naming to docker.io/library/p1:latest done${NL}\[\+\] Building [0-9.]+s \([0-9]+/[0-9]+\) FINISHED" "$plain"
check_no_match "--progress=tty: no plain '#N' lines" "(^|$NL)#[0-9]+ " "$plain"

nrun build --progress=tty -t p1 "$ctx"
check_match "--progress=tty: a cached step says so" " => CACHED \[2/2\] RUN echo one; echo last-line" "$ERR"

if command -v script >/dev/null; then
  out=$(cd "$ctx" && TERM=xterm script -qec "$NOOK build --no-cache -t p2 ." /dev/null 2>&1)
  check_match "on a terminal, auto is the compact view" \
    "\[\+\] Building [0-9.]+s \([0-9]+/[0-9]+\) FINISHED" "$out"
fi

cat >"$ctx/Dockerfile" <<'EOF2'
FROM busybox
RUN echo why it failed; exit 3
EOF2
nrun build --progress=tty -t p3 "$ctx"
check_eq "--progress=tty: a failing RUN: exit 1" 1 "$RC"
plain=$(sed 's/\r\x1b\[K//g' <<<"$ERR")
check_match "--progress=tty: the failing step, its output's tail" \
  " => ERROR \[2/2\] RUN echo why it failed; exit 3${NL}------${NL} > \[2/2\] RUN echo why it failed; exit 3:${NL}[0-9.]+ why it failed" "$plain"
check_match "and the error with the exit code" "exit code: 3" "$plain"
done_testing
