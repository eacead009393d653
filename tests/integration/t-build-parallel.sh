#!/usr/bin/env bash
# t-build-parallel.sh: independent stages run at the same time (issue 17, as BuildKit):
# stage a's RUN waits for a connection that only stage b's RUN makes (--network host, a
# port on 127.0.0.1), so a build running its stages one after the other never ends (it
# is stopped after a deadline and fails); the final stage copies from both; the result is
# the same image as with --explain-cache (stages one after the other there) from a warm
# cache; a failing stage stops the build with its error and leaves no image.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

# Stage a listens on P until stage b's word arrives, and answers "ack" only once it has
# read and kept that word; b sends until it hears that answer. (An answer sent at accept,
# before reading, let b end on "ack" and EOF before its own word was written, an `echo`
# slow under load: a then listened for ever.) A stray connection to P (another suite's
# client) neither ends a with an empty /got nor lets b end before a has its word (a
# connection b made while a's listener was closing gets no answer: b tries again); the
# test runs such a stray client.
# P comes from free_port (a probe): taken meanwhile, a exits 8 and the build is tried
# again with another port.
ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
write_dockerfile() {
  cat >"$ctx/Dockerfile" <<EOF
FROM busybox AS a
RUN until nc -l -p $1 -e sh -c 'read -r w && [ "\$w" = from-b ] && echo "\$w" >/got && echo ack' 2>/tmp/nc.err; [ -s /got ]; do ! grep -q 'in use' /tmp/nc.err || exit 8; done; echo a-done >/a
FROM busybox AS b
RUN i=0; until [ "\$(echo from-b | nc 127.0.0.1 $1)" = ack ]; do i=\$((i+1)); [ \$i -lt 600 ] || exit 9; sleep 0.1; done; echo b-done >/b
FROM busybox
COPY --from=a /a /got /
COPY --from=b /b /
CMD ["cat", "/a", "/b", "/got"]
EOF
}

# a stray client all along: connects to P and closes, again and again (ended by its PID)
stray() {
  python3 - "$1" <<'PY' &
import socket, sys, time
end = time.monotonic() + 150
while time.monotonic() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
    except OSError:
        pass
    time.sleep(0.01)
PY
  stray_pid=$!
}

for attempt in 1 2 3; do
  port=$(free_port tcp)
  write_dockerfile "$port"
  stray "$port"
  NOOK_RUN_TIMEOUT=120 nrun build --network host -t par "$ctx"
  kill "$stray_pid"
  wait "$stray_pid" 2>/dev/null
  grep -q 'exit code: 8' <<<"$ERR" || break
  diag "attempt $attempt: the port was taken before stage a listened: another port"
done
check_eq "the build of two stages that need each other to run at once succeeds" 0 "$RC"
[ "$RC" = 0 ] || diag "$(tail -n 30 <<<"$ERR")"
log=$ERR
check_match "both stages' RUN steps are in the output" "\[a 2/2\] RUN until nc -l -p" "$log"
check_match "(b's too)" "\[b 2/2\] RUN i=0" "$log"
n=$(grep -cE '^#[0-9]+ \[' <<<"$log")
u=$(grep -oE '^#[0-9]+ \[' <<<"$log" | sort -u | wc -l)
check_eq "every step has its own #N" "$n" "$u"
id1=$(grep -oE 'writing image sha256:[0-9a-f]{64}' <<<"$log")
nrun run --rm par
check_eq "the final stage has both stages' files" "a-done${NL}b-done${NL}from-b" "$OUT"

# the same, stages one after the other (--explain-cache), every step from the cache
nrun build --network host --explain-cache -t par2 "$ctx"
check_eq "--explain-cache (stages in turn) from the cache succeeds" 0 "$RC"
check_eq "the same image" "${id1:-(the first build wrote none)}" "$(grep -oE 'writing image sha256:[0-9a-f]{64}' <<<"$ERR")"

# a failing stage: the build fails with its error, nothing tagged
cat >"$ctx/Dockerfile" <<'EOF'
FROM busybox AS a
RUN echo fine >/a
FROM busybox AS b
RUN echo broken; exit 7
FROM busybox
COPY --from=a /a /
COPY --from=b /a /
EOF
nrun build -t parfail "$ctx"
check_eq "a failing stage fails the build (exit 1)" 1 "$RC"
check_match "with its step and exit code" "\[b 2/2\] RUN echo broken; exit 7.*exit code: 7" "$(tr '\n' ' ' <<<"$ERR")"
nrun images -q parfail
check_eq "nothing tagged" "" "$OUT"
done_testing
