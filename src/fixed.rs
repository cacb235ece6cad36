//! Fixed-size KPI states (`share_summary`, `duration_summary`, `survey_summary`, `cost_summary`,
//! `score_summary`) as pass-by-reference SQL values of `size_of::<T>()` bytes.
//!
//! Such a state is updated in place when the function runs as an
//! aggregate transition (the value lives in the aggregate's memory and nobody else sees it),
//! and copied when the function is called directly, since a plain function must not modify
//! its input. No per-row allocation, no decoding.

use crate::fmgr::{
    arg, bytes_datum, called_as_aggregate, cstring_datum, input_text, raise, raise_with,
    receive_buffer, return_null, strict_arg, OrRaise,
};
use kpi_core::{CostTotal, Durations, KpiError, Scores, Share, SurveyCounts};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;

/// A `#[repr(C)]`, plain-old-data state whose SQL type has `INTERNALLENGTH = size_of::<Self>()`
/// and `ALIGNMENT = double`.
pub trait FixedState: Copy + 'static {
    /// The SQL type's name, for error messages.
    const SQL_NAME: &'static str;
    /// The state a NULL transition value stands for, when a support function that is not
    /// STRICT gets one (a direct call, or an aggregate declared without an initial value).
    fn empty() -> Option<Self>;
    /// The format byte of the stored layout: the high byte of its first 8-byte field
    /// (`kpi_core::error::layout_byte`), 0 for the layout every version so far writes.
    fn layout_byte(&self) -> u8 {
        // every state is #[repr(C)] with an i64 first and 8-byte alignment (checked below)
        kpi_core::error::layout_byte(unsafe { *(self as *const Self as *const i64) })
    }
    fn to_text(&self) -> String;
    fn from_text(text: &str) -> Result<Self, KpiError>;
    fn to_bytes(&self) -> Vec<u8>;
    fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError>;
    fn merge(&mut self, other: &Self) -> Result<(), KpiError>;
}

/// `fixed_state!(Type, "sql_type_name" => empty, ...)`: the trait through the type's own
/// methods, with the state a NULL stands for.
macro_rules! fixed_state {
    ($($ty:ty, $name:literal => $empty:expr),*) => {$(
        impl FixedState for $ty {
            const SQL_NAME: &'static str = $name;
            fn empty() -> Option<Self> { $empty }
            fn to_text(&self) -> String { <$ty>::to_text(self) }
            fn from_text(text: &str) -> Result<Self, KpiError> { <$ty>::from_text(text) }
            fn to_bytes(&self) -> Vec<u8> { <$ty>::to_bytes(self) }
            fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> { <$ty>::from_bytes(bytes) }
            fn merge(&mut self, other: &Self) -> Result<(), KpiError> { <$ty>::merge(self, other) }
        }
    )*};
}

// A survey state names its survey: a NULL one cannot stand for any.
fixed_state!(
    Durations, "duration_summary" => Some(Durations::default()),
    CostTotal, "cost_summary" => Some(CostTotal::default()),
    Scores, "score_summary" => Some(Scores::default()),
    SurveyCounts, "survey_summary" => None
);

/// `share_summary`'s binary form is its 16 bytes, big-endian, without a separate version byte
/// (it predates them): its first byte, the high byte of `hits`, is the format byte (0).
impl FixedState for Share {
    const SQL_NAME: &'static str = "share_summary";
    fn empty() -> Option<Self> {
        Some(Share::default())
    }
    fn to_text(&self) -> String {
        Share::to_text(self)
    }
    fn from_text(text: &str) -> Result<Self, KpiError> {
        Share::from_text(text)
    }
    fn to_bytes(&self) -> Vec<u8> {
        Share::to_bytes(self).to_vec()
    }
    fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> {
        Share::from_bytes(bytes)
    }
    fn merge(&mut self, other: &Self) -> Result<(), KpiError> {
        Share::merge(self, other)
    }
}

// The SQL types declare these sizes; a change here must change sql/*.sql too. Each starts
// with an 8-byte field and is 8-byte aligned: FixedState::layout_byte reads that field.
const _: () = assert!(std::mem::align_of::<Share>() == 8 && std::mem::align_of::<Durations>() == 8);
const _: () =
    assert!(std::mem::align_of::<SurveyCounts>() == 8 && std::mem::align_of::<CostTotal>() == 8);
const _: () = assert!(std::mem::size_of::<Share>() == kpi_core::share_rate::SHARE_BYTES);
const _: () = assert!(std::mem::size_of::<Durations>() == kpi_core::durations::DURATIONS_BYTES);
const _: () = assert!(std::mem::size_of::<SurveyCounts>() == kpi_core::surveys::SURVEY_BYTES);
const _: () = assert!(std::mem::size_of::<CostTotal>() == kpi_core::resolution_cost::COST_BYTES);
const _: () = assert!(
    std::mem::align_of::<Scores>() == 8
        && std::mem::size_of::<Scores>() == kpi_core::scores::SCORES_BYTES
);

/// A new state value in the current memory context.
pub unsafe fn fixed_datum<T: FixedState>(value: T) -> Datum {
    let ptr = pg_sys::palloc(std::mem::size_of::<T>()) as *mut T;
    ptr.write(value);
    Datum::from(ptr)
}

/// Argument `n`, a state, of a function that is STRICT in it (or has checked it).
pub unsafe fn fixed_arg<'a, T: FixedState>(fcinfo: FunctionCallInfo, n: usize) -> &'a T {
    known_layout(&*strict_arg(fcinfo, n).cast_mut_ptr::<T>())
}

/// A stored state of this build's layout; a value written in a later layout is an ERROR
/// (22P03) that says so, never misread.
#[inline]
fn known_layout<T: FixedState>(state: &T) -> &T {
    match state.layout_byte() {
        0 => state,
        byte => raise(kpi_core::error::newer_layout(T::SQL_NAME, byte)),
    }
}

/// The state in argument 0 to update: itself inside an aggregate, else a copy; a new empty
/// state for a NULL one.
pub unsafe fn fixed_for_update<'a, T: FixedState>(fcinfo: FunctionCallInfo) -> (Datum, &'a mut T) {
    let d = match arg(fcinfo, 0) {
        None => fixed_datum(T::empty().unwrap_or_else(|| {
            raise_with(
                PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                "the KPI state is NULL".into(),
                Some("Start the aggregate from the initial value its definition gives.".into()),
            )
        })),
        Some(d) if called_as_aggregate(fcinfo) => d,
        Some(d) => fixed_datum(*known_layout(&*d.cast_mut_ptr::<T>())),
    };
    (d, &mut *d.cast_mut_ptr::<T>())
}

/// Updates the state of a transition function with `f` and returns it.
pub unsafe fn update_fixed<T: FixedState>(
    fcinfo: FunctionCallInfo,
    f: impl FnOnce(&mut T) -> Result<(), KpiError>,
) -> Datum {
    let (d, state) = fixed_for_update::<T>(fcinfo);
    f(state).or_raise();
    d
}

pub unsafe fn fixed_combine<T: FixedState>(fcinfo: FunctionCallInfo) -> Datum {
    let other = *fixed_arg::<T>(fcinfo, 1);
    update_fixed::<T>(fcinfo, |state| state.merge(&other))
}

pub unsafe fn fixed_in<T: FixedState>(fcinfo: FunctionCallInfo) -> Datum {
    fixed_datum(T::from_text(&input_text(fcinfo)).or_raise())
}

pub unsafe fn fixed_out<T: FixedState>(fcinfo: FunctionCallInfo) -> Datum {
    cstring_datum(&fixed_arg::<T>(fcinfo, 0).to_text())
}

pub unsafe fn fixed_recv<T: FixedState>(fcinfo: FunctionCallInfo) -> Datum {
    fixed_datum(T::from_bytes(receive_buffer(fcinfo)).or_raise())
}

pub unsafe fn fixed_send<T: FixedState>(fcinfo: FunctionCallInfo) -> Datum {
    bytes_datum(&fixed_arg::<T>(fcinfo, 0).to_bytes())
}

/// Argument 0 unchanged, for a transition function that skips a row (NULL stays NULL).
pub unsafe fn unchanged_state(fcinfo: FunctionCallInfo) -> Datum {
    arg(fcinfo, 0).unwrap_or_else(|| return_null(fcinfo))
}
