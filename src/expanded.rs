//! Growing KPI states as PostgreSQL expanded objects.
//!
//! A state that grows with its input (the set of distinct customers) lives in Rust memory
//! behind an expanded-object header. The aggregate hands the same read/write pointer back
//! to every transition call, so a row costs one hash-set insert and nothing is copied;
//! PostgreSQL asks for the flat (varlena) form only when the state must be stored or sent,
//! e.g. from a parallel worker to the leader.
//!
//! The Rust value is dropped by a reset callback on the object's own memory context, so it
//! is freed whenever PostgreSQL frees the context: at the end of the aggregate, or on ERROR.

use crate::fmgr::{
    arg, called_as_aggregate, cstring_arg, cstring_datum, new_varlena, not_in_aggregate, raise,
    receive_buffer, require_aggregate_context, return_null, strict_arg, varlena_bytes, OrRaise,
};
use kpi_core::KpiError;
use pgrx::pg_sys::{self, Datum};
use std::ffi::c_void;

/// A state that can live as an expanded object, be flattened into a varlena, be written
/// and read as text, and absorb another state of its kind.
pub trait FlatState: Clone + Sized + 'static {
    /// Payload size of the flat form, without the varlena header.
    fn flat_len(&self) -> usize;
    fn write_flat(&self, out: &mut [u8]);
    fn read_flat(bytes: &[u8]) -> Result<Self, KpiError>;
    fn to_text(&self) -> Result<String, KpiError>;
    fn from_text(text: &str) -> Result<Self, KpiError>;
    fn merge(&mut self, other: &Self) -> Result<(), KpiError>;
    /// The methods table of this type's expanded objects; also identifies them.
    fn methods() -> &'static pg_sys::ExpandedObjectMethods;
}

/// Implements [`FlatState`] for a `kpi_core` state with the usual method names
/// (`encoded_len`, `encode`, `decode`, `to_text`, `from_text`, `merge`).
#[macro_export]
macro_rules! flat_state {
    ($ty:ty) => {
        impl $crate::expanded::FlatState for $ty {
            fn flat_len(&self) -> usize {
                self.encoded_len()
            }
            fn write_flat(&self, mut out: &mut [u8]) {
                self.encode(&mut out)
            }
            fn read_flat(bytes: &[u8]) -> Result<Self, ::kpi_core::KpiError> {
                <$ty>::decode(bytes)
            }
            fn to_text(&self) -> Result<String, ::kpi_core::KpiError> {
                <$ty>::to_text(self)
            }
            fn from_text(text: &str) -> Result<Self, ::kpi_core::KpiError> {
                <$ty>::from_text(text)
            }
            fn merge(&mut self, other: &Self) -> Result<(), ::kpi_core::KpiError> {
                <$ty>::merge(self, other)
            }
            fn methods() -> &'static ::pgrx::pg_sys::ExpandedObjectMethods {
                static METHODS: ::pgrx::pg_sys::ExpandedObjectMethods =
                    ::pgrx::pg_sys::ExpandedObjectMethods {
                        get_flat_size: Some($crate::expanded::get_flat_size::<$ty>),
                        flatten_into: Some($crate::expanded::flatten_into::<$ty>),
                    };
                &METHODS
            }
        }
    };
}

#[repr(C)]
struct Expanded<T> {
    header: pg_sys::ExpandedObjectHeader,
    value: *mut T,
}

pub unsafe extern "C-unwind" fn get_flat_size<T: FlatState>(
    eoh: *mut pg_sys::ExpandedObjectHeader,
) -> usize {
    let state = &*(*(eoh as *mut Expanded<T>)).value;
    state.flat_len() + pg_sys::VARHDRSZ
}

pub unsafe extern "C-unwind" fn flatten_into<T: FlatState>(
    eoh: *mut pg_sys::ExpandedObjectHeader,
    result: *mut c_void,
    allocated_size: usize,
) {
    let state = &*(*(eoh as *mut Expanded<T>)).value;
    pgrx::varlena::set_varsize_4b(result as *mut pg_sys::varlena, allocated_size as i32);
    let payload = std::slice::from_raw_parts_mut(
        (result as *mut u8).add(pg_sys::VARHDRSZ),
        allocated_size - pg_sys::VARHDRSZ,
    );
    state.write_flat(payload);
}

unsafe extern "C-unwind" fn drop_value<T>(arg: *mut c_void) {
    drop(Box::from_raw(arg as *mut T));
}

/// Wraps `value` in a new expanded object whose memory context is a child of `parent`, and
/// returns its read/write datum. Under an aggregate, `parent` must be the aggregate context:
/// PostgreSQL then adopts the object as the transition value without copying it.
pub unsafe fn new_expanded<T: FlatState>(value: T, parent: pg_sys::MemoryContext) -> Datum {
    let cx = pg_sys::AllocSetContextCreateInternal(
        parent,
        c"support_kpi state".as_ptr(),
        0,
        1024,
        8 * 1024,
    );
    let obj =
        pg_sys::MemoryContextAlloc(cx, std::mem::size_of::<Expanded<T>>()) as *mut Expanded<T>;
    pg_sys::EOH_init_header(&mut (*obj).header, T::methods(), cx);
    let value = Box::into_raw(Box::new(value));
    (*obj).value = value;
    let callback =
        pg_sys::MemoryContextAlloc(cx, std::mem::size_of::<pg_sys::MemoryContextCallback>())
            as *mut pg_sys::MemoryContextCallback;
    (*callback).func = Some(drop_value::<T>);
    (*callback).arg = value as *mut c_void;
    pg_sys::MemoryContextRegisterResetCallback(cx, callback);
    Datum::from((*obj).header.eoh_rw_ptr.as_mut_ptr())
}

/// The state behind `d` if `d` points to one of our expanded objects (read/write or read-only).
unsafe fn expanded_value<T: FlatState>(d: Datum) -> Option<(*mut T, bool)> {
    let ptr = d.cast_mut_ptr::<pg_sys::varlena>();
    if !pgrx::varlena::varatt_is_1b_e(ptr) {
        return None;
    }
    let tag = pgrx::varlena::vartag_external(ptr) as u32;
    if !pgrx::varlena::vartag_is_expanded(tag) {
        return None;
    }
    // DatumGetEOHP, inlined: the header pointer follows the two-byte external varlena header.
    let eoh = std::ptr::read_unaligned(
        (ptr as *const u8).add(2) as *const *mut pg_sys::ExpandedObjectHeader
    );
    if !std::ptr::eq((*eoh).eoh_methods, T::methods()) {
        raise(KpiError::invalid_binary(
            "expanded value of another type passed as a KPI state",
        ));
    }
    let read_write = tag == pg_sys::vartag_external::VARTAG_EXPANDED_RW;
    Some(((*(eoh as *mut Expanded<T>)).value, read_write))
}

/// Runs `f` on the state behind `d`, expanded or flat, without copying an expanded one.
pub unsafe fn with_state<T: FlatState, R>(d: Datum, f: impl FnOnce(&T) -> R) -> R {
    match expanded_value::<T>(d) {
        Some((value, _)) => f(&*value),
        None => f(&T::read_flat(varlena_bytes(d)).or_raise()),
    }
}

/// The transition value to update for this call: the read/write object itself when the
/// aggregate passes one back (every row but the first), else a new object in the aggregate's
/// memory context holding a copy of `current` (a flat or read-only value) or `init()` (no
/// state yet). `function` names the caller in the error raised outside an aggregate.
pub unsafe fn state_for_update<'a, T: FlatState>(
    fcinfo: pg_sys::FunctionCallInfo,
    function: &str,
    current: Option<Datum>,
    init: impl FnOnce() -> T,
) -> (Datum, &'a mut T) {
    let value = match current {
        Some(d) => match expanded_value::<T>(d) {
            Some((value, true)) => return (d, &mut *value),
            Some((value, false)) => (*value).clone(),
            None => T::read_flat(varlena_bytes(d)).or_raise(),
        },
        None => init(),
    };
    let d = new_expanded(value, require_aggregate_context(fcinfo, function));
    let (value, _) = expanded_value::<T>(d).expect("just created");
    (d, &mut *value)
}

/// The flat varlena form of a state, in the current memory context.
pub unsafe fn flat_datum<T: FlatState>(state: &T) -> Datum {
    new_varlena(state.flat_len(), |out| state.write_flat(out))
}

/// The combine function of a growing state: merges two partial states (parallel workers,
/// states shipped from other servers, `rollup()` of stored summaries).
pub unsafe fn combine_states<T: FlatState>(fcinfo: pg_sys::FunctionCallInfo, name: &str) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate(name);
    }
    let (current, other) = (arg(fcinfo, 0), arg(fcinfo, 1));
    let Some(other) = other else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    match current {
        None => state_for_update::<T>(fcinfo, name, Some(other), || unreachable!()).0,
        Some(current) => {
            let (d, state) = state_for_update::<T>(fcinfo, name, Some(current), || unreachable!());
            with_state(other, |other: &T| state.merge(other)).or_raise();
            d
        }
    }
}

/// Type input function: the text form, validated, stored flat.
pub unsafe fn state_in<T: FlatState>(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    flat_datum(&T::from_text(cstring_arg(fcinfo, 0)).or_raise())
}

/// Type output function.
pub unsafe fn state_out<T: FlatState>(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    let text = with_state(strict_arg(fcinfo, 0), |s: &T| s.to_text()).or_raise();
    cstring_datum(&text)
}

/// Type receive function. Decoding validates the bytes and drops duplicate keys;
/// re-encoding stores them canonically.
pub unsafe fn state_recv<T: FlatState>(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    flat_datum(&T::read_flat(receive_buffer(fcinfo)).or_raise())
}

/// Type send function: the flat form is the binary form.
pub unsafe fn state_send<T: FlatState>(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    with_state(strict_arg(fcinfo, 0), |s: &T| flat_datum(s))
}
