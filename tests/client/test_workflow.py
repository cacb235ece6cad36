"""The GitHub workflow can run what .ci/run runs (issue 24): it installs every tool that
scripts/test.sh and the scripts it calls need, clones the full history the upgrade tests
build earlier releases from, and fetches Citus where the vendored copy is missing; and that
download path, pointed at a local copy of the tarball, goes through the same checksum check.

The workflow itself is linted by .ci/run (zizmor; actionlint with shellcheck)."""

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = (REPO / ".github/workflows/ci.yml").read_text()
SCRIPTS = {name: (REPO / "scripts" / name).read_text()
           for name in ["test.sh", "common.sh", "setup.sh", "regress.sh", "citus.sh", "package.sh", "package-test.sh",
                        "superset.sh"]}
VENDORED = Path(os.environ.get("SUPPORT_KPI_VENDOR", REPO.parent / "shared/vendor")) / "citus-13.2.2.tar.gz"


def test_the_workflow_installs_every_tool_the_test_scripts_call():
    all_scripts = "\n".join(SCRIPTS.values())
    # cargo subcommands the scripts run, and where each comes from
    subcommands = set(re.findall(r"\bcargo (fmt|clippy|test|pgrx|install)\b", all_scripts))
    assert {"fmt", "clippy", "test", "pgrx"} <= subcommands, subcommands
    rustup = re.search(r"rustup\.rs \| sh -s -- (.*)", WORKFLOW).group(1)
    components = re.search(r"--component (\S+)", rustup).group(1).split(",")
    assert {"rustfmt", "clippy"} <= set(components), rustup
    assert "--default-toolchain 1.95.0" in rustup
    # cargo-pgrx is installed by setup.sh, pinned
    assert re.search(r'cargo install cargo-pgrx --version "\$PGRX_VERSION" --locked', SCRIPTS["setup.sh"])
    # programs the scripts call that Debian 12's base image lacks: from the workflow's first
    # step, or from setup.sh's apt_install list
    base = re.search(r"apt-get install -y -qq --no-install-recommends (.*)", WORKFLOW).group(1).split()
    setup_packages = set(re.search(r"apt_install ([^\n]*\\\n[^\n]*)", SCRIPTS["setup.sh"]).group(1)
                         .replace("\\\n", " ").split())
    needs = {
        "git": ["git -C"],  # build_release: git archive of a release commit
        "curl": ["curl -fsSL"],  # citus_tarball's download
        "ca-certificates": ["https://"],
        "build-essential": ["make -j2"],  # Citus
    }
    for package, uses in needs.items():
        assert any(u in all_scripts for u in uses), (package, uses)
        assert package in base, f"the workflow does not install {package}"
    for package in ["postgresql-15", "postgresql-server-dev-15", "clang", "libclang-dev", "python3-venv", "sqlsmith",
                    "postgresql-15-cron", "sudo", "shellcheck", "chromium", "chromium-driver"]:
        assert package in setup_packages, package
    for tool in ["sha256sum", "python3", "runuser"]:
        assert tool in all_scripts
    # the Debian package: scripts/package.sh installs what it calls (dpkg-deb and gzip are
    # essential; dpkg-shlibdeps, lintian and strip are not), and test.sh runs its test
    assert re.search(r"^apt_install dpkg-dev lintian binutils$", SCRIPTS["package.sh"], re.M)
    for tool in ["dpkg-shlibdeps", "lintian ", "strip ", "dpkg-deb "]:
        assert tool in SCRIPTS["package.sh"], tool
    assert '"$REPO_ROOT/scripts/package-test.sh"' in SCRIPTS["test.sh"]
    # Apache Superset and the browser of its screenshot: scripts/superset.sh, run by test.sh
    assert re.search(r"^apt_install chromium chromium-driver$", SCRIPTS["superset.sh"], re.M)
    assert '"$REPO_ROOT/scripts/superset.sh"' in SCRIPTS["test.sh"]
    assert "/tmp/support_kpi-ci/superset" in WORKFLOW and "tests/superset/requirements.txt" in WORKFLOW
    # sha256sum and runuser: Debian's essential packages, in every Debian 12 image; python3:
    # setup.sh installs it
    assert "python3" in setup_packages
    essential = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential}\n", "coreutils", "util-linux"],
                               capture_output=True, text=True, check=True).stdout.split("\n")
    assert essential[:2] == ["coreutils yes", "util-linux yes"], essential
    for tool, package in [("sha256sum", "coreutils"), ("runuser", "util-linux")]:
        # by path suffix: merged /usr lists runuser as /sbin/runuser
        owners = subprocess.run(["dpkg", "-S", f"bin/{tool}"], capture_output=True, text=True, check=True).stdout
        assert any(line.startswith(package + ":") for line in owners.splitlines()), owners


def test_the_workflow_clones_the_history_the_upgrade_tests_build_releases_from():
    assert re.search(r"uses: actions/checkout@[0-9a-f]{40} # v4[.\d]*\n\s+with:\n\s+fetch-depth: 0\n", WORKFLOW)
    assert re.search(r"git -C \"\$REPO_ROOT\" archive \"\$commit\"", SCRIPTS["common.sh"])
    released = (REPO / "sql/released/commits").read_text()
    assert re.search(r"^0\.5\.0 [0-9a-f]{40} 15 18$", released, re.M)
    # every action is pinned to a commit, credentials are not kept, and the job only reads
    assert not re.search(r"uses: [^@\s]+@(?![0-9a-f]{40}\b)", WORKFLOW)
    assert "persist-credentials: false" in WORKFLOW
    assert re.search(r"^permissions:\n  contents: read$", WORKFLOW, re.M)


def test_the_workflow_fetches_citus_where_it_is_not_vendored():
    assert 'SUPPORT_KPI_CITUS_DOWNLOAD: "1"' in WORKFLOW
    assert "citus_tarball" in SCRIPTS["citus.sh"]
    assert "https://github.com/citusdata/citus/archive/refs/tags/v13.2.2.tar.gz" in SCRIPTS["common.sh"]
    # the work dir the workflow caches is the one the scripts use
    assert re.search(r"SUPPORT_KPI_WORK_DIR: (\S+)", WORKFLOW).group(1) == "/tmp/support_kpi-ci"
    assert "/tmp/support_kpi-ci/vendor" in WORKFLOW and "/tmp/support_kpi-ci/release-*" in WORKFLOW


def citus_tarball(tmp_path, url, vendor):
    """Runs scripts/common.sh's citus_tarball as on GitHub: no vendored copy, download on."""
    env = dict(os.environ, SUPPORT_KPI_VENDOR=str(vendor), SUPPORT_KPI_CITUS_DOWNLOAD="1",
               SUPPORT_KPI_CITUS_URL=url, SUPPORT_KPI_WORK_DIR=str(tmp_path / "work"))
    return subprocess.run(["bash", "-c", f'source "{REPO}/scripts/common.sh"; citus_tarball'],
                          env=env, capture_output=True, text=True)


@pytest.mark.skipif(not VENDORED.is_file(), reason=f"needs a copy of the Citus tarball ({VENDORED}) to serve as the download")
def test_the_citus_download_is_checked_against_its_sha256(tmp_path):
    expected = re.search(r"CITUS_SHA256=([0-9a-f]{64})", SCRIPTS["common.sh"]).group(1)
    assert hashlib.sha256(VENDORED.read_bytes()).hexdigest() == expected
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(VENDORED, served / "v13.2.2.tar.gz")
    empty = tmp_path / "no-vendor"
    empty.mkdir()
    got = citus_tarball(tmp_path, (served / "v13.2.2.tar.gz").as_uri(), empty)
    assert got.returncode == 0, got.stderr
    path = Path(got.stdout.strip())
    assert path == tmp_path / "work/vendor/citus-13.2.2.tar.gz" and path.read_bytes() == VENDORED.read_bytes()
    # kept for the next run: no second download (the source is gone)
    (served / "v13.2.2.tar.gz").unlink()
    again = citus_tarball(tmp_path, (served / "v13.2.2.tar.gz").as_uri(), empty)
    assert again.returncode == 0 and Path(again.stdout.strip()) == path
    # a tarball that is not the one expected: refused, removed, nothing printed
    path.unlink()
    damaged = bytearray(VENDORED.read_bytes())
    damaged[len(damaged) // 2] ^= 1
    (served / "v13.2.2.tar.gz").write_bytes(bytes(damaged))
    bad = citus_tarball(tmp_path, (served / "v13.2.2.tar.gz").as_uri(), empty)
    assert bad.returncode != 0 and bad.stdout == "" and "sha256" in bad.stderr
    assert not path.exists()
    # no download without the switch: the Citus test then says it did not run
    env = dict(os.environ, SUPPORT_KPI_VENDOR=str(empty), SUPPORT_KPI_WORK_DIR=str(tmp_path / "work"))
    env.pop("SUPPORT_KPI_CITUS_DOWNLOAD", None)
    off = subprocess.run(["bash", "-c", f'source "{REPO}/scripts/common.sh"; citus_tarball'], env=env,
                         capture_output=True, text=True)
    assert off.returncode != 0 and off.stdout == ""


LINT_VENV = Path(os.environ.get("SUPPORT_KPI_WORK_DIR", f"/tmp/support_kpi-{os.environ.get('USER', 'root')}")) / "lint"


def lint(tool, workflow):
    return subprocess.run(tool + [str(workflow)], capture_output=True, text=True)


@pytest.mark.skipif(not (LINT_VENV / "bin/zizmor").is_file(),
                    reason=f"scripts/lint-workflow.sh has not installed the linters in {LINT_VENV}")
def test_the_workflow_linters_find_what_they_are_for(tmp_path):
    """The linters scripts/lint-workflow.sh runs are clean on the workflow, and they are not
    silent: each reports a planted finding of its kind (an unknown expression property, an
    unquoted shell variable, a template injected into a script)."""
    fork = LINT_VENV / "bin/actionlint-fork"
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "lint-workflow.sh installs Debian's shellcheck"
    actionlint = [str(fork), "-shellcheck", shellcheck]
    zizmor = [str(LINT_VENV / "bin/zizmor"), "--offline", "--no-progress"]
    ours = REPO / ".github/workflows/ci.yml"
    for tool in (actionlint, zizmor):
        got = lint(tool, ours)
        assert got.returncode == 0, got.stdout + got.stderr
    head = "name: planted\non: pull_request\npermissions:\n  contents: read\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
    cases = [
        (actionlint, '      - run: echo "${{ github.evnt.x }}"\n', 'property "evnt" is not defined'),
        (actionlint, "      - run: echo $FOO\n", "SC2086"),
        (zizmor, '      - run: echo "${{ github.event.pull_request.title }}"\n', "template-injection"),
    ]
    for tool, step, finding in cases:
        planted = tmp_path / "planted.yml"
        planted.write_text(head + step)
        got = lint(tool, planted)
        assert got.returncode != 0 and finding in got.stdout + got.stderr, (step, got.stdout, got.stderr)
