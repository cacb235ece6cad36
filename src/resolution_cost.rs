//! SQL glue of `complaint_resolution_cost`: the `cost_summary` type (exact cost total and
//! resolved count) and the aggregate support functions. The math is `kpi_core::cost`; the
//! SQL is `sql/resolution_cost.sql`.

use crate::fixed::{
    fixed_arg, fixed_combine, fixed_in, fixed_out, fixed_recv, fixed_send, update_fixed,
};
use crate::fmgr::{arg, divide_by_count, numeric_from_text, return_null, varlena_bytes, OrRaise};
use crate::v1_entry_points;
use kpi_core::{CostTotal, Decimal};
use pgrx::pg_sys::{Datum, FunctionCallInfo};

/// `(state, cost numeric, resolved boolean)`, not STRICT: each argument counts on its own,
/// as in `sum(cost) / count(*) FILTER (WHERE resolved)`. A NULL cost adds nothing to the
/// total; a NULL or FALSE `resolved` adds nothing to the denominator.
unsafe fn add_complaint(fcinfo: FunctionCallInfo) -> Datum {
    let cost = arg(fcinfo, 1).map(|d| Decimal::from_numeric(varlena_bytes(d)).or_raise());
    let resolved = arg(fcinfo, 2).is_some_and(|d| d.value() != 0);
    update_fixed::<CostTotal>(fcinfo, |state| {
        if let Some(cost) = cost {
            state.add_cost(cost)?;
        }
        if resolved {
            state.add_resolved()?;
        }
        Ok(())
    })
}

/// The total as numeric, with the largest scale of the costs, as `sum(numeric)` has.
unsafe fn total_numeric(state: &CostTotal) -> Datum {
    numeric_from_text(&state.total().to_text())
}

/// total cost / resolved complaints, the division `sum(cost) / count(...)` performs; NULL
/// when nothing was resolved or no cost was given (then `sum(cost)` is NULL too).
unsafe fn per_resolved(fcinfo: FunctionCallInfo) -> Datum {
    let state = *fixed_arg::<CostTotal>(fcinfo, 0);
    if state.resolved == 0 || state.costs == 0 {
        return return_null(fcinfo);
    }
    divide_by_count(total_numeric(&state), state.resolved)
}

unsafe fn resolved(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(fixed_arg::<CostTotal>(fcinfo, 0).resolved)
}

/// The total cost; NULL when no cost was given, as `sum(cost)`.
unsafe fn total(fcinfo: FunctionCallInfo) -> Datum {
    let state = fixed_arg::<CostTotal>(fcinfo, 0);
    if state.costs == 0 {
        return return_null(fcinfo);
    }
    total_numeric(state)
}

v1_entry_points! {
    cost_summary_in => fixed_in::<CostTotal>();
    cost_summary_out => fixed_out::<CostTotal>();
    cost_summary_recv => fixed_recv::<CostTotal>();
    cost_summary_send => fixed_send::<CostTotal>();
    cost_combine => fixed_combine::<CostTotal>();
    cost_trans => add_complaint();
    cost_per_resolved => per_resolved();
    cost_resolved => resolved();
    cost_total => total();
}
