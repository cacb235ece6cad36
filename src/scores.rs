//! SQL glue of the audit-score KPIs `quality_score` and `service_audit_score`: the
//! `score_summary` type (count, sum and sum of squares of scores on 0-100) and the aggregate
//! support functions. The math is `kpi_core::scores`; the SQL is `sql/scores.sql` and, for
//! the KPIs, `sql/scores_kpis.sql` (generated from the KPI registry).

use crate::fixed::{
    fixed_arg, fixed_combine, fixed_in, fixed_out, fixed_recv, fixed_send, update_fixed,
};
use crate::fmgr::{bound_datum, confidence_arg, ratio_datum, strict_arg};
use crate::v1_entry_points;
use kpi_core::Scores;
use pgrx::pg_sys::{Datum, FunctionCallInfo};

/// `(state, score integer)`, STRICT: NULL scores are skipped.
unsafe fn add_score(fcinfo: FunctionCallInfo) -> Datum {
    let score = strict_arg(fcinfo, 1).value() as i32 as i64;
    update_fixed::<Scores>(fcinfo, |state| state.add(score))
}

/// Inverse transition for moving windows: takes back one score.
unsafe fn remove_score(fcinfo: FunctionCallInfo) -> Datum {
    let score = strict_arg(fcinfo, 1).value() as i32 as i64;
    update_fixed::<Scores>(fcinfo, |state| state.remove(score))
}

/// sum of scores / scores, as `avg(integer)` computes it; NULL without scores.
unsafe fn mean(fcinfo: FunctionCallInfo) -> Datum {
    let s = fixed_arg::<Scores>(fcinfo, 0);
    ratio_datum(fcinfo, s.sum, s.count)
}

unsafe fn count(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(fixed_arg::<Scores>(fcinfo, 0).count)
}

/// `score_bound(summary, confidence, upper)`: a bound of the Student's t interval of the
/// mean score with one score more at 0 and at 100 (`Scores::t_interval`), within 0-100; NULL
/// without scores.
unsafe fn bound(fcinfo: FunctionCallInfo) -> Datum {
    let s = fixed_arg::<Scores>(fcinfo, 0);
    let confidence = confidence_arg(fcinfo, 1);
    let upper = strict_arg(fcinfo, 2).value() != 0;
    bound_datum(fcinfo, s.t_interval(confidence), upper, 1.0)
}

v1_entry_points! {
    score_summary_in => fixed_in::<Scores>();
    score_summary_out => fixed_out::<Scores>();
    score_summary_recv => fixed_recv::<Scores>();
    score_summary_send => fixed_send::<Scores>();
    score_combine => fixed_combine::<Scores>();
    score_trans => add_score();
    score_inv_trans => remove_score();
    score_mean => mean();
    score_count => count();
    score_bound => bound();
}
