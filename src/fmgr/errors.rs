//! KPI errors raised as SQL ERRORs, with the SQLSTATE of their kind and their hint.

use kpi_core::{KpiError, KpiErrorKind};
use pgrx::{PgLogLevel, PgSqlErrorCode};

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
