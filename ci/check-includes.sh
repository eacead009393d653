#!/usr/bin/env bash
# ci/check-includes.sh: two greps that keep the design's rules true (`make check-includes`,
# part of `make lint`). Prints file:line for each violation and exits 1 if there is any.
#
# 1. Include direction: cmd -> {sandbox, imagefmt, net} -> util.
#    sandbox/ may include sandbox/ and util/ headers; imagefmt/ imagefmt/ and util/; net/ net/
#    and util/; util/ only util/. cmd/ and its module folders (cmd/build/) may include anything. An include without a directory
#    ("internal.h") is the file's own folder. System headers (<...>) are not checked.
# 2. CLOEXEC, in the C files of cmd/ sandbox/ imagefmt/ net/ util/ (not tests/):
#    - open( / openat( need O_CLOEXEC in the same statement (the text up to the next ';');
#    - fopen( with a literal mode needs "e" in the mode ("re", "we");
#    - socket( / socketpair( need SOCK_CLOEXEC; accept( must be accept4(..., SOCK_CLOEXEC);
#    - pipe( is refused (use pipe2 with O_CLOEXEC); pipe2( needs O_CLOEXEC;
#    - dup( is refused (use fcntl F_DUPFD_CLOEXEC; dup2/dup3 onto chosen fds are allowed).
#    Opt out for one statement with the comment /* cloexec: ok */ on the line of the call
#    (e.g. an O_PATH fd deliberately passed to a child); say why next to it.
#    Lines that are comments (starting with /*, * or //) are ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
report() {
  echo "$1"
  status=1
}

# ---- 1. include direction -------------------------------------------------------------------
allowed_for() {
  case $1 in
    sandbox) echo "sandbox util" ;;
    imagefmt) echo "imagefmt util" ;;
    net) echo "net util" ;;
    util) echo "util" ;;
    *) echo "*" ;;
  esac
}
while IFS= read -r f; do
  top=${f%%/*}
  allowed=$(allowed_for "$top")
  [ "$allowed" = "*" ] && continue
  while IFS=: read -r line inc; do
    case $inc in */*) ;; *) continue ;; esac # same folder
    dir=${inc%%/*}
    case " $allowed " in
      *" $dir "*) ;;
      *) report "$f:$line: $top/ must not include \"$inc\" (allowed: ${allowed// /, })" ;;
    esac
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
    sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
done < <(find sandbox imagefmt net util -name '*.[ch]' 2>/dev/null | sort)

# ---- 2. CLOEXEC -----------------------------------------------------------------------------
mapfile -t cfiles < <(find cmd sandbox imagefmt net util -name '*.[ch]' 2>/dev/null | sort)
# shellcheck disable=SC2016 # awk program
cloexec_awk='
  { L[NR] = $0 }
  function stmt(i,   s, j) {   # line i and the following ones up to the first ";"
    s = L[i]
    for (j = i + 1; index(s, ";") == 0 && j <= NR && j < i + 8; j++) s = s " " L[j]
    return s
  }
  function call(code, name) {
    return code ~ ("(^|[^A-Za-z0-9_>.])" name "[[:space:]]*\\(")
  }
  END {
    for (i = 1; i <= NR; i++) {
      line = L[i]
      if (line ~ /^[[:space:]]*(\/\*|\*|\/\/)/ || line ~ /cloexec: ok/) continue
      code = line
      gsub(/"([^"\\]|\\.)*"/, "\"\"", code)   # string contents are not code
      where = FILENAME ":" i ": "
      if (call(code, "fopen") && match(line, /fopen[[:space:]]*\([^;]*,[[:space:]]*"[^"]*"/)) {
        mode = substr(line, RSTART, RLENGTH)
        sub(/^.*,[[:space:]]*"/, "", mode); sub(/"$/, "", mode)
        if (mode !~ /e/) print where "fopen mode \"" mode "\" lacks \"e\" (O_CLOEXEC)"
      }
      if ((call(code, "open") || call(code, "openat")) && stmt(i) !~ /O_CLOEXEC/)
        print where "open/openat without O_CLOEXEC"
      if ((call(code, "socket") || call(code, "socketpair")) && stmt(i) !~ /SOCK_CLOEXEC/)
        print where "socket without SOCK_CLOEXEC"
      if (call(code, "accept")) print where "accept: use accept4 with SOCK_CLOEXEC"
      if (call(code, "pipe")) print where "pipe: use pipe2 with O_CLOEXEC"
      if (call(code, "pipe2") && stmt(i) !~ /O_CLOEXEC/) print where "pipe2 without O_CLOEXEC"
      if (call(code, "dup")) print where "dup: use fcntl F_DUPFD_CLOEXEC"
    }
  }'
for f in "${cfiles[@]}"; do
  out=$(awk "$cloexec_awk" "$f")
  if [ -n "$out" ]; then
    echo "$out"
    status=1
  fi
done

if [ "$status" = 0 ]; then
  echo "check-includes: include directions and CLOEXEC ok (${#cfiles[@]} files)"
fi
exit "$status"
