//! Raw fmgr plumbing shared by every KPI's SQL glue, by concern:
//! - here: the V1 entry-point macro, arguments, the aggregate call context, the call site's
//!   cache and the confidence argument;
//! - [`errors`]: raising a KPI error as an SQL ERROR with its SQLSTATE and hint;
//! - [`text`]: text in the server encoding, the types' text input and output;
//! - [`varlena`]: varlena bytes, new varlenas, receive buffers, states updated in place;
//! - [`numeric`]: rates and ratios as PostgreSQL numeric, exactly as plain SQL computes them,
//!   and values shown as the session shows them.
//!
//! The aggregates' support functions are written against PostgreSQL's V1 calling
//! convention directly (not `#[pg_extern]`), because a transition function must see the
//! state datum itself: to update a fixed-size state in place, or to recognise its own
//! growing state value, instead of receiving a decoded copy on every row.

pub mod errors;
pub mod numeric;
pub mod text;
pub mod varlena;

pub use errors::*;
pub use numeric::*;
pub use text::*;
pub use varlena::*;

use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

/// V1 entry points that each forward to one Rust function with fixed extra arguments, e.g.
/// `v1_entry_points! { customer_rate_trans_int8 => customer_trans(KeyType::Int, insert_int8); }`
/// (one C symbol per SQL argument type, one implementation). Each entry point also gets its
/// `PG_FUNCTION_INFO_V1` record, the symbol `pg_finfo_<name>` by which PostgreSQL learns that
/// `<name>` follows the V1 calling convention: a C function is named once here and once in
/// the SQL that declares it (`AS 'MODULE_PATHNAME', '<name>'`).
#[macro_export]
macro_rules! v1_entry_points {
    ($($name:ident => $func:ident $(::<$ty:ty>)? ($($arg:expr),*);)*) => {
        $(
            #[no_mangle]
            #[::pgrx::pg_guard]
            pub unsafe extern "C-unwind" fn $name(fcinfo: ::pgrx::pg_sys::FunctionCallInfo) -> ::pgrx::pg_sys::Datum {
                $func $(::<$ty>)? (fcinfo, $($arg),*)
            }
            const _: () = {
                #[export_name = concat!("pg_finfo_", stringify!($name))]
                extern "C" fn finfo() -> &'static ::pgrx::pg_sys::Pg_finfo_record {
                    const V1: ::pgrx::pg_sys::Pg_finfo_record = ::pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
                    &V1
                }
            };
        )*
    };
}

/// Argument `n`, or `None` when it is SQL NULL.
#[inline]
pub unsafe fn arg(fcinfo: FunctionCallInfo, n: usize) -> Option<Datum> {
    let a = (*fcinfo).args.as_slice(n + 1)[n];
    if a.isnull {
        None
    } else {
        Some(a.value)
    }
}

/// Argument `n` of a STRICT function, which the executor never calls with a NULL.
#[inline]
pub unsafe fn strict_arg(fcinfo: FunctionCallInfo, n: usize) -> Datum {
    (*fcinfo).args.as_slice(n + 1)[n].value
}

#[inline]
pub unsafe fn return_null(fcinfo: FunctionCallInfo) -> Datum {
    (*fcinfo).isnull = true;
    Datum::from(0usize)
}

/// Whether the function runs as an aggregate (or window aggregate) support function. The
/// same test as `AggCheckCallContext`, without its memory context and without a call through
/// pgrx's FFI guard (a `sigsetjmp`), because it runs on every row.
#[inline]
pub unsafe fn called_as_aggregate(fcinfo: FunctionCallInfo) -> bool {
    let context = (*fcinfo).context;
    !context.is_null()
        && matches!(
            (*context).type_,
            pg_sys::NodeTag::T_AggState | pg_sys::NodeTag::T_WindowAggState
        )
}

/// The aggregate's long-lived memory context when called as an aggregate support function.
#[inline]
pub unsafe fn aggregate_context(fcinfo: FunctionCallInfo) -> Option<pg_sys::MemoryContext> {
    let mut cx: pg_sys::MemoryContext = std::ptr::null_mut();
    if pg_sys::AggCheckCallContext(fcinfo, &mut cx) != 0 {
        Some(cx)
    } else {
        None
    }
}

/// Like [`aggregate_context`], for functions that only make sense inside an aggregate.
pub unsafe fn require_aggregate_context(
    fcinfo: FunctionCallInfo,
    function: &str,
) -> pg_sys::MemoryContext {
    aggregate_context(fcinfo).unwrap_or_else(|| not_in_aggregate(function))
}

/// Raises the error for a support function called outside an aggregate.
pub fn not_in_aggregate(function: &str) -> ! {
    raise_with(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("{function} called in non-aggregate context"),
        Some("It is the support function of an aggregate; call the aggregate instead.".into()),
    )
}

/// This call site's own `T` (`fn_extra`), made on its first call in the call site's memory
/// context (`fn_mcxt`) and dropped with it: what a function reads once per query and keeps.
pub unsafe fn call_site_cache<'a, T: Default>(fcinfo: FunctionCallInfo) -> &'a mut T {
    let flinfo = (*fcinfo).flinfo;
    if (*flinfo).fn_extra.is_null() {
        let ptr =
            pgrx::PgMemoryContexts::For((*flinfo).fn_mcxt).leak_and_drop_on_delete(T::default());
        (*flinfo).fn_extra = ptr as *mut std::ffi::c_void;
    }
    &mut *((*flinfo).fn_extra as *mut T)
}

/// The confidence level in argument `n` (float8), refused unless strictly between 0 and 1.
pub unsafe fn confidence_arg(fcinfo: FunctionCallInfo, n: usize) -> f64 {
    let confidence = f64::from_bits(strict_arg(fcinfo, n).value() as u64);
    if !(confidence > 0.0 && confidence < 1.0) {
        raise_with(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("confidence level {confidence} is not between 0 and 1"),
            Some("Give the two-sided confidence level as a fraction, e.g. 0.95.".into()),
        );
    }
    confidence
}
