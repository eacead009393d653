#!/usr/bin/env bash
# t-build-progress-tick.sh: the compact view (issue 17) redraws the running step on a timer,
# as BuildKit's does: a step that prints nothing for a while still shows its time growing.
# (The step lasts 3 s of its own clock; the renderer ticks every 0.1 s, so it shows at
# least 1.0 s unless it was starved for two seconds.)
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<'EOF2'
FROM busybox
RUN sleep 3
EOF2
nrun build --no-cache --progress=tty -t tick "$ctx"
check_eq "--progress=tty: the build succeeds" 0 "$RC"
# the live line's redraws: each erased by the next one ("\r\e[K"), never ended by a newline
live=$(python3 -c 'import re,sys
for m in re.finditer(r"\r\x1b\[K([^\r\n]*)(?=\r\x1b\[K)", sys.stdin.read()): print(m.group(1))' <<<"$ERR")
check_match "a silent step's live line shows its time growing" \
  "(^|$NL) => \[2/2\] RUN sleep 3 +[1-9][0-9]*\.[0-9]s($NL|$)" "$live"
check_match "its final line, its time" " => \[2/2\] RUN sleep 3 +[0-9.]+s$NL" "$ERR"
done_testing
