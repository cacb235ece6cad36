#!/usr/bin/env bash
# Builds the Debian package of support_kpi for one PostgreSQL major, laid out as PGDG's
# postgresql-<major> packages are (/usr/lib/postgresql/<major>/lib and
# /usr/share/postgresql/<major>/extension), and checks it with lintian (no errors allowed):
#
#   scripts/package.sh [MAJOR]     (15 by default; 18 builds against the PostgreSQL 18 of
#                                   scripts/setup.sh, for a server that Debian 12 cannot install)
#
# Writes $WORK_DIR/deb/postgresql-<major>-support-kpi_<version>-1_amd64.deb and prints its path
# on the last line. The package holds the library, the control file, the install script of
# this version and of every released version (sql/released/), every delta script, the README,
# docs/ and the copyright; it depends on postgresql-<major> and what the library links.
# scripts/package-test.sh installs it with apt on the system PostgreSQL and checks it.
source "$(dirname "$0")/common.sh"
apt_install dpkg-dev lintian binutils
major=${1:-15}
use_pg "$major"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml" | head -1)
name=postgresql-$major-support-kpi
debversion=$version-1
arch=$(dpkg --print-architecture)
out=$WORK_DIR/deb
stage=$out/stage-$major
root=$out/root-$major
rm -rf "$stage" "$root"
mkdir -p "$out"

step "Building support_kpi $version for PostgreSQL $major"
(cd "$REPO_ROOT" && cargo pgrx package --pg-config "$PG_CONFIG" --no-default-features --features "pg$major" \
    --out-dir "$stage") >&2

step "Laying out $name $debversion"
lib=$root/usr/lib/postgresql/$major/lib
ext=$root/usr/share/postgresql/$major/extension
doc=$root/usr/share/doc/$name
install -d -m 755 "$lib" "$ext" "$doc" "$root/DEBIAN"
install -m 644 "$(find "$stage" -name support_kpi.so -type f)" "$lib/support_kpi.so"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$lib/support_kpi.so"
find "$stage" -path '*/extension/*' -type f -exec install -m 644 {} "$ext/" \;
install -m 644 "$REPO_ROOT"/sql/released/support_kpi--*.sql "$REPO_ROOT"/sql/released/support_kpi--*.control "$ext/"
install -m 644 "$REPO_ROOT/README.md" "$doc/README.md"
gzip -9n "$doc/README.md"
install -d -m 755 "$doc/docs"
for page in "$REPO_ROOT"/docs/*.md; do
    install -m 644 "$page" "$doc/docs/"
    gzip -9n "$doc/docs/$(basename "$page")"
done
cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: support_kpi
Source: the support_kpi repository

Files: *
Copyright: 2026 the support_kpi developers
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this
 software and associated documentation files (the "Software"), to deal in the Software
 without restriction, including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
 to whom the Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
 INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
 PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
 FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
 OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
EOF
chmod 644 "$doc/copyright"
# the changelog: this version, with the date of its last commit (reproducible)
when=$(git -C "$REPO_ROOT" log -1 --format=%aD 2>/dev/null || date -R)
cat >"$doc/changelog.Debian" <<EOF
$name ($debversion) unstable; urgency=medium

  * support_kpi $version for PostgreSQL $major (see README.md, "Upgrading").

 -- support_kpi developers <support-kpi@users.noreply.github.com>  $when
EOF
gzip -9n "$doc/changelog.Debian"

# what the library links (libc, libgcc), as dpkg-shlibdeps finds it
shlibs=$(cd "$out" && mkdir -p shlibs/debian && printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' \
    "$name" "$name" >shlibs/debian/control && cd shlibs && dpkg-shlibdeps -O "$lib/support_kpi.so" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
size=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: $name
Version: $debversion
Architecture: $arch
Maintainer: support_kpi developers <support-kpi@users.noreply.github.com>
Installed-Size: $size
Depends: postgresql-$major${shlibs:+, $shlibs}
Section: database
Priority: optional
Description: customer-support KPIs as PostgreSQL $major aggregates
 support_kpi computes customer-support KPIs inside PostgreSQL: incident,
 escalation and contact rates, the ISO 10002 complaint-handling set, survey
 scores, churn, times in business hours and medians, with intervals and
 sample-aware verdicts, and a KPI history for pg_cron. Install it in a
 database with CREATE EXTENSION support_kpi.
EOF
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
deb=$out/${name}_${debversion}_$arch.deb
rm -f "$deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2

step "lintian $(basename "$deb")"
# (initial-upload-closes-no-bugs, a warning: the package is not uploaded to Debian, so its
# changelog closes no "intent to package" bug)
report=$(lintian --tag-display-limit 0 "$deb" 2>&1 || true)
echo "$report" >&2
if grep -q '^E: ' <<<"$report"; then
    echo "error: lintian reports errors for $deb" >&2
    exit 1
fi
echo "$deb"
