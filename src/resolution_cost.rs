//! SQL glue of `complaint_resolution_cost` and `cost_per_complaint`: the `cost_summary` type
//! (exact cost total, costs given and resolved count) and the aggregate support functions.
//! The math is `kpi_core::resolution_cost`; the SQL is `sql/resolution_cost.sql` and, for the KPIs,
//! `sql/resolution_cost_kpis.sql` (generated from the KPI registry).

use crate::fixed::{
    fixed_arg, fixed_combine, fixed_in, fixed_out, fixed_recv, fixed_send, update_fixed,
};
use crate::fmgr::{
    arg, divide_by_count, numeric_from_text, return_null, strict_arg, varlena_bytes, OrRaise,
};
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

/// `(state, cost numeric)`, STRICT (a NULL cost is skipped, as `avg(cost)` skips it): the
/// transition of `cost_per_complaint`, which counts every complaint with a cost, resolved or
/// not.
unsafe fn add_cost(fcinfo: FunctionCallInfo) -> Datum {
    let cost = Decimal::from_numeric(varlena_bytes(strict_arg(fcinfo, 1))).or_raise();
    update_fixed::<CostTotal>(fcinfo, |state| state.add_cost(cost))
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

/// total cost / complaints with a cost, the division `sum(cost) / count(cost)` performs (and
/// `avg(cost)`); NULL when no cost was given.
unsafe fn per_complaint(fcinfo: FunctionCallInfo) -> Datum {
    let state = *fixed_arg::<CostTotal>(fcinfo, 0);
    if state.costs == 0 {
        return return_null(fcinfo);
    }
    divide_by_count(total_numeric(&state), state.costs)
}

/// `cost_count(cost_summary)`: the costs given (complaints with a cost).
unsafe fn costs(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(fixed_arg::<CostTotal>(fcinfo, 0).costs)
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
    cost_trans_cost => add_cost();
    cost_per_resolved => per_resolved();
    cost_per_complaint => per_complaint();
    cost_count => costs();
    cost_resolved => resolved();
    cost_total => total();
}
