//! Raw fmgr plumbing shared by every KPI's SQL glue.
//!
//! The aggregates' support functions are written against PostgreSQL's V1 calling
//! convention directly (not `#[pg_extern]`), because a transition function must see the
//! state datum itself: to update a fixed-size state in place, or to recognise its own
//! growing state value, instead of receiving a decoded copy on every row.

use kpi_core::{KpiError, KpiErrorKind};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::{PgLogLevel, PgSqlErrorCode};
use std::borrow::Cow;
use std::ffi::CStr;

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

pub fn raise_with(code: PgSqlErrorCode, message: String, hint: Option<String>) -> ! {
    let mut report = pgrx::pg_sys::panic::ErrorReport::new(code, message, "support_kpi");
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// Raises a state error with the SQLSTATE its kind stands for.
pub fn raise(e: KpiError) -> ! {
    let code = match e.kind {
        KpiErrorKind::InvalidText => PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
        KpiErrorKind::InvalidBinary => PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
        KpiErrorKind::Mismatch => PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
        KpiErrorKind::Overflow | KpiErrorKind::OutOfRange => {
            PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
        }
        KpiErrorKind::InvalidValue => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        KpiErrorKind::DatetimeOutOfRange => PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
    };
    raise_with(code, e.message, e.hint)
}

pub trait OrRaise<T> {
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for Result<T, KpiError> {
    #[inline]
    fn or_raise(self) -> T {
        self.unwrap_or_else(|e| raise(e))
    }
}

/// The cstring argument of a type input function, as UTF-8 (converted from the server
/// encoding; the text forms of the states are JSON, which is UTF-8).
pub unsafe fn input_text<'a>(fcinfo: FunctionCallInfo) -> Cow<'a, str> {
    let c = CStr::from_ptr(strict_arg(fcinfo, 0).cast_mut_ptr::<std::ffi::c_char>());
    let not_utf8 = || -> ! {
        raise_with(
            PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
            "KPI state text is not valid UTF-8".into(),
            None,
        )
    };
    match server_to_utf8(c.to_bytes()).or_raise() {
        Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or_else(|_| not_utf8())),
        Cow::Owned(b) => Cow::Owned(String::from_utf8(b).unwrap_or_else(|_| not_utf8())),
    }
}

/// A type output function's result: the JSON text form, made ASCII outside UTF8 databases.
pub fn output_datum(json: String) -> Datum {
    cstring_datum(&ascii_json(json))
}

// --- text in the server encoding -----------------------------------------------------------

fn database_is_utf8() -> bool {
    unsafe { pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32 }
}

/// `bytes` converted by `pg_server_to_any`/`pg_any_to_server` from or to UTF-8 (an ERROR
/// names a character the target cannot hold); as they are in a UTF8 database or when ASCII.
fn recoded(
    bytes: &[u8],
    convert: unsafe fn(*const std::ffi::c_char, i32, i32) -> *mut std::ffi::c_char,
) -> Result<Cow<'_, [u8]>, KpiError> {
    if database_is_utf8() || bytes.is_ascii() {
        return Ok(Cow::Borrowed(bytes));
    }
    unsafe {
        let p = convert(
            bytes.as_ptr() as *const std::ffi::c_char,
            bytes.len() as i32,
            pg_sys::pg_enc::PG_UTF8 as i32,
        );
        if p as *const u8 == bytes.as_ptr() {
            return Ok(Cow::Borrowed(bytes));
        }
        Ok(Cow::Owned(CStr::from_ptr(p).to_bytes().to_vec()))
    }
}

/// Server-encoded bytes as UTF-8.
pub fn server_to_utf8(bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    recoded(bytes, pg_sys::pg_server_to_any)
}

/// UTF-8 bytes in the server encoding.
pub fn utf8_to_server(bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    recoded(bytes, pg_sys::pg_any_to_server)
}

/// Bytes as they are.
pub fn as_is(bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    Ok(Cow::Borrowed(bytes))
}

/// Received key or name bytes, checked to be valid text in the server encoding.
pub fn verify_server_text(bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    if bytes.contains(&0) {
        return Err(kpi_core::error::nul_in_text(
            "text customer key or segment name",
            kpi_core::KpiErrorKind::InvalidBinary,
        ));
    }
    let ok = unsafe {
        pg_sys::pg_verifymbstr(
            bytes.as_ptr() as *const std::ffi::c_char,
            bytes.len() as i32,
            true,
        )
    };
    if ok {
        Ok(Cow::Borrowed(bytes))
    } else {
        Err(KpiError::invalid_binary(
            "a text customer key or segment name is not valid in the server encoding",
        ))
    }
}

/// JSON text for the server: as it is in a UTF8 database; elsewhere with every non-ASCII
/// character written as a \u escape, which is valid in any server encoding and read back the
/// same by the types' input functions and by jsonb.
pub fn ascii_json(json: String) -> String {
    if json.is_ascii() || database_is_utf8() {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// A palloc'd cstring, as a type output function returns.
pub fn cstring_datum(text: &str) -> Datum {
    let c = std::ffi::CString::new(text).expect("state text has no NUL byte");
    unsafe { Datum::from(pg_sys::pstrdup(c.as_ptr())) }
}

/// The bytes of a (possibly toasted or short-header) varlena argument. Values stored
/// inline and uncompressed, as keys and amounts nearly always are, are read in place
/// without a call into PostgreSQL (such calls pass pgrx's FFI guard, which costs on every
/// row); only compressed or external values are detoasted.
pub unsafe fn varlena_bytes<'a>(d: Datum) -> &'a [u8] {
    // The header tests below are PostgreSQL's little-endian VARATT_IS_1B/_1B_E/_4B_U.
    const _: () = assert!(
        cfg!(target_endian = "little"),
        "varlena header tests assume little-endian"
    );
    let v = d.cast_mut_ptr::<pg_sys::varlena>();
    let first = *(v as *const u8);
    let inline = if first & 0x01 == 0x01 {
        first != 0x01 // 1-byte header; 0x01 alone marks an external TOAST pointer
    } else {
        first & 0x03 == 0x00 // 4-byte header, not compressed
    };
    let v = if inline {
        v
    } else {
        pg_sys::pg_detoast_datum_packed(v)
    };
    pgrx::varlena::varlena_to_byte_slice(v)
}

/// A new varlena of `len` payload bytes in the current memory context, filled by `fill`.
pub unsafe fn new_varlena(len: usize, fill: impl FnOnce(&mut [u8])) -> Datum {
    let total = len + pg_sys::VARHDRSZ;
    let ptr = pg_sys::palloc(total) as *mut pg_sys::varlena;
    pgrx::varlena::set_varsize_4b(ptr, total as i32);
    let payload = std::slice::from_raw_parts_mut((ptr as *mut u8).add(pg_sys::VARHDRSZ), len);
    fill(payload);
    Datum::from(ptr)
}

/// A new varlena holding `bytes`, in the current memory context.
pub unsafe fn bytes_datum(bytes: &[u8]) -> Datum {
    new_varlena(bytes.len(), |out| out.copy_from_slice(bytes))
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

/// The unread bytes of the `StringInfo` a type receive function gets; marks them read.
pub unsafe fn receive_buffer<'a>(fcinfo: FunctionCallInfo) -> &'a [u8] {
    let buf = strict_arg(fcinfo, 0).cast_mut_ptr::<pg_sys::StringInfoData>();
    let start = (*buf).cursor as usize;
    let end = (*buf).len as usize;
    (*buf).cursor = (*buf).len;
    std::slice::from_raw_parts(((*buf).data as *const u8).add(start), end - start)
}

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
    let numerator = numeric_call(pg_sys::int8_numeric, &[Some(Datum::from(numerator))]);
    let product = numeric_call(pg_sys::numeric_mul, &[Some(numerator), Some(scale)]);
    divide_by_count(product, denominator)
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

/// The payload of a plain (4-byte header, uncompressed, inline) varlena, which an aggregate
/// may update in place.
pub unsafe fn plain_payload<'a>(d: Datum) -> Option<&'a mut [u8]> {
    let v = d.cast_mut_ptr::<u8>();
    // VARATT_IS_4B_U on little-endian: low two bits 00
    if *v & 0x03 != 0 {
        return None;
    }
    let len = (std::ptr::read_unaligned(v as *const u32) >> 2) as usize;
    if len < pg_sys::VARHDRSZ {
        return None;
    }
    Some(std::slice::from_raw_parts_mut(
        v.add(pg_sys::VARHDRSZ),
        len - pg_sys::VARHDRSZ,
    ))
}

/// The flat varlena state in argument 0 to update: itself inside an aggregate (the
/// executor's own transition value), else a copy of the bytes `used` says are in use; a new
/// state of `empty()` for a NULL one. `used(bytes, own)` checks a state and returns how many
/// of its bytes are in use; `own` says it is the aggregate's own transition value (made by
/// the aggregate's functions), else a value from outside (a direct call's argument).
pub unsafe fn varlena_for_update<'a>(
    fcinfo: FunctionCallInfo,
    empty: impl FnOnce() -> Vec<u8>,
    used: impl Fn(&[u8], bool) -> usize,
) -> (Datum, &'a mut [u8]) {
    let d = match arg(fcinfo, 0) {
        None => bytes_datum(&empty()),
        Some(d) => {
            if called_as_aggregate(fcinfo) {
                if let Some(payload) = plain_payload(d) {
                    used(payload, true);
                    return (d, payload);
                }
            }
            let bytes = varlena_bytes(d);
            bytes_datum(&bytes[..used(bytes, false)])
        }
    };
    (d, plain_payload(d).expect("a new varlena is plain"))
}
