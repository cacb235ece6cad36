//! SQL glue of the share KPIs (`escalation_rate` and every other "% of cases that ..."):
//! the `share_summary` type and the aggregate support functions. The math is
//! `kpi_core::Share`; the SQL is `sql/share_rate.sql`.
//!
//! `share_summary` is a fixed-size, pass-by-reference SQL type of 16 bytes (two int8
//! counters), kept like the other fixed-size states (`fixed.rs`): called as an aggregate
//! transition, `share_trans` updates the counters in place, as PostgreSQL's own `avg(int4)`
//! does with its `int8[]` state.

use crate::fixed::{
    fixed_arg, fixed_combine, fixed_in, fixed_out, fixed_recv, fixed_send, update_fixed,
};
use crate::fmgr::{bound_datum, confidence_arg, rate_datum, strict_arg};
use crate::v1_entry_points;
use kpi_core::wilson::wilson_interval;
use kpi_core::Share;
use pgrx::pg_sys::{Datum, FunctionCallInfo};

/// Counts one input of a share KPI in the state of argument 0 (in place in an aggregate).
pub unsafe fn count_hit(fcinfo: FunctionCallInfo, hit: bool) -> Datum {
    update_fixed::<Share>(fcinfo, |share| share.add(hit))
}

/// `share_trans(state, hit boolean)`: STRICT, so NULL inputs never reach it.
unsafe fn add_input(fcinfo: FunctionCallInfo) -> Datum {
    count_hit(fcinfo, strict_arg(fcinfo, 1).value() != 0)
}

/// Inverse transition for moving windows: takes back one input.
unsafe fn remove_input(fcinfo: FunctionCallInfo) -> Datum {
    let hit = strict_arg(fcinfo, 1).value() != 0;
    update_fixed::<Share>(fcinfo, |share| share.remove(hit))
}

v1_entry_points! {
    share_summary_in => fixed_in::<Share>();
    share_summary_out => fixed_out::<Share>();
    share_summary_recv => fixed_recv::<Share>();
    share_summary_send => fixed_send::<Share>();
    share_combine => fixed_combine::<Share>();
    share_trans => add_input();
    share_inv_trans => remove_input();
}

/// `hits * 100.0 / total` as numeric; NULL when no input was counted.
unsafe fn percent(fcinfo: FunctionCallInfo) -> Datum {
    let share = *fixed_arg::<Share>(fcinfo, 0);
    rate_datum(fcinfo, share.hits, share.total, c"100.0")
}

/// `share_wilson_bound(summary, confidence float8, upper boolean)`: a bound of the Wilson
/// score interval of the share, in percent (0-100); NULL when nothing was counted.
unsafe fn wilson_bound(fcinfo: FunctionCallInfo) -> Datum {
    let share = *fixed_arg::<Share>(fcinfo, 0);
    let confidence = confidence_arg(fcinfo, 1);
    let upper = strict_arg(fcinfo, 2).value() != 0;
    let interval = wilson_interval(share.hits, share.total, confidence);
    bound_datum(fcinfo, interval, upper, 100.0)
}

/// `case_count(share_summary)`: the cases counted (the denominator of the share).
unsafe fn total(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(fixed_arg::<Share>(fcinfo, 0).total)
}

v1_entry_points! {
    share_percent => percent();
    share_wilson_bound => wilson_bound();
    share_total => total();
}
