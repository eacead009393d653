#!/usr/bin/env bash
# tests/run-all.sh BUILD_DIR: unit tests, integration tests, a brief fuzzing run, then one
# closing line "N passed, N failed" (the sum of all), just after the list of what failed (so
# that the last lines of a long log, all CI may keep, name it). Exits non-zero if anything
# failed.
set -uo pipefail
O=${1:-build}
cd "$(dirname "$0")/.." || exit 125

total_pass=0 total_fail=0
status=0
failed=()
diag_lines=() # the current failure's diagnostics, until flush_diag
ndiag=-1

# The current failure's diagnostics into the list: its first 4 and last 8 lines.
flush_diag() {
  local n=${#diag_lines[@]}
  if [ "$n" -le 12 ]; then
    failed+=("${diag_lines[@]}")
  else
    failed+=("${diag_lines[@]:0:4}" "    [... $((n - 12)) lines ...]" "${diag_lines[@]:n-8}")
  fi
  diag_lines=()
  ndiag=-1
}

# Runs one suite, streaming its output, and adds its "<name>: N passed, N failed" line.
run_suite() {
  local name=$1 script=$2 line found=0 rc=1 label=''
  ndiag=-1
  local -A file_of=() # the test file each user runs now
  while IFS= read -r line; do
    case "$line" in
      __rc=*) rc=${line#__rc=} ;;
      *)
        printf '%s\n' "$line"
        # a failure, and the first and last lines of its diagnostics (those of the same
        # user, when two users' files run at once: a failure's cause is often at the end
        # of the output it shows)
        case "$line" in
          "not ok"* | "["*"] not ok"*)
            flush_diag
            label=
            [[ $line == "["* ]] && label=${line%%] *}]
            local in=''
            [ -z "$label" ] || in=${file_of[$label]:-}
            failed+=("$line${in:+ ($in)}"); ndiag=0
            ;;
          "["*"] # t-"*.sh)
            local who=${line%%] *}]
            file_of[$who]=${line##* }
            [ "$who" != "$label" ] || flush_diag
            ;;
          *)
            # (a line of the same user that is not a diagnostic ends them)
            local pre=${label:+$label }
            if [ "$ndiag" -ge 0 ] && [[ $line == "$pre"* ]]; then
              if [[ $line == "$pre#  "* ]]; then
                diag_lines+=("    ${line#"$pre"}"); ndiag=$((ndiag + 1))
              else
                flush_diag
              fi
            fi
            ;;
        esac
        if [[ $line =~ ^$name:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
          total_pass=$((total_pass + BASH_REMATCH[1]))
          total_fail=$((total_fail + BASH_REMATCH[2]))
          found=1
        fi
        ;;
    esac
  done < <("$script" "$O" 2>&1; echo "__rc=$?")
  flush_diag
  if [ "$found" = 0 ]; then
    echo "# $name: no summary line from $script (exit $rc): counted as one failure"
    total_fail=$((total_fail + 1))
    failed+=("$name: no summary line from $script (exit $rc)")
  fi
  [ "$rc" = 0 ] || status=1
}

echo "# unit tests"
run_suite unit tests/run-unit.sh
echo "# integration tests"
run_suite integration tests/run-integration.sh
echo "# fuzzing, ${NOOK_FUZZ_SECONDS:-5}s per target"
run_suite fuzz tests/run-fuzz-brief.sh

if [ ${#failed[@]} -gt 0 ]; then
  echo "# what failed:"
  printf '#   %s\n' "${failed[@]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$status" = 0 ] && [ "$total_fail" = 0 ]
