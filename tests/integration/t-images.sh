#!/usr/bin/env bash
# t-images.sh: the image verbs around the store, as Docker's: tag, inspect (Docker's field
# names), history (table, -q, --no-trunc, json), images --digests and -f, the `image`
# management command, image prune [-a], system df, system check [--repair] (a corrupt blob
# found and removed), export of a container's filesystem (its changes and deletions).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
S=$T_SCRATCH
id=$("$NOOK" images -q --no-trunc busybox)

# ---- tag ----
check_status "tag busybox mylab/base:1.0" 0 tag busybox mylab/base:1.0
check_eq "the tag names the same image" "$id" "$("$NOOK" images -q --no-trunc mylab/base:1.0)"
check_status "tag with one argument (1)" 1 tag busybox
check_match "Docker's usage message" '"nook tag" requires exactly 2 arguments.' "$ERR"
check_status "tag of a missing image (1)" 1 tag nosuch x:1
check_eq "Docker's message" "Error: No such image: nosuch" "$ERR"
check_status "a tag that is not a reference (1)" 1 tag busybox 'Bad:Name!'

# ---- inspect ----
nrun inspect mylab/base:1.0
check_eq "inspect exits 0" 0 "$RC"
j=$(tr -d ' \n' <<<"$OUT")
check_match "a JSON array with Docker's field names, in Docker's order" \
  '^\[\{"Id":"sha256:[0-9a-f]{64}","RepoTags":\["busybox:latest","mylab/base:1.0"\],"RepoDigests":\[\],"Parent":"","Comment":"","Created":"[^"]+","DockerVersion":"","Author":"","Config":\{.*\},"Architecture":"[a-z0-9]+","Os":"linux","Size":[0-9]+,"RootFS":\{"Type":"layers","Layers":\["sha256:[0-9a-f]{64}"\]\},"Metadata":\{"LastTagTime":"[^"]+"\}\}\]$' "$j"
check_match "Id is the image ID" "\"Id\":\"$id\"" "$j"
check_match "Config carries the image's Cmd" '"Cmd":\["sh"\]' "$j"
check_status "image inspect works too" 0 image inspect busybox
nrun image inspect --format '{{.Id}} {{len .RootFS.Layers}} {{index .Config.Cmd 0}}' mylab/base:1.0
check_eq "image inspect --format: a Go template over each image" "0 $id 1 sh" "$RC $OUT"
nrun image inspect --format '{{.Nope' busybox
check_match "image inspect --format: a bad template is refused, naming it" \
  '^1 .*template' "$RC $ERR"
nrun image inspect -f '{{.Id}}' mylab/base:1.0 nosuch
check_eq "image inspect of a missing image: found ones printed, exit 1" "1 $id" "$RC $OUT"
check_eq "and says which" "Error: No such image: nosuch" "$ERR"
nrun inspect busybox nosuch
check_eq "inspect of a missing object exits 1" 1 "$RC"
check_eq "and says so" "Error: No such object: nosuch" "$ERR"
check_match "after printing what it found" '"Id"' "$OUT"

# ---- history ----
nrun history busybox
check_match "history: Docker's header" "^IMAGE +CREATED +CREATED BY +SIZE +COMMENT" "$OUT"
check_match "the top row is the image's short ID" "${NL}${id:7:12} " "$OUT"
nrun history -q --no-trunc busybox
check_eq "history -q --no-trunc: the full ID" "$id" "$OUT"
nrun history --format '{{.ID}}|{{.CreatedBy}}' busybox
check_eq "history --format: a Go template per layer" "0 ${id:7:12}|nook bootstrap busybox" "$RC $OUT"
nrun history --format 'table {{.ID}}' busybox
check_eq "history --format 'table ...': Docker's header, then the rows" "IMAGE${NL}${id:7:12}" "$OUT"
nrun history --format json busybox
check_match "history --format json: Docker's keys" \
  '^\{"Comment":"[^"]*","CreatedAt":"[^"]+","CreatedBy":"[^"]*","CreatedSince":"[^"]+","ID":"[0-9a-f]{12}","Size":"[^"]+"\}$' "$OUT"
check_status "image history works too" 0 image history busybox

# ---- images: --digests, filters; the image command ----
echo x >"$S/f"
tar -C "$S" -cf "$S/f.tar" f
"$NOOK" import "$S/f.tar" >/dev/null
nrun images --digests
check_match "--digests adds Docker's DIGEST column" "^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE" "$OUT"
nrun images -q -f dangling=true
check_eq "-f dangling=true: only the untagged import" 1 "$(grep -c . <<<"$OUT")"
nrun images -f 'reference=mylab/*'
check_match "-f reference=PATTERN" "mylab/base +1.0" "$OUT"
check_no_match "only what matches" "busybox" "$OUT"
check_status "an unknown filter (1)" 1 images -f nosuch=1
check_eq "Docker's message" "Error: invalid filter 'nosuch'" "$ERR"
nrun image ls
check_match "image ls = images" "^REPOSITORY +TAG +IMAGE ID" "$OUT"
check_status "image rm = rmi" 0 image rm mylab/base:1.0
check_status "image with an unknown subcommand (1)" 1 image frobnicate

# ---- prune ----
NRUN_STDIN=/dev/null nrun image prune
check_match "prune asks first and does nothing without a yes" "Are you sure you want to continue" "$OUT"
check_eq "the dangling image is still there" 1 "$("$NOOK" images -q -f dangling=true | grep -c .)"
nrun image prune -f
check_match "image prune -f removes dangling images" "Deleted Images:${NL}deleted: sha256:[0-9a-f]{64}" "$OUT"
check_match "and says what it freed" "Total reclaimed space: [0-9.]+k?B" "$OUT"
check_eq "none left" "" "$("$NOOK" images -q -f dangling=true)"
check_eq "tagged images stay" "$id" "$("$NOOK" images -q --no-trunc busybox)"
"$NOOK" bootstrap busybox unused:1 >/dev/null
"$NOOK" import "$S/f.tar" other:1 >/dev/null
check_status "a stopped container of busybox" 0 run --pull never --name keep busybox true
nrun image prune -a -f
check_match "prune -a removes unused tagged images" "untagged: other:1" "$OUT"
check_eq "but not one a container uses" "$id" "$("$NOOK" images -q --no-trunc busybox)"

# ---- system df ----
nrun system df
check_match "system df: Docker's table" "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE${NL}Images +1 +1 " "$OUT"
check_match "containers" "${NL}Containers +1 +0 " "$OUT"
check_match "unpacked layers" "${NL}Unpacked layers +1 +1 " "$OUT"

# ---- export ----
check_status "a container that changes its root" 0 run --pull never --name ch busybox sh -c \
  'echo hi >/hello; rm /bin/ls; mkdir -p /x/y'
nrun export -o "$S/fs.tar" ch
check_eq "export -o exits 0" 0 "$RC"
names=$(tar tf "$S/fs.tar")
check_match "the container's new file is in it" "(^|$NL)hello($NL|$)" "$names"
check_match "and its new directory" "(^|$NL)x/y/($NL|$)" "$names"
check_no_match "the file it deleted is not" "(^|$NL)bin/ls($NL|$)" "$names"
check_match "the image's files are" "(^|$NL)bin/busybox($NL|$)" "$names"
check_eq "content" hi "$(tar xOf "$S/fs.tar" hello)"
check_eq "export to stdout gives the same tar" "$(sha256sum <"$S/fs.tar")" "$("$NOOK" export ch | sha256sum)"
check_match "the image's /etc/passwd is in it" "(^|$NL)etc/passwd($NL|$)" "$names"
check_match "and its /usr/bin/env" "(^|$NL)usr/bin/env($NL|$)" "$names"
check_status "a container that replaces /usr by a new directory" 0 run --pull never --name op busybox \
  sh -c 'rm -rf /usr && mkdir /usr && echo n >/usr/new'
names=$("$NOOK" export op | tar tf -)
check_match "export: the new directory's file" "(^|$NL)usr/new($NL|$)" "$names"
check_no_match "and nothing of the image's /usr (an opaque directory)" "(^|$NL)usr/bin" "$names"
for drv in fuse-overlayfs copy-up; do
  nrun --storage-driver "$drv" run --pull never --name "op-$drv" busybox \
    sh -c 'rm -rf /usr /bin/ls && mkdir /usr && echo n >/usr/new'
  if [ "$RC" != 0 ] && [ "$drv" = fuse-overlayfs ] && grep -qi fuse <<<"$ERR"; then
    ok "export with $drv # SKIP $drv does not run here: $ERR"
    continue
  fi
  check_eq "a container on $drv" 0 "$RC"
  names=$("$NOOK" export "op-$drv" | tar tf -)
  check_eq "export of the $drv container: its new file, not the image's /usr nor /bin/ls" \
    "usr/new" "$(grep -E '^(usr/|bin/ls$)' <<<"$names" | grep -v '^usr/$' | tr '\n' ' ' | sed 's/ $//')"
done
check_status "export of a missing container (1)" 1 export -o "$S/x.tar" nosuch
check_match "names it" "No such container: nosuch" "$ERR"

# ---- import of xz and zstd tarballs: stored decompressed, the diff ID the tar's ----
plain=$(sha256sum <"$S/f.tar" | cut -d' ' -f1)
for z in xz zstd; do
  "$z" -c <"$S/f.tar" >"$S/f.tar.$z"
  check_status "import of a $z tarball" 0 import "$S/f.tar.$z" "imp:$z"
  check_match "its diff ID is the uncompressed tar's" "\"Layers\":\[\"sha256:$plain\"\]" \
    "$("$NOOK" inspect "imp:$z" | tr -d ' \n')"
  check_match "its file is readable in a container" "read=ok.bytes=2" \
    "$("$NOOK" run --rm --pull never -v "$(probe_vol)" "imp:$z" /probe read /f | tr '\n' .)"
done

# ---- system check ----
nrun system check
check_eq "system check of a sound store exits 0" 0 "$RC"
check_match "and says so" " 0 problems" "$OUT"
blob=$(find "$NOOK_ROOT/blobs/sha256" -type f -size +100k | head -n 1)
chmod u+w "$blob"
printf 'x' >>"$blob"
nrun system check
check_eq "a corrupt blob: exit 1" 1 "$RC"
check_match "names the blob and its real digest" \
  "problem: blob sha256:${blob##*/} is corrupt: its content has digest sha256:[0-9a-f]{64}" "$OUT"
check_match "and the image it breaks" "problem: image busybox:latest .*its layer sha256:${blob##*/} is corrupt" "$OUT"
nrun system check --repair
check_eq "--repair exits 0" 0 "$RC"
check_match "and says what it removed" "repaired: removed the corrupt blob sha256:${blob##*/}" "$OUT"
nrun system check
check_eq "the store is sound again" "0 0 problems" "$RC $(grep -o '0 problems' <<<"$OUT")"
done_testing
