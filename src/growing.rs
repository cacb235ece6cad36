//! Growing KPI states (`customer_rate_summary`, `segment_rate_summary`) as flat varlenas.
//!
//! The whole state, the set of distinct customers included, is one value in PostgreSQL
//! memory (`kpi_core::flat`, format version 2). Called as an aggregate transition, a support
//! function updates the transition value in place; when it is full, it builds a larger copy
//! in the current (per-row) memory context and returns it, and the executor moves that copy
//! into the aggregate's memory and frees the old one. So:
//! - every byte of a state is in the aggregate's memory context, where hash aggregation
//!   counts it against `work_mem` and spills when needed;
//! - a state costs no memory context of its own, so thousands to millions of groups cost
//!   linear time;
//! - nothing is freed by Rust: an ERROR or a cancelled query leaves nothing behind.
//!
//! States of format version 1 (stored by support_kpi 0.1.0) are read wherever a state is
//! read, and converted when they are updated.

use crate::fmgr::{
    arg, called_as_aggregate, cstring_datum, not_in_aggregate, raise, raise_with, return_null,
    strict_arg, OrRaise,
};
use kpi_core::flat::{self, Insert, Key, OwnedState, Plan, Table, View};
use kpi_core::{CustomerRate, KeyType, KpiError, SegmentRate};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use pgrx::PgSqlErrorCode;
use std::borrow::Cow;

/// Checks for a query cancel or statement timeout; long loops over a state call it.
#[inline]
pub fn check_interrupts() {
    pgrx::check_for_interrupts!();
}

/// The payload of a plain (4-byte header, uncompressed, inline) varlena we may update.
unsafe fn plain_payload<'a>(d: Datum) -> Option<&'a mut [u8]> {
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

/// A new varlena of `len` payload bytes in the current memory context.
unsafe fn alloc_state<'a>(len: usize) -> (Datum, &'a mut [u8]) {
    if len > flat::MAX_BYTES {
        raise(flat::too_large());
    }
    let total = len + pg_sys::VARHDRSZ;
    let ptr = pg_sys::palloc(total) as *mut u8;
    pgrx::varlena::set_varsize_4b(ptr as *mut pg_sys::varlena, total as i32);
    (
        Datum::from(ptr),
        std::slice::from_raw_parts_mut(ptr.add(pg_sys::VARHDRSZ), len),
    )
}

unsafe fn datum_from_owned<'a>(state: &OwnedState) -> (Datum, &'a mut [u8]) {
    let (d, b) = alloc_state(state.0.len());
    b.copy_from_slice(&state.0);
    (d, b)
}

/// Which growing state a function works on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Customer,
    Segment,
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Customer => "customer_rate_summary",
            Kind::Segment => "segment_rate_summary",
        }
    }
}

/// A state in format version 2 from the bytes of any stored or sent version.
fn upgrade(kind: Kind, bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    if flat::is_v2(bytes) {
        let v = View::new(bytes)?;
        if v.is_segment() != (kind == Kind::Segment) {
            return Err(KpiError::invalid_binary(format!(
                "value is not a {}",
                kind.type_name()
            )));
        }
        return Ok(Cow::Borrowed(bytes));
    }
    let owned = match kind {
        Kind::Customer => {
            customer_to_flat(&CustomerRate::decode(bytes)?, &|b| Ok(Cow::Borrowed(b)))?
        }
        Kind::Segment => segment_to_flat(&SegmentRate::decode(bytes)?, &|b| Ok(Cow::Borrowed(b)))?,
    };
    Ok(Cow::Owned(owned.0))
}

/// Runs `f` on the state behind `d` (any stored version, toasted or not).
pub unsafe fn with_view<R>(kind: Kind, d: Datum, f: impl FnOnce(View<'_>) -> R) -> R {
    let bytes = crate::fmgr::varlena_bytes(d);
    let b = upgrade(kind, bytes).or_raise();
    f(View::new(&b).or_raise())
}

/// The transition value to update: argument 0 itself when it is a plain version-2 value
/// (inside an aggregate, where the executor owns it), else a new copy; or a new empty state.
unsafe fn state_for_update<'a>(
    fcinfo: FunctionCallInfo,
    kind: Kind,
    current: Option<Datum>,
    key_type: KeyType,
) -> (Datum, &'a mut [u8]) {
    if let Some(d) = current {
        if let Some(b) = plain_payload(d) {
            if flat::is_v2(b)
                && View::new(b).is_ok_and(|v| v.is_segment() == (kind == Kind::Segment))
            {
                return (d, b);
            }
        }
        let bytes = crate::fmgr::varlena_bytes(d);
        let b = upgrade(kind, bytes).or_raise();
        let (nd, nb) = alloc_state(b.len());
        nb.copy_from_slice(&b);
        let _ = fcinfo;
        return (nd, nb);
    }
    let len = match kind {
        Kind::Customer => flat::initial_len_customer(key_type),
        Kind::Segment => flat::initial_len_segment(key_type),
    };
    let (d, b) = alloc_state(len);
    match kind {
        Kind::Customer => flat::init_customer(b, key_type),
        Kind::Segment => flat::init_segment(b, key_type),
    }
    (d, b)
}

/// A larger copy of the state, laid out by `plan`.
unsafe fn grow<'a>(b: &[u8], plan: &Plan) -> (Datum, &'a mut [u8]) {
    let len = flat::planned_len(b, plan).or_raise();
    let (d, nb) = alloc_state(len);
    flat::rebuild(b, plan, nb).or_raise();
    (d, nb)
}

/// A state being updated by one support-function call: in place while it has room.
pub struct Updating<'a> {
    pub datum: Datum,
    pub bytes: &'a mut [u8],
}

impl Updating<'_> {
    pub unsafe fn begin(
        fcinfo: FunctionCallInfo,
        function: &str,
        kind: Kind,
        current: Option<Datum>,
        key_type: KeyType,
    ) -> Self {
        if !called_as_aggregate(fcinfo) {
            not_in_aggregate(function);
        }
        let (datum, bytes) = state_for_update(fcinfo, kind, current, key_type);
        Updating { datum, bytes }
    }

    /// Runs an insert, growing the state until it fits.
    #[inline]
    pub unsafe fn insert(
        &mut self,
        mut op: impl FnMut(&mut Table<'_>) -> Result<Insert, KpiError>,
    ) -> bool {
        loop {
            let r = {
                let mut t = Table::new(self.bytes).or_raise();
                op(&mut t).or_raise()
            };
            match r {
                Insert::Added => return true,
                Insert::Present => return false,
                Insert::Grow(plan) => {
                    let (d, b) = grow(self.bytes, &plan);
                    self.datum = d;
                    self.bytes = b;
                }
            }
        }
    }

    pub unsafe fn ensure_segment(&mut self, name: &[u8]) -> u32 {
        loop {
            let r = Table::new(self.bytes)
                .or_raise()
                .ensure_segment(name)
                .or_raise();
            match r {
                Ok(id) => return id,
                Err(plan) => {
                    let (d, b) = grow(self.bytes, &plan);
                    self.datum = d;
                    self.bytes = b;
                }
            }
        }
    }

    pub fn table(&mut self) -> Table<'_> {
        Table::new(self.bytes).or_raise()
    }
}

/// The combine function of a growing state: merges two partial states (parallel workers,
/// states shipped from other servers, `rollup()` of stored summaries).
pub unsafe fn combine(fcinfo: FunctionCallInfo, kind: Kind, name: &str) -> Datum {
    if !called_as_aggregate(fcinfo) {
        not_in_aggregate(name);
    }
    let (current, other) = (arg(fcinfo, 0), arg(fcinfo, 1));
    let Some(other) = other else {
        return current.unwrap_or_else(|| return_null(fcinfo));
    };
    with_view(kind, other, |o| {
        let mut st = Updating::begin(fcinfo, name, kind, current, o.key_type());
        let kt = o.key_type();
        {
            let v = View::new(st.bytes).or_raise();
            if v.key_type() != kt {
                raise(kpi_core::keys::key_type_mismatch(v.key_type(), kt));
            }
        }
        match kind {
            Kind::Customer => {
                o.for_each_key(&mut check_interrupts, &mut |_, bytes| {
                    let key = flat::key_from_bytes(kt, bytes)?;
                    st.insert(|t| t.insert_customer(key));
                    Ok(())
                })
                .or_raise();
                st.table().add_events(o.events()).or_raise();
            }
            Kind::Segment => {
                let segments = o.segments().or_raise();
                for (_, name, _, events) in &segments {
                    st.ensure_segment(name);
                    st.insert_events(name, *events);
                }
                o.for_each_key(&mut check_interrupts, &mut |seg, bytes| {
                    let seg = seg.unwrap_or(u32::MAX) as usize;
                    let (_, name, _, _) = segments
                        .get(seg)
                        .ok_or_else(|| KpiError::invalid_binary("corrupt KPI state: segment id"))?;
                    let key = flat::key_from_bytes(kt, bytes)?;
                    st.insert(|t| t.insert_segment_row(name, key, 0));
                    Ok(())
                })
                .or_raise();
            }
        }
        st.datum
    })
}

impl Updating<'_> {
    unsafe fn insert_events(&mut self, name: &[u8], events: i64) {
        if events == 0 {
            return;
        }
        self.ensure_segment(name);
        Table::new(self.bytes)
            .or_raise()
            .add_segment_events(name, events)
            .or_raise();
    }
}

// --- conversions between the flat form and the text and version-1 binary forms ------------

/// Maps text keys and segment names between the form of a state (UTF-8 in its text form)
/// and the server encoding.
pub type Recode<'r> = &'r dyn Fn(&[u8]) -> Result<Cow<'_, [u8]>, KpiError>;

pub fn customer_to_flat(state: &CustomerRate, recode: Recode) -> Result<OwnedState, KpiError> {
    let kt = state.key_type();
    let mut out = OwnedState::customer(kt);
    let mut n = 0;
    state.customers.for_each_key(&mut |k| {
        n += 1;
        if n % 4096 == 0 {
            check_interrupts();
        }
        let text;
        let key = match k {
            kpi_core::keys::KeyRef::Int(i) => Key::Int(i),
            kpi_core::keys::KeyRef::Uuid(u) => Key::Uuid(u.to_be_bytes()),
            kpi_core::keys::KeyRef::Text(t) => {
                text = recode(t)?;
                Key::Text(&text)
            }
        };
        if !out.insert_customer(key)? {
            return Err(KpiError::invalid_text("duplicate customer key"));
        }
        Ok(())
    })?;
    out.add_events(state.events)?;
    Ok(out)
}

pub fn segment_to_flat(state: &SegmentRate, recode: Recode) -> Result<OwnedState, KpiError> {
    let kt = state.key_type;
    let mut out = OwnedState::segment(kt);
    let mut n = 0;
    for (name, _, _) in state.counts() {
        let s = &state.segments[name];
        let name = recode(name)?;
        out.ensure_segment(&name)?;
        if s.events > 0 && s.customers.is_empty() {
            return Err(KpiError::invalid_text(
                "a segment has events but no customers",
            ));
        }
        s.customers.for_each_key(&mut |k| {
            n += 1;
            if n % 4096 == 0 {
                check_interrupts();
            }
            let text;
            let key = match k {
                kpi_core::keys::KeyRef::Int(i) => Key::Int(i),
                kpi_core::keys::KeyRef::Uuid(u) => Key::Uuid(u.to_be_bytes()),
                kpi_core::keys::KeyRef::Text(t) => {
                    text = recode(t)?;
                    Key::Text(&text)
                }
            };
            out.insert_segment_row(&name, key, 0)?;
            Ok(())
        })?;
        if s.customers.is_empty() {
            return Err(KpiError::invalid_text("a segment has no customers"));
        }
        let mut t = Table::new(&mut out.0)?;
        t.add_segment_events(&name, s.events)?;
    }
    Ok(out)
}

/// The decoded (version-1) form of a flat customer state.
pub fn customer_from_flat(v: View<'_>, recode: Recode) -> Result<CustomerRate, KpiError> {
    let kt = v.key_type();
    let mut state = CustomerRate::new(kt);
    v.for_each_key(&mut check_interrupts, &mut |_, bytes| {
        insert_decoded(&mut state.customers, kt, bytes, recode)
    })?;
    state.events = v.events();
    Ok(state)
}

fn insert_decoded(
    keys: &mut kpi_core::KeySet,
    kt: KeyType,
    bytes: &[u8],
    recode: Recode,
) -> Result<(), KpiError> {
    match flat::key_from_bytes(kt, bytes)? {
        Key::Int(i) => keys.insert_int(i),
        Key::Uuid(u) => keys.insert_uuid(u),
        Key::Text(t) => keys.insert_text(&recode(t)?),
    }
    Ok(())
}

pub fn segment_from_flat(v: View<'_>, recode: Recode) -> Result<SegmentRate, KpiError> {
    let kt = v.key_type();
    let mut state = SegmentRate::new(kt);
    let segments = v.segments()?;
    let mut names = Vec::with_capacity(segments.len());
    for (_, name, _, events) in &segments {
        let name = recode(name)?.into_owned();
        state.segment(&name).events = *events;
        names.push(name);
    }
    v.for_each_key(&mut check_interrupts, &mut |seg, bytes| {
        let name = names
            .get(seg.unwrap_or(u32::MAX) as usize)
            .ok_or_else(|| KpiError::invalid_binary("corrupt KPI state: segment id"))?;
        let s = state
            .segments
            .get_mut(&name[..])
            .expect("segment added above");
        insert_decoded(&mut s.customers, kt, bytes, recode)
    })?;
    Ok(state)
}

// --- the server encoding -------------------------------------------------------------------

fn database_is_utf8() -> bool {
    unsafe { pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32 }
}

/// Server-encoded bytes as UTF-8 (the text form of a state is UTF-8 JSON, ASCII on the wire).
pub fn server_to_utf8(bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    if database_is_utf8() || bytes.is_ascii() {
        return Ok(Cow::Borrowed(bytes));
    }
    unsafe {
        let p = pg_sys::pg_server_to_any(
            bytes.as_ptr() as *const std::ffi::c_char,
            bytes.len() as i32,
            pg_sys::pg_enc::PG_UTF8 as i32,
        );
        if p as *const u8 == bytes.as_ptr() {
            return Ok(Cow::Borrowed(bytes));
        }
        Ok(Cow::Owned(std::ffi::CStr::from_ptr(p).to_bytes().to_vec()))
    }
}

/// UTF-8 bytes in the server encoding (an ERROR names a character it cannot represent).
pub fn utf8_to_server(bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    if database_is_utf8() || bytes.is_ascii() {
        return Ok(Cow::Borrowed(bytes));
    }
    unsafe {
        let p = pg_sys::pg_any_to_server(
            bytes.as_ptr() as *const std::ffi::c_char,
            bytes.len() as i32,
            pg_sys::pg_enc::PG_UTF8 as i32,
        );
        if p as *const u8 == bytes.as_ptr() {
            return Ok(Cow::Borrowed(bytes));
        }
        Ok(Cow::Owned(std::ffi::CStr::from_ptr(p).to_bytes().to_vec()))
    }
}

/// Checks that received key or name bytes are valid text in the server encoding.
pub fn verify_server_text(bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
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
/// same by the type's input function and by jsonb.
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

/// The cstring argument of a type input function, as UTF-8.
pub unsafe fn input_text<'a>(fcinfo: FunctionCallInfo) -> Cow<'a, str> {
    let c = std::ffi::CStr::from_ptr(strict_arg(fcinfo, 0).cast_mut_ptr::<std::ffi::c_char>());
    let bytes = server_to_utf8(c.to_bytes()).or_raise();
    match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or_else(|_| not_utf8())),
        Cow::Owned(b) => Cow::Owned(String::from_utf8(b).unwrap_or_else(|_| not_utf8())),
    }
}

fn not_utf8() -> ! {
    raise_with(
        PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
        "KPI state text is not valid UTF-8".into(),
        None,
    )
}

/// Output function result: ASCII JSON.
pub fn output_datum(json: String) -> Datum {
    cstring_datum(&ascii_json(json))
}

/// The datum of a new state for a type input or receive function.
pub unsafe fn state_datum(state: &OwnedState) -> Datum {
    datum_from_owned(state).0
}

pub fn strict_state(fcinfo: FunctionCallInfo) -> Datum {
    unsafe { strict_arg(fcinfo, 0) }
}
