#!/usr/bin/env bash
# Installs what building and testing support_kpi needs, skipping what is already there:
# Debian packages (PostgreSQL 15 and its server headers, clang for bindgen, sudo, Python),
# cargo-pgrx pinned to the pgrx version of Cargo.toml, and pgrx's link to Debian's PostgreSQL.
# Safe to run again. Works as root or as a user with sudo.
source "$(dirname "$0")/common.sh"

# sqlsmith and pgbench (postgresql-contrib) drive the stress tests (tests/client/test_stress.py).
packages=(postgresql-15 postgresql-server-dev-15 postgresql-contrib libclang-dev clang pkg-config sudo python3 python3-venv sqlsmith)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    step "Installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "error: need root or sudo to install ${missing[*]}" >&2
        exit 1
    fi
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install Rust (rustup) first" >&2
    exit 1
fi

if [ "$(cargo pgrx --version 2>/dev/null)" != "cargo-pgrx $PGRX_VERSION" ]; then
    step "Installing cargo-pgrx $PGRX_VERSION (a few minutes, once)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

# Point pgrx at Debian's PostgreSQL 15; never let it download one.
if ! grep -qs "pg15 = \"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
    step "Linking pgrx to $PG_CONFIG"
    cargo pgrx init --pg15 "$PG_CONFIG"
fi
