#!/usr/bin/env bash
# t-build-cache.sh: the build cache (steps that write a fresh random value show whether
# they ran again), Docker's build-arg rule, --no-cache, `builder prune`, and
# reproducible image IDs across stores.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

c=$T_SCRATCH/cache
mkdir -p "$c"
cat >"$c/Dockerfile" <<'EOF'
FROM busybox
RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /r1
COPY input.txt /input.txt
RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /r2
ARG V=one
RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /r3
ENV FROM_ARG=$V
EOF
echo first >"$c/input.txt"

# randoms IMAGE: "r1 r2 r3" of the image
randoms() {
  nrun run --rm "$1" sh -c 'echo "$(cat /r1) $(cat /r2) $(cat /r3)"'
  echo "$OUT"
}

nrun build -q -t c1 "$c"
check_eq "first build" 0 "$RC"
id1=$OUT
r_a=$(randoms c1)
check_match "three random values" '^[0-9a-f]{32} [0-9a-f]{32} [0-9a-f]{32}$' "$r_a"

nrun build -t c1 "$c"
check_match "an unchanged rebuild shows CACHED" 'CACHED' "$ERR"
check_no_match "an unchanged rebuild runs nothing" '#[0-9]+ [0-9.]+ ' "$ERR"
check_match "the same image" "writing image $id1 done" "$ERR"
check_eq "no RUN ran again" "$r_a" "$(randoms c1)"

echo second >"$c/input.txt"
nrun build -q -t c2 "$c"
r_b=$(randoms c2)
read -r a1 a2 a3 <<<"$r_a"
read -r b1 b2 b3 <<<"$r_b"
check_eq "a changed file: steps before its COPY stay cached" "$a1" "$b1"
check_fail "a changed file: the RUN after its COPY runs again" test "$a2" = "$b2"
check_fail "... and so do later ones" test "$a3" = "$b3"
nrun run --rm c2 cat /input.txt
check_eq "the new content is copied" second "$OUT"

# touching a file without changing it does not miss (content, not mtime)
touch -d '2001-01-01' "$c/input.txt"
nrun build -q -t c2b "$c"
check_eq "a file with a new mtime but the same content: all cached" "$r_b" "$(randoms c2b)"

# Docker's build-arg rule: a changed ARG misses every RUN after its ARG, none before
nrun build -q --build-arg V=two -t c3 "$c"
r_c=$(randoms c3)
read -r c1_ c2_ c3_ <<<"$r_c"
check_eq "a changed build arg: RUN before its ARG cached" "$b1" "$c1_"
check_eq "... and the one before that" "$b2" "$c2_"
check_fail "a changed build arg: the RUN after its ARG runs again" test "$b3" = "$c3_"
nrun run --rm c3 sh -c 'echo $FROM_ARG'
check_eq "ENV from the ARG has the new value" two "$OUT"
nrun build -q --build-arg V=two -t c3b "$c"
check_eq "the same build arg again: cached" "$r_c" "$(randoms c3b)"

# --explain-cache names what changed
echo third >"$c/input.txt"
nrun build --explain-cache --build-arg V=three -t c3c "$c"
check_match "--explain-cache: the first RUN hit" 'cache hit: same inputs as the last build' "$ERR"
check_match "--explain-cache: the COPY missed, its file changed" 'cache miss: the files it copies changed' "$ERR"
check_match "--explain-cache: the RUN after it missed, its parent changed" 'cache miss: the step before it changed' "$ERR"
check_match "--explain-cache: the build arg is named" 'build arg V: two -> three' "$ERR"
echo second >"$c/input.txt"

# --no-cache runs everything
nrun build -q --no-cache -t c4 "$c"
r_d=$(randoms c4)
read -r d1 _ _ <<<"$r_d"
check_fail "--no-cache runs every step again" test "$b1" = "$d1"

# --no-cache-filter: only the stages named run again
m=$T_SCRATCH/filter
mkdir -p "$m"
cat >"$m/Dockerfile" <<'EOF'
FROM busybox AS one
RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /r1
FROM one AS two
RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /r2
EOF
nrun build -q -t f1 "$m"
nrun run --rm f1 sh -c 'echo "$(cat /r1) $(cat /r2)"'
read -r f1a f1b <<<"$OUT"
nrun build -q --no-cache-filter two -t f2 "$m"
nrun run --rm f2 sh -c 'echo "$(cat /r1) $(cat /r2)"'
read -r f2a f2b <<<"$OUT"
check_eq "--no-cache-filter two: stage one stays cached" "$f1a" "$f2a"
check_fail "--no-cache-filter two: stage two runs again" test "$f1b" = "$f2b"

# the cache survives nook's restarts (each build is a new process) and a new shell;
# `builder prune` empties it
nrun builder prune -f
check_eq "builder prune" 0 "$RC"
check_match "builder prune says what it removed" 'Deleted build cache objects: [1-9]' "$OUT"
nrun build -q -t c5 "$c"
r_e=$(randoms c5)
read -r e1 _ _ <<<"$r_e"
check_fail "after builder prune, steps run again" test "$d1" = "$e1"

# ---- reproducibility: two empty stores, the same image ID ----
r=$T_SCRATCH/repro
mkdir -p "$r/dir/sub"
cat >"$r/Dockerfile" <<'EOF'
FROM busybox
ARG X=1
ENV A=$X
WORKDIR /w
COPY dir /w/dir
COPY file.txt .
RUN mkdir -p /made && echo made > /made/file && ln -s /made/file /made/link && ln /made/file /made/hard && rm /bin/true
LABEL l=v
CMD ["cat", "/made/file"]
EOF
echo content >"$r/file.txt"
echo sub >"$r/dir/sub/s.txt"
chmod 600 "$r/dir/sub/s.txt"
nrun build -q "$r"
repro1=$OUT
store2=$T_SCRATCH/store2
NOOK_ROOT=$store2 "$NOOK" bootstrap busybox >/dev/null 2>&1
touch "$r/file.txt" "$r/dir/sub/s.txt"
repro2=$(NOOK_ROOT=$store2 "$NOOK" build -q "$r" 2>&1)
check_match "reproducible: an ID in the second store" '^sha256:[0-9a-f]{64}$' "$repro2"
nbase1=$("$NOOK" image inspect busybox | grep -m1 '"Id"')
nbase2=$(NOOK_ROOT=$store2 "$NOOK" image inspect busybox | grep -m1 '"Id"')
if [ "$nbase1" = "$nbase2" ]; then
  check_eq "reproducible: the same image ID in two empty stores" "$repro1" "$repro2"
else
  ok "# skip the bootstrap base differs between the stores"
fi
nrun build -q --no-cache "$r"
check_eq "reproducible: a cold rebuild in the same store gives the same ID" "$repro1" "$OUT"
# the same image ID for every kind of user (records of earlier users of this run)
if [ -n "${NOOK_TEST_SHARED:-}" ] && [ -d "$NOOK_TEST_SHARED" ]; then
  me=$(id -un)
  base=$(tr -d ' ",' <<<"$nbase1")
  compared=0
  for rec in "$NOOK_TEST_SHARED"/build-repro.*; do
    [ -f "$rec" ] && [ "$rec" != "$NOOK_TEST_SHARED/build-repro.$me" ] || continue
    read -r their_base their_id their_kind <"$rec"
    if [ "$their_base" != "$base" ]; then
      diag "not compared with ${rec##*.}: another busybox base"
      continue
    fi
    check_eq "reproducible: the same image ID as ${rec##*.} ($their_kind user)" "$their_id" "$repro1"
    compared=$((compared + 1))
  done
  echo "$base $repro1 $NOOK_TEST_USER_KIND" >"$NOOK_TEST_SHARED/build-repro.$me"
  [ "$compared" -gt 0 ] || diag "no earlier user's image to compare with: recorded for the next"
fi
nrun run --rm "$repro1" sh -c 'cat /made/link; stat -c %h /made/hard; test -e /bin/true || echo gone'
check_eq "symlink, hardlink and whiteout survive the layer" "made${NL}2${NL}gone" "$OUT"
nrun build --verify -t verified "$r"
check_eq "--verify of a reproducible build" 0 "$RC"
check_match "--verify says so" 'verify: identical: the build is reproducible' "$ERR"
nrun build --verify -t notverified "$c"
check_eq "--verify of a build writing random values: exit 1" 1 "$RC"
check_match "--verify names the differing files" 'verify: layer [0-9]+: /r1 differs' "$ERR"
nrun image inspect notverified
check_eq "--verify failing tags nothing" 1 "$RC"
SOURCE_DATE_EPOCH=1700000000 nrun build -q "$r"
check_fail "SOURCE_DATE_EPOCH changes the ID" test "$OUT" = "$repro1"
nrun image inspect "$OUT"
check_match "SOURCE_DATE_EPOCH is the image's created time" '"Created": "2023-11-14T22:13:20Z"' "$OUT"

# the context of a git checkout: its commit time
if command -v git >/dev/null 2>&1; then
  g=$T_SCRATCH/git
  mkdir -p "$g"
  cp "$r/Dockerfile" "$r/file.txt" "$g/"
  cp -r "$r/dir" "$g/"
  (cd "$g" && git init -q && git add -A &&
    GIT_COMMITTER_DATE='2020-02-02T00:00:00Z' GIT_AUTHOR_DATE='2020-02-02T00:00:00Z' \
      git -c user.name=t -c user.email=t@t commit -qm init) >/dev/null 2>&1
  nrun build -q "$g"
  nrun image inspect "$OUT"
  check_match "a git checkout: created is the commit time" '"Created": "2020-02-02T00:00:00Z"' "$OUT"
fi

done_testing
