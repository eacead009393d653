#!/usr/bin/env bash
# t-build-progress-tick.sh: the compact view (issue 17) redraws the running step on a timer,
# as BuildKit's does: a step that prints nothing for a while still shows its time growing.
# The step waits for a file of the context (bound in place, read-only) that the test makes
# only once the live line has shown a time of 1.0 s or more: no clock decides the order.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=bind,target=/c until [ -e /c/go ]; do sleep 0.1; done
EOF2
# the live line's redraws: each erased by the next one ("\r\e[K"), never ended by a newline
live_lines() {
  python3 -c 'import re,sys
for m in re.finditer(r"\r\x1b\[K([^\r\n]*)(?=\r\x1b\[K)", sys.stdin.read()): print(m.group(1))' <"$T_SCRATCH/err"
}
# (the line is cut to the terminal's width: its start is enough)
step=' => \[2/2\] RUN --mount=type=bind,target=/c [^[:cntrl:]]*'
shows_time() { live_lines | grep -Eq "^$step +[1-9][0-9]*\.[0-9]s$"; }
timeout 120 "$NOOK" build --no-cache --progress=tty -t tick "$ctx" </dev/null >/dev/null 2>"$T_SCRATCH/err" &
bpid=$!
wait_until "a silent step's live line shows its time growing (1.0 s or more)" 60 shows_time
check "a silent step's live line shows its time growing" shows_time
touch "$ctx/go"
wait "$bpid"
check_eq "--progress=tty: the build succeeds" 0 "$?"
check_match "its final line, its time" "$step +[0-9.]+s$NL" "$(cat "$T_SCRATCH/err")"
done_testing
