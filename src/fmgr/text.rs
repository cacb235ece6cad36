//! Text in the server encoding: the types' text input and output (JSON, UTF-8 inside), keys
//! and names converted from and to the server encoding.

use super::{raise_with, strict_arg, OrRaise};
use kpi_core::KpiError;
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;
use std::borrow::Cow;
use std::ffi::CStr;

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
/// A jsonb datum of a JSON text written in UTF-8 (made ASCII outside UTF8 databases, so it
/// reads in any server encoding).
pub unsafe fn jsonb_datum(json: String) -> Datum {
    let cstr = cstring_datum(&ascii_json(json));
    pgrx::direct_function_call_as_datum(pg_sys::jsonb_in, &[Some(cstr)])
        .expect("jsonb_in returns a value")
}

pub fn cstring_datum(text: &str) -> Datum {
    let c = std::ffi::CString::new(text).expect("state text has no NUL byte");
    unsafe { Datum::from(pg_sys::pstrdup(c.as_ptr())) }
}
