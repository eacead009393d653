# tests/integration/reglib.sh: sourced (after lib.sh) by the registry tests: Debian's
# docker-registry started on 127.0.0.1 (ports found free by binding, servers polled until
# they answer, ended by PID at exit), and a nook with a store of its own.
#
#   reg_setup NAME [TOOL...]     the usual start: skip without docker-registry, python3 or a
#                                TOOL; the busybox image; registry NAME at $R; the config
#                                (REGISTRY_AUTH_FILE, XDG_CONFIG_HOME, DOCKER_CONFIG) in scratch
#   reg_setup_basic NAME [TOOL...]  the same behind basic auth: user student, password s3cret
#   start_registry NAME [HTPASSWD [TLSDIR]]  one more registry; its port in REG_PORT
#   fake_cred_helper SERVER      docker-credential-nooktest on PATH: answers student/s3cret
#                                for SERVER only ("credentials not found" for any other),
#                                logs each server asked in $T_SCRATCH/helper.log
#   in_store NAME CMD...         CMD with a store of its own ($T_SCRATCH/store-NAME)
# shellcheck shell=bash
HERE=$(cd "$(dirname "$0")" && pwd)
helper() { python3 "$HERE/registry_helper.py" "$@"; }
SERVER_PIDS=()
reg_cleanup() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'reg_cleanup; _lib_cleanup' EXIT

# Ports below the ephemeral range, spread by uid so concurrent users rarely meet.
NEXT_PORT=$((20000 + ($(id -u) % 200) * 40))
free_port() {
  local p
  p=$(helper port "$NEXT_PORT") || return 1
  NEXT_PORT=$((p + 1))
  echo "$p"
}

# own_listener PORT PID: PID is what listens on 127.0.0.1:PORT (asked once it answers).
own_listener() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -q "pid=$2,"
}

# start_registry NAME [HTPASSWD [TLSDIR]]: a docker-registry in $T_SCRATCH/NAME (basic auth
# with HTPASSWD, HTTPS with TLSDIR/srv.crt and srv.key); sets REG_PORT.
start_registry() {
  local name=$1 htp=${2:-} tls=${3:-} dir=$T_SCRATCH/$1 pid
  mkdir -p "$dir/data"
  for _ in 1 2 3 4 5; do
    REG_PORT=$(free_port) || return 1
    {
      printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
      printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/data"
      printf 'http:\n  addr: 127.0.0.1:%s\n  secret: nook-test\n' "$REG_PORT"
      [ -z "$tls" ] || printf '  tls:\n    certificate: %s\n    key: %s\n' "$tls/srv.crt" "$tls/srv.key"
      [ -z "$htp" ] || printf 'auth:\n  htpasswd:\n    realm: nook-test\n    path: %s\n' "$htp"
    } >"$dir/config.yml"
    # (docker-registry reads REGISTRY_* variables as configuration: none of ours)
    env -u REGISTRY_AUTH_FILE docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    pid=$!
    SERVER_PIDS+=("$pid")
    # ready when it answers and the listener is its own (a port taken meanwhile, by the
    # other test user's server say, makes it exit, while the other answers): else the next
    if helper wait "$REG_PORT" 20 && own_listener "$REG_PORT" "$pid"; then
      return 0
    fi
    kill "$pid" 2>/dev/null
  done
  fail "docker-registry $name starts" "$(cat "$dir/log")"
  return 1
}

# A nook with its own store (and otherwise the same environment).
in_store() { NOOK_ROOT=$T_SCRATCH/store-$1 "${@:2}"; }

# reg_setup NAME [TOOL...]: see the head of this file.
reg_setup() {
  local name=$1 t
  shift
  for t in docker-registry python3 "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip_all "$t is not installed (ci/deps.sh installs it)"
  done
  setup_image
  start_registry "$name" ${REG_HTPASSWD:+"$REG_HTPASSWD"} || done_testing
  # shellcheck disable=SC2034 # used by the test files
  R=127.0.0.1:$REG_PORT
  export REGISTRY_AUTH_FILE=$T_SCRATCH/auth.json XDG_CONFIG_HOME=$T_SCRATCH/xdg
  export DOCKER_CONFIG=$T_SCRATCH/docker
}

# reg_setup_basic NAME [TOOL...]: reg_setup behind basic auth (htpasswd -B, student:s3cret).
reg_setup_basic() {
  command -v htpasswd >/dev/null 2>&1 || skip_all "htpasswd is not installed (ci/deps.sh installs it)"
  htpasswd -Bbc "$T_SCRATCH/htpasswd" student s3cret >/dev/null 2>&1
  REG_HTPASSWD=$T_SCRATCH/htpasswd reg_setup "$@"
}

# fake_cred_helper SERVER: see the head of this file; called again, it answers for another.
fake_cred_helper() {
  mkdir -p "$T_SCRATCH/bin"
  cat >"$T_SCRATCH/bin/docker-credential-nooktest" <<SH
#!/bin/sh
# a fake credential helper: logs what it was asked, answers for $1 only
[ "\$1" = get ] || exit 1
read -r server || true
echo "\$server" >>"$T_SCRATCH/helper.log"
if [ "\$server" = "$1" ]; then
  printf '{"ServerURL":"%s","Username":"student","Secret":"s3cret"}\n' "\$server"
else
  echo "credentials not found in native keychain"
  exit 1
fi
SH
  chmod 755 "$T_SCRATCH/bin/docker-credential-nooktest"
  case ":$PATH:" in *":$T_SCRATCH/bin:"*) ;; *) export PATH=$T_SCRATCH/bin:$PATH ;; esac
}
