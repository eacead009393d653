#!/usr/bin/env bash
# t-compose-config.sh: `nook compose config` (and version, and the subcommands still to
# come) as the unprivileged user: discovery from a subdirectory with the override file,
# .env under the environment, profiles, interpolation, the canonical model in YAML and
# JSON, the list flags, schema errors with file:line:col, warnings for keys nook cannot
# honour and --strict, the docker-compose name. Needs no image and no namespace.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

P=$T_SCRATCH/My.Project
mkdir -p "$P/sub/deeper" "$P/data"
cat >"$P/compose.yaml" <<'YAML'
x-base: &base
  restart: unless-stopped
services:
  web:
    <<: *base
    image: busybox:${TAG:-latest}
    command: sh -c "echo 'hello there'"
    ports: ["127.0.0.1:8080:80", "9000-9001:90-91/udp"]
    volumes: ["./data:/data:ro", "cache:/cache"]
    depends_on: [api]
    environment: ["MODE=${MODE}", FROMENV]
  api:
    image: busybox
    healthcheck:
      test: wget -q -O- localhost
      interval: 5s
  debug:
    image: busybox
    profiles: [debug]
volumes:
  cache:
YAML
cat >"$P/compose.override.yaml" <<'YAML'
services:
  api:
    environment:
      OVERRIDDEN: "yes"
YAML
printf 'MODE=dotenv\nTAG=1.36\nFROMENV=from-dotenv\n' >"$P/.env"

cd "$P/sub/deeper" || exit 1
export FROMENV=from-environment
nrun compose config
check_eq "config from a subdirectory exits 0" 0 "$RC"
check_match "the project name is the directory's, normalised" '(^|'"$NL"')name: myproject('"$NL"'|$)' "$OUT"
check_match "interpolation from .env" 'image: busybox:1\.36' "$OUT"
check_match "short ports become the long syntax" 'host_ip: 127\.0\.0\.1' "$OUT"
check_match "a bind source is made absolute" "source: $P/data" "$OUT"
check_match "the override file is merged" 'OVERRIDDEN: "yes"' "$OUT"
check_match "the environment wins over .env" 'FROMENV: from-environment' "$OUT"
check_match "the default network is named PROJECT_default" 'name: myproject_default' "$OUT"
check_match "volumes are named PROJECT_NAME" 'name: myproject_cache' "$OUT"
if [[ $OUT == *"debug:"* ]]; then fail "a service of an inactive profile is left out" "$OUT"; else ok "a service of an inactive profile is left out"; fi

nrun compose config --format json
check_eq "config --format json exits 0" 0 "$RC"
check_eq "the JSON carries the split command" '["sh","-c","echo '"'"'hello there'"'"'"]' \
  "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["services"]["web"]["command"],separators=(",",":")))')"
check_eq "ranges expand to one port each" 3 \
  "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["services"]["web"]["ports"]))')"
check_eq "a healthcheck string is CMD-SHELL" '["CMD-SHELL", "wget -q -O- localhost"]' \
  "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["services"]["api"]["healthcheck"]["test"]))')"

nrun compose config --services
check_eq "--services lists the active services, dependencies first" "api${NL}web" "$OUT"
nrun compose --profile debug config --services
check_eq "--profile enables a service" "api${NL}debug${NL}web" "$OUT"
COMPOSE_PROFILES=debug nrun compose config --services
check_eq "COMPOSE_PROFILES enables a service" "api${NL}debug${NL}web" "$OUT"
nrun compose config --services debug
check_eq "a service named on the command line is on whatever its profiles" "debug" "$OUT"
nrun compose config --profiles
check_eq "--profiles lists every profile" "debug" "$OUT"
nrun compose config --volumes
check_eq "--volumes lists the volumes" "cache" "$OUT"
nrun compose config --images
check_eq "--images lists the images" "busybox${NL}busybox:1.36" "$OUT"
nrun compose config -q
check_eq "-q prints nothing" "" "$OUT"
check_eq "-q exits 0" 0 "$RC"
nrun compose config --hash '*'
check_match "--hash prints a sha256 per service" "^api [0-9a-f]{64}${NL}web [0-9a-f]{64}$" "$OUT"
printf 'TAG=from-env-file\n' >"$T_SCRATCH/ci.env"
nrun compose --env-file ../../../ci.env config --images
check_eq "--env-file is read from the working directory, instead of .env" "busybox${NL}busybox:from-env-file" "$OUT"
nrun compose config --no-interpolate
check_match "--no-interpolate keeps the variables" 'image: busybox:\$\{TAG:-latest\}' "$OUT"
nrun compose -p other -f "$P/compose.yaml" config
check_match "-p names the project" '(^|'"$NL"')name: other('"$NL"'|$)' "$OUT"
if [[ $OUT == *OVERRIDDEN* ]]; then fail "-f alone leaves the override file out" "$OUT"; else ok "-f alone leaves the override file out"; fi

# errors: exit 1, file:line:col and the path
cd "$T_SCRATCH" || exit 1
mkdir -p bad && cd bad || exit 1
printf 'services:\n  web:\n    image: busybox\n    ports:\n      - target: eighty\n' >compose.yaml
nrun compose config
check_eq "a wrong type exits 1" 1 "$RC"
check_match "a wrong type names file:line:col and the path" "compose.yaml:5:9: services.web.ports\\[0\\].target: must be an integer" "$ERR"
printf 'services:\n  web:\n    image: busybox\n    ports:\n      - "80"\n      - "8o:80"\n' >compose.yaml
nrun compose config
check_match "a bad port of the short syntax is named with its line" 'compose.yaml:6:9: services.web.ports\[1\]: invalid hostPort: 8o' "$ERR"
printf 'services:\n  web:\n    image: busybox\n    imgae: busybox\n' >compose.yaml
nrun compose config
check_eq "an unknown key exits 1" 1 "$RC"
check_match "an unknown key is named with its line" 'compose.yaml:4:5: services.web: additional property "imgae" is not allowed' "$ERR"
printf 'services:\n  web:\n    image: [busybox\n' >compose.yaml
nrun compose config
check_eq "a YAML syntax error exits 1" 1 "$RC"
check_match "a YAML syntax error names the file" 'compose.yaml:[0-9]+:[0-9]+: yaml:' "$ERR"
printf 'services:\n  web:\n    image: ${IMAGE:?set IMAGE first}\n' >compose.yaml
nrun compose config
check_eq "a missing required variable exits 1" 1 "$RC"
check_match "a missing required variable is named" 'required variable IMAGE is missing a value: set IMAGE first' "$ERR"
printf 'services:\n  web:\n    image: busybox\n    depends_on: [db]\n' >compose.yaml
nrun compose config
check_match "an undefined dependency is named as Compose names it" 'service "web" depends on undefined service "db": invalid compose project' "$ERR"

# keys nook cannot honour: one warning each; --strict refuses them
printf 'version: "3"\nservices:\n  web:\n    image: busybox\n    mem_limit: 1g\n    cpus: 0.5\n' >compose.yaml
nrun compose config
check_eq "unenforced keys are accepted" 0 "$RC"
check_match "mem_limit is named in a warning" 'services.web.mem_limit: not enforced' "$ERR"
check_match "cpus is named in a warning" 'services.web.cpus: not enforced' "$ERR"
check_match "version: is obsolete" 'the attribute `version` is obsolete' "$ERR"
nrun compose --strict config
check_eq "--strict refuses them" 1 "$RC"
NOOK_COMPOSE_STRICT=1 nrun compose config
check_eq "NOOK_COMPOSE_STRICT=1 refuses them" 1 "$RC"

printf 'A="q $X"\nB=x=y\n' >raw.env
printf 'services:\n  web:\n    image: busybox\n    env_file: [{path: raw.env, format: raw}]\n    logging: {driver: syslog}\nnetworks:\n  n: {driver: overlay}\n' >compose.yaml
nrun compose config --format json
check_eq "an env_file of format raw is taken as it is" '"q $X"' \
  "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"]["web"]["environment"]["A"])')"
check_match "a logging driver nook does not have is warned" 'services.web.logging.driver: not enforced' "$ERR"
check_match "a network driver nook does not have is warned" 'networks.n.driver: not enforced' "$ERR"

hard=$(ulimit -Hn)
if [ "$hard" != unlimited ]; then
  printf 'services:\n  web:\n    image: busybox\n    ulimits:\n      nofile: {soft: 64, hard: %s}\n' \
    "$((hard + 1))" >compose.yaml
  nrun compose config -q
  check_eq "an ulimit above the user's hard limit is accepted" 0 "$RC"
  check_match "with a warning naming the limit" "services.web.ulimits.nofile: not enforced as written: $((hard + 1)) is above this user's hard limit $hard" "$ERR"
  nrun compose --strict config -q
  check_eq "--strict refuses it" 1 "$RC"
else
  ok "# SKIP no hard limit on open files here"
  ok "# SKIP no hard limit on open files here"
  ok "# SKIP no hard limit on open files here"
fi

cd "$T_SCRATCH" || exit 1
mkdir -p empty && cd empty || exit 1
nrun compose config
check_eq "no compose file exits 1" 1 "$RC"
check_match "no compose file is said" 'no configuration file provided: not found' "$ERR"

nrun compose version
check_match "compose version is Compose's line, naming nook" '^Docker Compose version v2\.[0-9]+\.[0-9]+ \(nook\)$' "$OUT"
nrun compose version --short
check_match "compose version --short is a bare version" '^2\.[0-9]+\.[0-9]+$' "$OUT"
nrun compose viz
check_eq "a subcommand still to come exits 1" 1 "$RC"
check_match "and says it is not implemented yet" 'not implemented yet' "$ERR"

ln -s "$NOOK" "$T_SCRATCH/docker-compose"
cd "$P" || exit 1
RC=0
OUT=$("$T_SCRATCH/docker-compose" config --services 2>/dev/null) || RC=$?
check_eq "nook called docker-compose is nook compose" "api${NL}web" "$OUT"

done_testing
