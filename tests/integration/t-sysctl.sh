#!/usr/bin/env bash
# t-sysctl.sh: run/create --sysctl (Docker's rules: the container's own namespaces' sysctls
# only, net.* not with the host's network namespace), seen from inside the container; kept
# across a start; compose's sysctls applied through it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

host_shmmax=$(cat /proc/sys/kernel/shmmax)
host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
host_msg=$(cat /proc/sys/fs/mqueue/msg_max)
want_shm=65537
[ "$host_shmmax" != "$want_shm" ] || want_shm=65539
want_msg=17
[ "$host_msg" != "$want_msg" ] || want_msg=18
want_fwd=$((1 - host_fwd))

nrun run --rm --sysctl "net.ipv4.ip_forward=$want_fwd" --sysctl "kernel.shmmax=$want_shm" \
  --sysctl "fs.mqueue.msg_max=$want_msg" busybox \
  cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max
check_eq "run --sysctl: exit 0" 0 "$RC"
check_eq "... net.*, kernel.shm*, fs.mqueue.* set inside the container" \
  "$want_fwd${NL}$want_shm${NL}$want_msg" "$OUT"
check_eq "... the host's kernel.shmmax untouched" "$host_shmmax" "$(cat /proc/sys/kernel/shmmax)"
check_eq "... the host's net.ipv4.ip_forward untouched" "$host_fwd" \
  "$(cat /proc/sys/net/ipv4/ip_forward)"
nrun run --rm --sysctl kernel/shmmax=$want_shm busybox cat /proc/sys/kernel/shmmax
check_eq "a name with slashes" "$want_shm" "$OUT"
nrun run --rm --sysctl net.ipv4.ip_forward=1 busybox \
  sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward && echo written'
check_no_match "/proc/sys stays read-only for the command" written "$OUT"
nrun run --rm --network none --sysctl "net.ipv4.ping_group_range=0 0" busybox \
  cat /proc/sys/net/ipv4/ping_group_range
check_match "--network none: its own namespace's net.* set" '^0[[:space:]]+0$' "$OUT"

nrun run --rm --network host --sysctl net.ipv4.ip_forward=1 busybox true
check_eq "net.* with --network host: 125" 125 "$RC"
check_match "... naming the sysctl and why" \
  'net.ipv4.ip_forward" is not allowed in the host.s network namespace' "$ERR"
nrun run --rm --sysctl kernel.hostname=x busybox true
check_eq "a sysctl of no namespace of the container's: 125" 125 "$RC"
check_match "... naming it" "sysctl 'kernel.hostname=x' is not allowed" "$ERR"
nrun run --rm --sysctl vm.swappiness=1 busybox true
check_eq "vm.*: 125" 125 "$RC"
nrun run --rm --sysctl net.ipv4.ip_forward busybox true
check_eq "no value: 125" 125 "$RC"
check_match "... saying what is wanted" 'NAME=VALUE' "$ERR"
nrun run --rm --sysctl net.nook.nothere=1 busybox true
check_eq "a sysctl the kernel does not have: 125" 125 "$RC"
check_match "... naming it" "sysctl 'net.nook.nothere'" "$ERR"

# kept by the record: applied again at each start
nrun create --name sc --sysctl "kernel.shmmax=$want_shm" busybox cat /proc/sys/kernel/shmmax
check_eq "create --sysctl" 0 "$RC"
nrun inspect --format '{{json .HostConfig.Sysctls}}' sc
check_eq "inspect shows HostConfig.Sysctls" "{\"kernel.shmmax\":\"$want_shm\"}" "$OUT"
nrun start -a sc
check_eq "start applies it" "$want_shm" "$OUT"
nrun start -a sc
check_eq "... and again" "$want_shm" "$OUT"
nrun rm -f sc

# a user-defined network: the container's own namespace
nrun network create scnet
nrun run --rm --network scnet --sysctl "net.ipv4.ip_forward=$want_fwd" busybox \
  cat /proc/sys/net/ipv4/ip_forward
check_eq "a user-defined network: net.* set" "$want_fwd" "$OUT"
nrun network rm scnet

# compose's sysctls (list and map forms)
P=$T_SCRATCH/proj
mkdir -p "$P"
cd "$P" || exit 1
cat >compose.yaml <<YAML
name: sy
services:
  s:
    image: busybox
    command: sh -c 'cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward; sleep 1000'
    init: true
    sysctls:
      kernel.shmmax: $want_shm
      net.ipv4.ip_forward: $want_fwd
  t:
    image: busybox
    command: cat /proc/sys/fs/mqueue/msg_max
    sysctls: ["fs.mqueue.msg_max=$want_msg"]
YAML
nrun compose config -q
check_no_match "compose: sysctls no longer warned as not enforced" 'not enforced' "$ERR"
nrun compose up -d --wait s
check_eq "compose up with sysctls" 0 "$RC"
nrun compose exec -T s cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward
check_eq "compose: the service's sysctls (map) set inside" "$want_shm${NL}$want_fwd" "$OUT"
nrun compose run --rm -T t
check_eq "compose run: sysctls (list) set inside" "$want_msg" "$OUT"
nrun compose down -t 0
check_eq "compose down" 0 "$RC"

done_testing
