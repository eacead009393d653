#!/usr/bin/env bash
# t-build-git.sh: ADD of a git repository (issue 17, BuildKit's rules), from a bare repo
# served over git's dumb http protocol on the host's loopback: the default branch's tree
# (no .git), a branch, a tag, a commit and a subdirectory (#ref:subdir), --keep-git-dir,
# --checksum against the commit; a new commit on the branch misses the cache, the same
# commit hits; an unknown ref and ssh are refused clearly.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"
command -v git >/dev/null || skip_all "git is not installed (ci/deps.sh installs it)"
setup_image

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
work=$T_SCRATCH/work
srv=$T_SCRATCH/srv
git init -q -b main "$work"
mkdir -p "$work/sub/deep"
echo one >"$work/a.txt"
echo s >"$work/sub/s.txt"
echo d >"$work/sub/deep/d.txt"
printf '#!/bin/sh\necho run\n' >"$work/run.sh"
chmod 0755 "$work/run.sh"
git -C "$work" add -A
git -C "$work" commit -qm first
git -C "$work" tag v1
c1=$(git -C "$work" rev-parse HEAD)
git -C "$work" checkout -qb other
echo other >"$work/a.txt"
git -C "$work" commit -qam second
git -C "$work" checkout -q main
mkdir -p "$srv"
publish() {
  rm -rf "$srv/repo.git"
  git clone -q --bare "$work" "$srv/repo.git"
  git -C "$srv/repo.git" update-server-info
}
publish

HP=$(free_port tcp)
python3 -m http.server "$HP" --bind 127.0.0.1 --directory "$srv" >/dev/null 2>&1 &
hpid=$!
ls_ok() { git ls-remote "http://127.0.0.1:$HP/repo.git" >/dev/null 2>&1; }
wait_until "the test's HTTP server serves the repository" 20 ls_ok || {
  done_testing
}
R=http://127.0.0.1:$HP/repo.git
ctx=$T_SCRATCH/ctx
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<DF
FROM busybox
ADD $R#v1:sub /sub/
ADD $R /src/
ADD $R#other /other/
ADD $R#$c1 /c1
ADD --keep-git-dir=true $R#main /kept/
ADD --checksum=$c1 $R#v1 /sum/
RUN head -c 16 /dev/urandom | od -An -tx1 >/random
DF
nrun build --progress=plain -t gitb "$ctx"
check_eq "the build succeeds" 0 "$RC"
nrun run --rm gitb sh -c 'cat /src/a.txt /other/a.txt /sub/s.txt /sub/deep/d.txt /c1/a.txt; stat -c "%a %u:%g" /src/run.sh; ls -A /src; test -d /kept/.git && echo kept; test -e /sub/a.txt || echo sub-only'
check_eq "the trees of the default branch, a branch, a tag's subdirectory, a commit; .git kept only when asked" \
  "one${NL}other${NL}s${NL}d${NL}one${NL}755 0:0${NL}a.txt${NL}run.sh${NL}sub${NL}kept${NL}sub-only" "$OUT"
nrun run --rm gitb cat /random
r1=$OUT

nrun build --progress=plain -t gitb "$ctx"
check_eq "a rebuild succeeds" 0 "$RC"
check_match "the same commits: every step CACHED" "#[0-9]+ \[8/8\] RUN [^$NL]*${NL}#[0-9]+ CACHED" "$ERR"

echo two >"$work/a.txt"
git -C "$work" commit -qam third
publish
nrun build --progress=plain -t gitb "$ctx"
check_eq "a build after a new commit on main succeeds" 0 "$RC"
check_no_match "ADD of main misses (its commit changed)" \
  "#[0-9]+ \[3/8\] ADD $R /src/${NL}#[0-9]+ CACHED" "$ERR"
check_match "ADD of the tag (before it) still hits" "#[0-9]+ \[2/8\] ADD $R#v1:sub /sub/${NL}#[0-9]+ CACHED" "$ERR"
nrun run --rm gitb sh -c 'cat /src/a.txt; cat /random'
check_eq "the new commit's file" two "$(head -n1 <<<"$OUT")"
check "the steps after it ran again" test "$(tail -n1 <<<"$OUT")" != "$r1"

printf 'FROM busybox\nADD --checksum=%040d %s /x/\n' 0 "$R" >"$ctx/Dockerfile"
nrun build -q "$ctx"
check_eq "--checksum of another commit: exit 1" 1 "$RC"
check_match "naming the commit" "is commit [0-9a-f]{40}, --checksum wants" "$ERR"
printf 'FROM busybox\nADD %s#nosuch /x/\n' "$R" >"$ctx/Dockerfile"
nrun build -q "$ctx"
check_eq "an unknown ref: exit 1" 1 "$RC"
check_match "naming it" "has no ref 'nosuch'" "$ERR"
printf 'FROM busybox\nADD git@127.0.0.1:repo.git /x/\n' >"$ctx/Dockerfile"
nrun build -q "$ctx"
check_match "git over ssh: refused, saying why" "ssh is not supported" "$ERR"
kill "$hpid" 2>/dev/null
wait "$hpid" 2>/dev/null
done_testing
