//! SQL glue of the change tests of the KPI history (`kpi_change_test` in
//! `sql/change_test.sql` calls these): p-values of Fisher's exact test, the Poisson rate test,
//! the NPS difference test and Welch's t test. The math is `kpi_core::change_test`.

use crate::fmgr::{raise_with, return_null, strict_arg};
use crate::v1_entry_points;
use kpi_core::change_test;
use pgrx::pg_sys::{Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

/// The first `N` bigint arguments, as counts: refused when negative or above 2^53.
unsafe fn counts<const N: usize>(fcinfo: FunctionCallInfo, function: &str) -> [u64; N] {
    let mut out = [0u64; N];
    for (i, slot) in out.iter_mut().enumerate() {
        let v = strict_arg(fcinfo, i).value() as i64;
        if v < 0 {
            raise_with(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!(
                    "{function}: count {} is {v}; counts must not be negative",
                    i + 1
                ),
                Some("Pass the counts of the two periods, as kpi_change_stats gives them.".into()),
            );
        }
        if v as u64 > change_test::MAX_COUNT {
            raise_with(
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                format!("{function}: count {} is {v}, more than 2^53", i + 1),
                Some("The change tests take counts up to 9007199254740992.".into()),
            );
        }
        *slot = v as u64;
    }
    out
}

fn p_datum(fcinfo: FunctionCallInfo, p: Option<f64>) -> Datum {
    match p {
        Some(p) if p.is_finite() => Datum::from(p.to_bits()),
        _ => unsafe { return_null(fcinfo) },
    }
}

/// `_kpi_fisher_exact(a, b, c, d bigint)`: the table [[a, b], [c, d]].
unsafe fn fisher(fcinfo: FunctionCallInfo) -> Datum {
    let [a, b, c, d] = counts::<4>(fcinfo, "_kpi_fisher_exact");
    p_datum(fcinfo, Some(change_test::fisher_exact(a, b, c, d)))
}

/// `_kpi_poisson_rate_test(events1, customers1, events2, customers2 bigint)`.
unsafe fn poisson(fcinfo: FunctionCallInfo) -> Datum {
    let [k1, n1, k2, n2] = counts::<4>(fcinfo, "_kpi_poisson_rate_test");
    p_datum(fcinfo, change_test::poisson_rate_test(k1, n1, k2, n2))
}

/// `_kpi_nps_test(promoters1, detractors1, answers1, promoters2, detractors2, answers2)`.
unsafe fn nps(fcinfo: FunctionCallInfo) -> Datum {
    let [p1, d1, n1, p2, d2, n2] = counts::<6>(fcinfo, "_kpi_nps_test");
    if p1 + d1 > n1 || p2 + d2 > n2 {
        raise_with(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "_kpi_nps_test: more promoters and detractors than answers".into(),
            Some("Pass promoters, detractors and answers of each survey.".into()),
        );
    }
    p_datum(fcinfo, change_test::nps_test(p1, d1, n1, p2, d2, n2))
}

/// `_kpi_welch_t_test(n1, sum1, squares1, n2, sum2, squares2 float8)`.
unsafe fn welch(fcinfo: FunctionCallInfo) -> Datum {
    let v: Vec<f64> = (0..6)
        .map(|i| f64::from_bits(strict_arg(fcinfo, i).value() as u64))
        .collect();
    if v.iter().any(|x| !x.is_finite()) || v[0] < 0.0 || v[3] < 0.0 {
        raise_with(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "_kpi_welch_t_test: sizes, sums and sums of squares must be finite, sizes not negative"
                .into(),
            Some("Pass the size, sum and sum of squares of each sample.".into()),
        );
    }
    p_datum(
        fcinfo,
        change_test::welch_t_test(v[0], v[1], v[2], v[3], v[4], v[5]),
    )
}

v1_entry_points! {
    _kpi_fisher_exact => fisher();
    _kpi_poisson_rate_test => poisson();
    _kpi_nps_test => nps();
    _kpi_welch_t_test => welch();
}
