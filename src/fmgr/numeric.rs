//! Rates and ratios as PostgreSQL numeric, computed by the same numeric functions plain SQL
//! uses (so results equal it exactly), interval bounds, and values shown as the user's
//! session shows them.

use super::return_null;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use std::ffi::CStr;

/// `numerator * scale / denominator` as PostgreSQL numeric, the same operations the plain
/// SQL `numerator * 1000.0 / denominator` performs, so results equal it exactly; NULL on a
/// zero denominator. `scale` is a numeric literal such as `c"1000.0"`.
///
/// A window aggregate calls its final function on every row, so this stays lean: the parsed
/// scale is cached for the call site (in `fn_extra`), and the numerics are plain datums.
pub unsafe fn rate_datum(
    fcinfo: FunctionCallInfo,
    numerator: i64,
    denominator: i64,
    scale: &CStr,
) -> Datum {
    if denominator == 0 {
        return return_null(fcinfo);
    }
    let scale = cached_numeric(fcinfo, scale);
    // one guard around the four calls (a group's final value, on every group of a GROUP BY):
    // the closure holds no value with a destructor, as an ERROR inside it requires
    pg_sys::ffi::pg_guard_ffi_boundary(|| {
        let collation = pg_sys::InvalidOid;
        let numerator = raw::DirectFunctionCall1Coll(
            Some(raw::int8_numeric),
            collation,
            Datum::from(numerator),
        );
        let product =
            raw::DirectFunctionCall2Coll(Some(raw::numeric_mul), collation, numerator, scale);
        let count = raw::DirectFunctionCall1Coll(
            Some(raw::int8_numeric),
            collation,
            Datum::from(denominator),
        );
        raw::DirectFunctionCall2Coll(Some(raw::numeric_div), collation, product, count)
    })
}

/// PostgreSQL's numeric functions and `DirectFunctionCall*`, declared here without pgrx's
/// per-call guard (a `sigsetjmp` each), to be called inside one `pg_guard_ffi_boundary`.
mod raw {
    use pgrx::pg_sys::{Datum, FunctionCallInfo, Oid, PGFunction};

    unsafe extern "C-unwind" {
        pub fn DirectFunctionCall1Coll(func: PGFunction, collation: Oid, arg1: Datum) -> Datum;
        pub fn DirectFunctionCall2Coll(
            func: PGFunction,
            collation: Oid,
            arg1: Datum,
            arg2: Datum,
        ) -> Datum;
        pub fn int8_numeric(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_mul(fcinfo: FunctionCallInfo) -> Datum;
        pub fn numeric_div(fcinfo: FunctionCallInfo) -> Datum;
    }
}

/// `numerator / denominator` as numeric, the division `avg(integer)` ends with, so results
/// equal it exactly; NULL on a zero denominator.
pub unsafe fn ratio_datum(fcinfo: FunctionCallInfo, numerator: i64, denominator: i64) -> Datum {
    if denominator == 0 {
        return return_null(fcinfo);
    }
    let numerator = numeric_call(pg_sys::int8_numeric, &[Some(Datum::from(numerator))]);
    divide_by_count(numerator, denominator)
}

/// A numeric divided by a count, as `numeric / bigint` does it in SQL.
pub unsafe fn divide_by_count(numerator: Datum, count: i64) -> Datum {
    let count = numeric_call(pg_sys::int8_numeric, &[Some(Datum::from(count))]);
    numeric_call(pg_sys::numeric_div, &[Some(numerator), Some(count)])
}

/// One of PostgreSQL's numeric functions, called directly; they never return NULL.
unsafe fn numeric_call(f: unsafe fn(FunctionCallInfo) -> Datum, args: &[Option<Datum>]) -> Datum {
    pgrx::direct_function_call_as_datum(f, args).expect("numeric functions return a value")
}

/// The numeric of a decimal `text` such as `1234.50` (the scale is kept as written).
pub unsafe fn numeric_from_text(text: &str) -> Datum {
    let c = std::ffi::CString::new(text).expect("decimal text has no NUL byte");
    let args = [
        Some(Datum::from(c.as_ptr())),
        Some(Datum::from(pg_sys::InvalidOid)),
        Some(Datum::from(-1)),
    ];
    pgrx::direct_function_call_as_datum(pg_sys::numeric_in, &args).expect("a valid numeric text")
}

/// The text a type output function (e.g. `pg_sys::timestamptz_out`) gives for `value`;
/// for error messages, which should show values as the user's session shows them.
pub unsafe fn output_text(out: unsafe fn(FunctionCallInfo) -> Datum, value: Datum) -> String {
    let text = pgrx::direct_function_call_as_datum(out, &[Some(value)])
        .expect("output functions return a value");
    CStr::from_ptr(text.cast_mut_ptr::<std::ffi::c_char>())
        .to_string_lossy()
        .into_owned()
}

/// Whether timestamp arguments are `timestamptz` (else `timestamp`), for error messages
/// only: both are microseconds.
#[derive(Clone, Copy)]
pub enum Clock {
    WithZone,
    Local,
}

/// A timestamp as the user's session shows it.
pub unsafe fn timestamp_text(value: i64, clock: Clock) -> String {
    let out = match clock {
        Clock::WithZone => pg_sys::timestamptz_out,
        Clock::Local => pg_sys::timestamp_out,
    };
    output_text(out, Datum::from(value))
}

/// The numeric `literal`, parsed once per call site and kept in the function's memory context.
unsafe fn cached_numeric(fcinfo: FunctionCallInfo, literal: &CStr) -> Datum {
    let parse = || {
        let args = [
            Some(Datum::from(literal.as_ptr())),
            Some(Datum::from(pg_sys::InvalidOid)),
            Some(Datum::from(-1)),
        ];
        pgrx::direct_function_call_as_datum(pg_sys::numeric_in, &args)
            .expect("a valid numeric literal")
    };
    let flinfo = (*fcinfo).flinfo;
    if flinfo.is_null() {
        return parse();
    }
    if (*flinfo).fn_extra.is_null() {
        let parsed = parse().cast_mut_ptr::<pg_sys::varlena>();
        let size = pgrx::varlena::varsize_any(parsed);
        let copy = pg_sys::MemoryContextAlloc((*flinfo).fn_mcxt, size);
        std::ptr::copy_nonoverlapping(parsed as *const u8, copy as *mut u8, size);
        (*flinfo).fn_extra = copy;
    }
    Datum::from((*flinfo).fn_extra)
}

/// One bound of an interval as a float8 datum (`upper` picks it, `scale` multiplies it), or
/// NULL when there is no interval (nothing counted).
pub unsafe fn bound_datum(
    fcinfo: FunctionCallInfo,
    interval: Option<(f64, f64)>,
    upper: bool,
    scale: f64,
) -> Datum {
    match interval {
        Some((lo, hi)) => Datum::from((if upper { hi } else { lo } * scale).to_bits()),
        None => return_null(fcinfo),
    }
}
