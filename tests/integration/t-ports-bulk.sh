#!/usr/bin/env bash
# t-ports-bulk.sh: bulk transfers through a published port arrive byte-exact, both ways: a
# 48 MiB file of random bytes downloaded from busybox httpd in the container (the
# forwarder's splices, its pipes grown for bulk, the hops' congestion control) and the same
# file posted to a CGI inside that answers its SHA-256; on the default network, under
# slirp4netns and on a user-defined network. The forwarder may set the container's default
# TCP congestion control (one that paces, bbr, becomes reno): a --sysctl of the user's for
# it stays as given (a CGI inside reads it once the port answers, i.e. once the forwarder
# is past its setup; on a host whose default does not pace the forwarder sets nothing).
# A foreground `nook run` runs in the background of this script; the port is polled until
# it answers (deadline, fails loudly); nook is ended by its pid.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

W=$T_SCRATCH/www
mkdir -p "$W/cgi-bin"
echo ready >"$W/index.html"
head -c $((48 << 20)) /dev/urandom >"$W/big"
want=$(sha256sum <"$W/big" | cut -d' ' -f1)
# (busybox httpd gives a CGI the request's body on stdin, CONTENT_LENGTH bytes)
cat >"$W/cgi-bin/sum" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
head -c "$CONTENT_LENGTH" | sha256sum | cut -d' ' -f1
EOF
cat >"$W/cgi-bin/cc" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
cat /proc/sys/net/ipv4/tcp_congestion_control
EOF
chmod -R a+rX "$W"
chmod a+x "$W/cgi-bin/sum" "$W/cgi-bin/cc"
BG=0

answers() { curl -fsS --max-time 10 -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; }

# serve DESC RUN-FLAGS...: busybox httpd on /www in `nook run --rm RUN-FLAGS... -p P:80`
# in the background (BG: nook's pid), a free port P; fails DESC when it does not answer.
serve() {
  local desc=$1
  shift
  P=$(free_port tcp)
  "$NOOK" run --rm "$@" -p "$P:80" -v "$W:/www:ro" busybox httpd -f -p 80 -h /www \
    >"$T_SCRATCH/bg.out" 2>"$T_SCRATCH/bg.err" </dev/null &
  BG=$!
  wait_until "$desc -p $P:80: the server answers" 30 answers "$P" && return 0
  diag "$(cat "$T_SCRATCH/bg.err")"
  return 1
}

# unserve DESC: SIGTERM to nook, which must end (30 s).
unserve() {
  kill -TERM "$BG" 2>/dev/null
  if ! poll 30 pid_ended "$BG"; then
    kill -KILL "$BG" 2>/dev/null
    fail "$1: nook ends on SIGTERM" "still running after 30 s"
  fi
  wait "$BG" 2>/dev/null
}

net=bulk-$$
nrun network create "$net"
check_eq "network create $net" 0 "$RC"

for n in bridge slirp4netns "$net"; do
  if serve "--network $n" --network "$n"; then
    rm -f "$T_SCRATCH/got"
    curl -fsS --max-time 300 -o "$T_SCRATCH/got" "http://127.0.0.1:$P/big" 2>"$T_SCRATCH/curl.err"
    check_eq "--network $n: 48 MiB downloaded through the published port" $((48 << 20)) \
      "$(stat -c %s "$T_SCRATCH/got" 2>/dev/null)"
    check_eq "--network $n: ... byte for byte" "$want" "$(sha256sum <"$T_SCRATCH/got" | cut -d' ' -f1)"
    got=$(curl -fsS --max-time 300 --data-binary "@$W/big" -H 'Content-Type: application/octet-stream' \
      "http://127.0.0.1:$P/cgi-bin/sum" 2>"$T_SCRATCH/curl.err" | tr -d '\r\n')
    check_eq "--network $n: 48 MiB uploaded through the published port, byte for byte" "$want" "$got" \
      || diag "$(cat "$T_SCRATCH/curl.err")"
  fi
  unserve "--network $n"
done

nrun network rm "$net"
check_eq "network rm $net" 0 "$RC"

# --- the user's --sysctl net.ipv4.tcp_congestion_control stays ----------------------------
host_cc=$(cat /proc/sys/net/ipv4/tcp_congestion_control)
for form in net.ipv4.tcp_congestion_control net/ipv4/tcp_congestion_control; do
  if serve "--sysctl $form=$host_cc" --sysctl "$form=$host_cc"; then
    check_eq "--sysctl $form=$host_cc with -p: the container's default stays $host_cc" "$host_cc" \
      "$(curl -fsS --max-time 30 "http://127.0.0.1:$P/cgi-bin/cc" 2>&1 | tr -d '\r')"
  fi
  unserve "--sysctl $form"
done
done_testing
