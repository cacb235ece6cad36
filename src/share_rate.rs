//! SQL glue of the share KPIs (`escalation_rate`): the `share_summary` type and the
//! aggregate support functions. The math is `kpi_core::Share`; the SQL is `sql/share_rate.sql`.
//!
//! `share_summary` is a fixed-size, pass-by-reference SQL type of 16 bytes (two int8
//! counters). Called as an aggregate transition, `share_trans` updates the counters in
//! place, as PostgreSQL's own `avg(int4)` does with its `int8[]` state.

use crate::fmgr::{
    called_as_aggregate, cstring_arg, cstring_datum, new_varlena, raise_with, rate_datum,
    receive_buffer, return_null, strict_arg, OrRaise,
};
use crate::v1_functions;
use kpi_core::share::SHARE_BYTES;
use kpi_core::wilson::wilson_interval;
use kpi_core::Share;
use pgrx::pg_guard;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

v1_functions!(
    pg_finfo_share_summary_in,
    pg_finfo_share_summary_out,
    pg_finfo_share_summary_recv,
    pg_finfo_share_summary_send,
    pg_finfo_share_trans,
    pg_finfo_share_inv_trans,
    pg_finfo_share_combine,
    pg_finfo_share_percent,
    pg_finfo_share_wilson_bound,
);

/// A new `share_summary` value in the current memory context.
unsafe fn share_datum(share: Share) -> Datum {
    let ptr = pg_sys::palloc(SHARE_BYTES) as *mut Share;
    ptr.write(share);
    Datum::from(ptr)
}

unsafe fn share_arg<'a>(fcinfo: FunctionCallInfo, n: usize) -> &'a Share {
    &*strict_arg(fcinfo, n).cast_mut_ptr::<Share>()
}

/// The state to update: arg 0 itself inside an aggregate (it lives in the aggregate's
/// memory), else a fresh copy, since a plain function must not modify its input.
pub unsafe fn share_for_update<'a>(fcinfo: FunctionCallInfo) -> (Datum, &'a mut Share) {
    let d = if called_as_aggregate(fcinfo) {
        strict_arg(fcinfo, 0)
    } else {
        share_datum(*share_arg(fcinfo, 0))
    };
    (d, &mut *d.cast_mut_ptr::<Share>())
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_summary_in(fcinfo: FunctionCallInfo) -> Datum {
    share_datum(Share::from_text(cstring_arg(fcinfo, 0)).or_raise())
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_summary_out(fcinfo: FunctionCallInfo) -> Datum {
    cstring_datum(&share_arg(fcinfo, 0).to_text())
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_summary_recv(fcinfo: FunctionCallInfo) -> Datum {
    share_datum(Share::from_bytes(receive_buffer(fcinfo)).or_raise())
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_summary_send(fcinfo: FunctionCallInfo) -> Datum {
    let bytes = share_arg(fcinfo, 0).to_bytes();
    new_varlena(bytes.len(), |out| out.copy_from_slice(&bytes))
}

/// `share_trans(state, hit boolean)`: STRICT, so NULL inputs never reach it.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_trans(fcinfo: FunctionCallInfo) -> Datum {
    let hit = strict_arg(fcinfo, 1).value() != 0;
    let (d, share) = share_for_update(fcinfo);
    share.add(hit);
    d
}

/// Inverse transition for moving windows: takes back one input.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_inv_trans(fcinfo: FunctionCallInfo) -> Datum {
    let hit = strict_arg(fcinfo, 1).value() != 0;
    let (d, share) = share_for_update(fcinfo);
    share.remove(hit);
    d
}

#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_combine(fcinfo: FunctionCallInfo) -> Datum {
    let other = *share_arg(fcinfo, 1);
    let (d, share) = share_for_update(fcinfo);
    share.merge(&other).or_raise();
    d
}

/// `hits * 100.0 / total` as numeric; NULL when no input was counted.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_percent(fcinfo: FunctionCallInfo) -> Datum {
    let share = *share_arg(fcinfo, 0);
    rate_datum(fcinfo, share.hits, share.total, c"100.0")
}

/// `share_wilson_bound(summary, confidence float8, upper boolean)`: a bound of the Wilson
/// score interval of the share, in percent (0-100); NULL when nothing was counted.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn share_wilson_bound(fcinfo: FunctionCallInfo) -> Datum {
    let share = *share_arg(fcinfo, 0);
    let confidence = f64::from_bits(strict_arg(fcinfo, 1).value() as u64);
    let upper = strict_arg(fcinfo, 2).value() != 0;
    if !(confidence > 0.0 && confidence < 1.0) {
        raise_with(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("confidence level {confidence} is not between 0 and 1"),
            Some("Give the two-sided confidence level as a fraction, e.g. 0.95.".into()),
        );
    }
    match wilson_interval(share.hits, share.total, confidence) {
        Some((lo, hi)) => Datum::from((if upper { hi } else { lo } * 100.0).to_bits()),
        None => return_null(fcinfo),
    }
}
