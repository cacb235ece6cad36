#!/usr/bin/env bash
# The benchmark on a Citus cluster (issue 23): per-customer rates against count(DISTINCT) and
# escalation_rate against avg(), each beside its floor, on a local coordinator and two workers
# (tests/client/test_citus.py, test_timings_against_the_built_in_query, via scripts/citus.sh),
# at 400,000 customers and 4,000,000 tickets; writes bench/results-citus.md. Builds and
# installs support_kpi into PostgreSQL 15 first, as bench/run.sh does.
source "$(dirname "$0")/../scripts/common.sh"
use_pg 15
"$REPO_ROOT/scripts/setup.sh"
install_extension
export SUPPORT_KPI_CITUS_CUSTOMERS=${SUPPORT_KPI_CITUS_CUSTOMERS:-400000}
export SUPPORT_KPI_CITUS_TICKETS=${SUPPORT_KPI_CITUS_TICKETS:-4000000}
export SUPPORT_KPI_CITUS_RESULTS=${SUPPORT_KPI_CITUS_RESULTS:-$REPO_ROOT/bench/results-citus.md}
"$REPO_ROOT/scripts/citus.sh" -k timings "$@"
echo "written to $SUPPORT_KPI_CITUS_RESULTS"
