#!/usr/bin/env bash
# t-exit.sh: exit statuses: the command's own, 128+N on signal N, and nook's
# 125 (nook failed), 126 (cannot invoke), 127 (not found), as Docker does.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

check_status "true exits 0" 0 run --rm busybox true
check_status "sh -c 'exit 3' exits 3" 3 run --rm busybox sh -c 'exit 3'
check_status "sh -c 'exit 255' exits 255" 255 run --rm busybox sh -c 'exit 255'

nrun run --rm --no-such-flag busybox true
check_eq "unknown flag exits 125" 125 "$RC"
check_match "unknown flag is named on stderr" 'no-such-flag' "$ERR"

nrun run --pull never --rm no-such-image-zz9 true
check_eq "unknown image exits 125" 125 "$RC"
check_match "unknown image is named on stderr" 'no-such-image-zz9' "$ERR"

nrun run --rm busybox /etc
check_eq "a directory as the command exits 126" 126 "$RC"
nrun run --rm busybox /etc/passwd
check_eq "a non-executable file as the command exits 126" 126 "$RC"
nrun run --rm busybox /nonexistent
check_eq "a missing command path exits 127" 127 "$RC"
check_match "a missing command is named on stderr" '/nonexistent' "$ERR"
nrun run --rm busybox no-such-command-zz9
check_eq "a command not in PATH exits 127" 127 "$RC"

# The shell is not PID 1 (nook's init is), so signals with default actions kill it.
check_status "killed by SIGTERM exits 143" 143 run --rm busybox sh -c 'kill -TERM $$'
check_status "killed by SIGKILL exits 137" 137 run --rm busybox sh -c 'kill -KILL $$'

nrun run --rm busybox echo hello
check_eq "echo hello exits 0" 0 "$RC"
check_eq "echo hello prints exactly hello" hello "$OUT"
check_eq "echo hello prints nothing on stderr" "" "$ERR"

nrun run --rm busybox sh -c 'echo out; echo err >&2'
check_eq "container stdout goes to stdout" out "$OUT"
check_eq "container stderr goes to stderr" err "$ERR"

nrun run --rm busybox sh -c 'seq 1 20000'
check_eq "large output arrives whole" 20000 "$(wc -l <<<"$OUT" | tr -d ' ')"

done_testing
