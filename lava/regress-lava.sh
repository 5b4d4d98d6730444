#!/bin/sh
# LAVA's side of regress (lava/regress.yaml runs it from the repository root):
#   regress-lava.sh install SKIP_INSTALL      build and install regress unless it is on PATH (or SKIP_INSTALL=true)
#   regress-lava.sh run SHARD GROUP [TEST…]   run regress, report each case with lava-test-case, log the reports
#   regress-lava.sh report FILE.ktap          only report the cases of a KTAP report
# A case's LAVA result follows its KTAP line: `ok` pass, `not ok` fail (an ERROR too: the environment broke),
# `# SKIP` skip, `# XFAIL` pass (a failure the known-issues file expects: KTAP's `ok`, not a failure of the run;
# its reason goes to the log). Outside LAVA (no lava-test-case on PATH) the calls are printed instead.
set -eu

out=${REGRESS_LAVA_OUTPUT:-regress-output}

report_case() {   # NAME RESULT
    if command -v lava-test-case >/dev/null 2>&1; then
        lava-test-case "$1" --result "$2"
    else
        echo "lava-test-case $1 --result $2"
    fi
}

# LAVA v2 has no attachments (lava-test-attach was LAVA v1's): a report goes into the job log between two
# marker lines, from which a farm takes it (`sed -n '/^regress-lava: begin F$/,/^regress-lava: end F$/p'`).
attach() {   # FILE
    [ -s "$1" ] || return 0
    if command -v lava-test-attach >/dev/null 2>&1; then
        lava-test-attach "$1"
    else
        echo "regress-lava: begin $(basename "$1")"
        cat "$1"
        echo "regress-lava: end $(basename "$1")"
    fi
}

# KTAP result lines are `ok N NAME [# DIRECTIVE reason]` / `not ok N NAME [# DIRECTIVE reason]`, flat, at the
# start of a line; regress neutralises every other line that could look like one.
report_ktap() {   # FILE
    grep -E '^(not )?ok [0-9]+ ' "$1" | while IFS= read -r line; do
        case $line in
            "not ok "*) result=fail; rest=${line#not ok } ;;
            *) result=pass; rest=${line#ok } ;;
        esac
        rest=${rest#* }            # the number
        name=${rest%% *}
        case $rest in
            *" # SKIP"*) result=skip ;;
            *" # XFAIL"*) echo "regress: $name is a known failure:${rest#* # XFAIL}" ;;
        esac
        report_case "$name" "$result"
    done
}

case ${1:-} in
install)
    if [ "${2:-false}" = true ] || command -v regress >/dev/null 2>&1; then
        echo "regress: using $(command -v regress || echo 'regress from the image')"
    else
        scripts/install
    fi
    ;;
run)
    shard=${2:-}; group=${3:-auto}
    if [ $# -ge 3 ]; then shift 3; else shift $#; fi
    # No test names: the group.
    if [ $# -eq 0 ]; then set -- -g "$group"; fi
    if [ -n "$shard" ]; then set -- "$@" --shard "$shard"; fi
    mkdir -p "$out"
    set -- "$@" --format ktap --output "$out/regress.ktap" --report json="$out/regress.json" --report kcidb="$out/regress.kcidb.json"
    # regress's exit status (1 when a test failed) is for LAVA's results to say, not for the step to fail on.
    status=0
    regress run "$@" || status=$?
    echo "regress: exit status $status"
    if [ -s "$out/regress.ktap" ]; then
        report_ktap "$out/regress.ktap"
    else
        # regress could not run at all (a bad test name, no root): one failed case says so.
        report_case regress-run fail
    fi
    attach "$out/regress.ktap"
    attach "$out/regress.kcidb.json"
    ;;
report)
    report_ktap "$2"
    ;;
*)
    echo "usage: $0 install SKIP_INSTALL | run SHARD GROUP [TEST...] | report FILE.ktap" >&2
    exit 2
    ;;
esac
