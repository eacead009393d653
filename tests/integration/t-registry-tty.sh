#!/usr/bin/env bash
# t-registry-tty.sh: what a person sees on a terminal (script(1) gives nook one): `pull`
# draws a line per layer and redraws it in place (cursor movements), plain lines otherwise;
# `login HOST` asks for the username and password on a terminal (Docker's prompts) and
# refuses without one.  Against a loopback docker-registry with basic auth.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup_basic tty script

# ---- login on a terminal ----
nrun login "$R" </dev/null
check_eq "login without -u and without a terminal: exit 1" 1 "$RC"
check_match "... saying why (Docker's words)" "Cannot perform an interactive login from a non TTY device" "$ERR"
printf 'student\ns3cret\n' >"$T_SCRATCH/answers"
out=$(timeout 60 script -qec "$NOOK login $R" /dev/null <"$T_SCRATCH/answers" 2>&1)
check_match "login on a terminal asks for the username" "Username: " "$out"
check_match "... and the password" "Password: " "$out"
check_match "... and logs in" "Login Succeeded" "$out"
check_match "... recorded in the auth file" "\"$R\"" "$(cat "$REGISTRY_AUTH_FILE" 2>/dev/null)"

# ---- pull's progress ----
mkdir -p "$T_SCRATCH/ctx"
printf 'FROM busybox\nRUN echo two >/two\n' >"$T_SCRATCH/ctx/Dockerfile"
check_status "build a two-layer image" 0 build -q -t "$R/lab/two:1" "$T_SCRATCH/ctx"
check_status "push it" 0 push "$R/lab/two:1"
out=$(NOOK_ROOT=$T_SCRATCH/store-tty timeout 60 script -qec "$NOOK pull $R/lab/two:1" /dev/null </dev/null 2>&1)
check_match "pull on a terminal: exit 0 and the reference last" "$R/lab/two:1" "$(tail -n 1 <<<"$out")"
check_match "... a line per layer, redrawn in place (cursor up, erase line)" $'\e\\[[0-9]+A\r\e\\[2K' "$out"
check_eq "... both layers complete" 2 "$(grep -o '[0-9a-f]\{12\}: Pull complete' <<<"$out" | sort -u | wc -l)"
in_store plain nrun pull "$R/lab/two:1"
check_eq "pull without a terminal: exit 0" 0 "$RC"
check_no_match "... no cursor movements" $'\e' "$OUT"
check_eq "... plain lines, a step each: both layers complete" 2 \
  "$(grep -c '^[0-9a-f]\{12\}: Pull complete$' <<<"$OUT")"
check_no_match "... no progress bars" '\[=*>? *\]' "$OUT"
done_testing
