# tests/bench/bench_ports.sh: sourced by bench.sh (inner part, as the unprivileged user):
# published-port throughput. busybox httpd serves a small page and a 100 MiB file from
# nook (-p, default network), podman (-p, its default: slirp4netns + rootlessport) and the
# host itself (no container); wrk measures small requests (busybox httpd closes each
# connection, so every request is a new connection through the forwarder), curl the bulk
# download. Each round takes the three in a new random order; medians are printed with the
# ratios and the targets (>= 2x podman, >= 80% of the host).
# Uses from bench.sh: $nook, $image, $work, P (podman's command), tools, quiet, shuffle.
# shellcheck shell=bash disable=SC2154
bench_rounds=${BENCH_PORT_ROUNDS:-5}
www=$work/www
mkdir -p "$www"
head -c 512 /dev/zero | tr '\0' x >"$www/index.html"
head -c $((100 << 20)) /dev/zero >"$www/big"
chmod -R a+rX "$www"

bench_free_port() {
  python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

answers() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; }
wait_port() {
  local i
  for i in $(seq 200); do answers "$1" && return 0; sleep 0.05; done
  return 1
}

targets=()
pids=()
np=$(bench_free_port)
"$nook" run --rm -p "$np:80" -v "$www:/www:ro" "$image" /bin/busybox httpd -f -p 80 -h /www \
  >"$work/nookhttpd.log" 2>&1 &
pids+=($!)
if wait_port "$np"; then targets+=("nook:$np"); else echo "bench: nook -p did not answer"; fi
hp=$(bench_free_port)
# (in a session of its own, as a daemon and as nook's and podman's containers are: with the
# scheduler's autogroups, one a session, a host server in wrk's own session shared wrk's
# group, and on a busy machine got several times the CPU the containers' servers got)
setsid busybox httpd -f -p "127.0.0.1:$hp" -h "$www" >"$work/hosthttpd.log" 2>&1 &
pids+=($!)
if wait_port "$hp"; then targets+=("host:$hp"); else echo "bench: the host's busybox httpd did not answer"; fi
pp=
if [[ " ${tools[*]} " == *" podmannet "* ]]; then
  pp=$(bench_free_port)
  if "${P[@]}" run -d --name nookbenchweb -p "$pp:80" -v "$www:/www:ro" benchbox /bin/busybox \
    httpd -f -p 80 -h /www >"$work/podmanhttpd.log" 2>&1 && wait_port "$pp"; then
    targets+=("podman:$pp")
  else
    echo "bench: podman -p did not answer: $(tail -n 2 "$work/podmanhttpd.log")"
  fi
fi

if [ ${#targets[@]} -gt 0 ]; then
  echo
  echo "bench: published port, $bench_rounds rounds (each in a new random order) of wrk -t2 -c16 -d3s and a 100 MiB download: ${targets[*]%%:*}"
  # (the host server's connection uses it; nook's two hops use reno when it paces: bbr)
  echo "bench: the host's default TCP congestion control: $(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null)"
  for t in "${targets[@]}"; do : >"$work/rps.${t%%:*}"; : >"$work/mibs.${t%%:*}"; done
  # (each round in a new random order, each measurement from a quiet machine: see
  # bench.sh's start-up rounds; with a rotation nook's round always came after
  # podman's 100 MiB download through slirp4netns)
  for ((i = 0; i < bench_rounds; i++)); do
    shuffle "${targets[@]}"
    for t in "${order[@]}"; do
      name=${t%%:*} port=${t#*:}
      quiet
      { wrk -t2 -c16 -d3s "http://127.0.0.1:$port/" 2>/dev/null || true; } |
        awk '/^Requests\/sec:/ { print $2 }' >>"$work/rps.$name"
      quiet
      { curl -fsS --max-time 120 -o /dev/null -w '%{speed_download}\n' "http://127.0.0.1:$port/big" 2>/dev/null || true; } |
        awk '{ printf "%.1f\n", $1 / 1048576 }' >>"$work/mibs.$name"
    done
  done
  median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  declare -A rps mibs
  printf '%-8s %12s %10s\n' target requests/s MiB/s
  for t in "${targets[@]}"; do
    name=${t%%:*}
    rps[$name]=$(median "$work/rps.$name")
    mibs[$name]=$(median "$work/mibs.$name")
    printf '%-8s %12.0f %10.1f\n' "$name" "${rps[$name]}" "${mibs[$name]}"
  done
  if [ -n "${rps[nook]:-}" ] && [ -n "${rps[host]:-}" ]; then
    awk -v n="${rps[nook]}" -v h="${rps[host]}" -v nm="${mibs[nook]}" -v hm="${mibs[host]}" 'BEGIN {
      printf "nook/host   requests/s = %.0f%%, MiB/s = %.0f%% (target: >= 80%%)\n", 100 * n / h, 100 * nm / hm }'
  fi
  if [ -n "${rps[nook]:-}" ] && [ -n "${rps[podman]:-}" ]; then
    awk -v n="${rps[nook]}" -v p="${rps[podman]}" -v nm="${mibs[nook]}" -v pm="${mibs[podman]}" 'BEGIN {
      printf "nook/podman requests/s = %.2fx, MiB/s = %.2fx (target: >= 2x)\n", n / p, (pm > 0 ? nm / pm : 0) }'
  fi
fi
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
[ -z "$pp" ] || "${P[@]}" rm -f nookbenchweb >/dev/null 2>&1 || true
