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
//! read, and converted when they are updated. The text and binary forms are those of
//! `kpi_core::CustomerRate` and `kpi_core::SegmentRate` ([`Summary`]); the type I/O functions
//! here are written once for both.

use crate::fmgr::{
    arg, as_is, bytes_datum, called_as_aggregate, input_text, not_in_aggregate, output_datum,
    plain_payload, raise, receive_buffer, return_null, server_to_utf8, strict_arg, utf8_to_server,
    verify_server_text, OrRaise,
};
use kpi_core::flat::{self, Insert, Key, OwnedState, Plan, Table, View};
use kpi_core::keys::KeyRef;
use kpi_core::{CustomerRate, KeySet, KeyType, KpiError, SegmentRate};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use std::borrow::Cow;

/// Checks for a query cancel or statement timeout; long loops over a state call it.
#[inline]
pub fn check_interrupts() {
    pgrx::check_for_interrupts!();
}

/// Checks for interrupts every 4096 calls.
fn tick(n: &mut usize) {
    *n += 1;
    if (*n).is_multiple_of(4096) {
        check_interrupts();
    }
}

/// Maps text keys and segment names between the form of a state (UTF-8 in its text form)
/// and the server encoding, or checks them.
pub type Recode<'r> = &'r dyn Fn(&[u8]) -> Result<Cow<'_, [u8]>, KpiError>;

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

    fn check(self, v: &View<'_>) -> Result<(), KpiError> {
        if v.is_segment() != (self == Kind::Segment) {
            return Err(KpiError::invalid_binary(format!(
                "value is not a {}",
                self.type_name()
            )));
        }
        Ok(())
    }
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

/// The datum of a new state, e.g. for a type input or receive function.
pub unsafe fn state_datum(state: &OwnedState) -> Datum {
    bytes_datum(&state.0)
}

/// A state in format version 2 from the bytes of any stored or sent version.
fn upgrade(kind: Kind, bytes: &[u8]) -> Result<Cow<'_, [u8]>, KpiError> {
    if flat::is_v2(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let owned = match kind {
        Kind::Customer => CustomerRate::decode(bytes)?.to_flat(&as_is)?,
        Kind::Segment => SegmentRate::decode(bytes)?.to_flat(&as_is)?,
    };
    Ok(Cow::Owned(owned.0))
}

/// Runs `f` on the state behind `d` (any stored version, toasted or not).
pub unsafe fn with_view<R>(kind: Kind, d: Datum, f: impl FnOnce(View<'_>) -> R) -> R {
    let b = upgrade(kind, crate::fmgr::varlena_bytes(d)).or_raise();
    let v = View::new(&b).or_raise();
    kind.check(&v).or_raise();
    f(v)
}

/// A state being updated by one support-function call: in place while it has room. The
/// caller has checked that it runs as an aggregate, so argument 0 is the executor's own
/// transition value.
pub struct Updating<'a> {
    pub datum: Datum,
    table: Table<'a>,
}

impl<'a> Updating<'a> {
    /// Argument 0 itself when it is a plain version-2 value of `kind`, else an upgraded copy;
    /// a new empty state when there is none.
    pub unsafe fn begin(kind: Kind, current: Option<Datum>, key_type: KeyType) -> Self {
        if let Some(d) = current {
            if let Some(table) = plain_payload(d).and_then(|b| Table::new(b).ok()) {
                if kind.check(&table.view()).is_ok() {
                    return Updating { datum: d, table };
                }
            }
            let b = upgrade(kind, crate::fmgr::varlena_bytes(d)).or_raise();
            kind.check(&View::new(&b).or_raise()).or_raise();
            let (datum, nb) = alloc_state(b.len());
            nb.copy_from_slice(&b);
            return Updating {
                datum,
                table: Table::new(nb).or_raise(),
            };
        }
        let (datum, b) = match kind {
            Kind::Customer => alloc_state(flat::initial_len_customer(key_type)),
            Kind::Segment => alloc_state(flat::initial_len_segment(key_type)),
        };
        match kind {
            Kind::Customer => flat::init_customer(b, key_type),
            Kind::Segment => flat::init_segment(b, key_type),
        }
        Updating {
            datum,
            table: Table::new(b).or_raise(),
        }
    }

    /// Replaces the state by a larger copy laid out by `plan`.
    unsafe fn grow(&mut self, plan: &Plan) {
        let old = self.table.bytes();
        let (datum, b) = alloc_state(flat::planned_len(old, plan).or_raise());
        flat::rebuild(old, plan, b).or_raise();
        self.datum = datum;
        self.table = Table::new(b).or_raise();
    }

    /// Runs an insert, growing the state until it fits; whether the key was new.
    #[inline]
    pub unsafe fn insert(
        &mut self,
        mut op: impl FnMut(&mut Table<'a>) -> Result<Insert, KpiError>,
    ) -> bool {
        loop {
            match op(&mut self.table).or_raise() {
                Insert::Added => return true,
                Insert::Present => return false,
                Insert::Grow(plan) => self.grow(&plan),
            }
        }
    }

    /// Adds `events` to segment `name`, adding the segment if new.
    pub unsafe fn add_segment_events(&mut self, name: &[u8], events: i64) {
        loop {
            match self.table.add_segment_events(name, events).or_raise() {
                Ok(_) => return,
                Err(plan) => self.grow(&plan),
            }
        }
    }

    pub fn table(&mut self) -> &mut Table<'a> {
        &mut self.table
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
    if current.is_none() {
        // the first state (`rollup` starts without one): a copy of it, validated whole as a
        // value read from a table must be before the aggregate updates it in place
        return first_state(kind, other);
    }
    with_view(kind, other, |o| {
        let kt = o.key_type();
        let mut st = Updating::begin(kind, current, kt);
        let own = st.table().view().key_type();
        if own != kt {
            raise(kpi_core::keys::key_type_mismatch(own, kt));
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
                    st.add_segment_events(name, *events);
                }
                o.for_each_key(&mut check_interrupts, &mut |seg, bytes| {
                    let (_, name, _, _) = seg
                        .and_then(|s| segments.get(s as usize))
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

/// A copy of `d` (any stored version, as version 2), validated whole, to become the state of
/// an aggregate: about the cost of a copy, where inserting its keys one by one into an empty
/// state costs a hash insert per customer.
unsafe fn first_state(kind: Kind, d: Datum) -> Datum {
    let b = upgrade(kind, crate::fmgr::varlena_bytes(d)).or_raise();
    flat::validate(&b).or_raise();
    kind.check(&View::new(&b).or_raise()).or_raise();
    bytes_datum(&b)
}

// --- the text and version-1 binary forms ---------------------------------------------------

/// A growing state's decoded form: what its text form and its binary (version 1) form are
/// read into and written from.
pub trait Summary: Sized {
    const KIND: Kind;
    fn decode(bytes: &[u8]) -> Result<Self, KpiError>;
    fn to_bytes(&self) -> Vec<u8>;
    fn from_text(text: &str) -> Result<Self, KpiError>;
    fn to_text(&self) -> Result<String, KpiError>;
    /// The flat form, with text keys and names mapped by `recode`.
    fn to_flat(&self, recode: Recode) -> Result<OwnedState, KpiError>;
    /// The decoded form of a flat state, with text keys and names mapped by `recode`.
    fn from_flat(v: View<'_>, recode: Recode) -> Result<Self, KpiError>;
    /// What every value of the type holds, whichever path it came in by.
    fn check(&self) -> Result<(), String>;
}

/// Calls `f` with `k` as a flat-table key, its text mapped by `recode`.
fn with_flat_key<R>(
    k: KeyRef<'_>,
    recode: Recode,
    f: impl FnOnce(Key<'_>) -> Result<R, KpiError>,
) -> Result<R, KpiError> {
    match k {
        KeyRef::Int(i) => f(Key::Int(i)),
        KeyRef::Uuid(u) => f(Key::Uuid(u.to_be_bytes())),
        KeyRef::Text(t) => f(Key::Text(&recode(t)?)),
    }
}

/// Adds a key of a flat state to a decoded key set, its text mapped by `recode`.
fn insert_decoded(
    keys: &mut KeySet,
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

impl Summary for CustomerRate {
    const KIND: Kind = Kind::Customer;
    fn check(&self) -> Result<(), String> {
        CustomerRate::check(self)
    }
    fn decode(bytes: &[u8]) -> Result<Self, KpiError> {
        CustomerRate::decode(bytes)
    }
    fn to_bytes(&self) -> Vec<u8> {
        CustomerRate::to_bytes(self)
    }
    fn from_text(text: &str) -> Result<Self, KpiError> {
        CustomerRate::from_text(text)
    }
    fn to_text(&self) -> Result<String, KpiError> {
        CustomerRate::to_text(self)
    }

    fn to_flat(&self, recode: Recode) -> Result<OwnedState, KpiError> {
        let keys = &self.customers;
        let mut out = OwnedState::customer_sized(
            self.key_type(),
            keys.len(),
            keys.int_range(),
            keys.text_bytes(),
        )?;
        let (mut fixed, mut texts) = (Vec::with_capacity(keys.len()), Vec::new());
        let mut n = 0;
        keys.for_each_key(&mut |k| {
            tick(&mut n);
            match k {
                KeyRef::Int(i) => fixed.push(Key::Int(i)),
                KeyRef::Uuid(u) => fixed.push(Key::Uuid(u.to_be_bytes())),
                KeyRef::Text(t) => texts.push(recode(t)?.into_owned()),
            }
            Ok(())
        })?;
        let mut all: Vec<Key<'_>> = fixed;
        all.extend(texts.iter().map(|t| Key::Text(t)));
        if out.insert_customers(&mut all)? != all.len() {
            return Err(KpiError::invalid_text("duplicate customer key"));
        }
        out.add_events(self.events)?;
        Ok(out)
    }

    fn from_flat(v: View<'_>, recode: Recode) -> Result<Self, KpiError> {
        let kt = v.key_type();
        let mut state = CustomerRate::new(kt);
        v.for_each_key(&mut check_interrupts, &mut |_, bytes| {
            insert_decoded(&mut state.customers, kt, bytes, recode)
        })?;
        state.events = v.events();
        Ok(state)
    }
}

impl Summary for SegmentRate {
    const KIND: Kind = Kind::Segment;
    fn check(&self) -> Result<(), String> {
        SegmentRate::check(self)
    }
    fn decode(bytes: &[u8]) -> Result<Self, KpiError> {
        SegmentRate::decode(bytes)
    }
    fn to_bytes(&self) -> Vec<u8> {
        SegmentRate::to_bytes(self)
    }
    fn from_text(text: &str) -> Result<Self, KpiError> {
        SegmentRate::from_text(text)
    }
    fn to_text(&self) -> Result<String, KpiError> {
        SegmentRate::to_text(self)
    }

    fn to_flat(&self, recode: Recode) -> Result<OwnedState, KpiError> {
        let mut out = OwnedState::segment(self.key_type);
        let mut n = 0;
        for (name, customers, events) in self.counts() {
            if customers == 0 {
                return Err(KpiError::invalid_text("a segment has no customers"));
            }
            let keys = &self.segments[name].customers;
            let name = recode(name)?;
            out.add_segment_events(&name, events)?;
            keys.for_each_key(&mut |k| {
                tick(&mut n);
                with_flat_key(k, recode, |key| out.insert_segment_row(&name, key, 0))?;
                Ok(())
            })?;
        }
        Ok(out)
    }

    fn from_flat(v: View<'_>, recode: Recode) -> Result<Self, KpiError> {
        let kt = v.key_type();
        let mut state = SegmentRate::new(kt);
        let mut names = Vec::new();
        for (_, name, _, events) in v.segments()? {
            let name = recode(name)?.into_owned();
            state.segment(&name).events = events;
            names.push(name);
        }
        v.for_each_key(&mut check_interrupts, &mut |seg, bytes| {
            let name = seg
                .and_then(|s| names.get(s as usize))
                .ok_or_else(|| KpiError::invalid_binary("corrupt KPI state: segment id"))?;
            let s = state
                .segments
                .get_mut(&name[..])
                .expect("segment added above");
            insert_decoded(&mut s.customers, kt, bytes, recode)
        })?;
        Ok(state)
    }
}

/// Type input: the JSON text form, validated.
pub unsafe fn summary_in<T: Summary>(fcinfo: FunctionCallInfo) -> Datum {
    let state = T::from_text(&input_text(fcinfo)).or_raise();
    state_datum(&state.to_flat(&utf8_to_server).or_raise())
}

/// Type output: the JSON text form.
pub unsafe fn summary_out<T: Summary>(fcinfo: FunctionCallInfo) -> Datum {
    let text = with_view(T::KIND, strict_arg(fcinfo, 0), |v| {
        T::from_flat(v, &server_to_utf8)?.to_text()
    })
    .or_raise();
    output_datum(text)
}

/// Type receive: the version-1 binary form (what `send` writes), or a whole version-2 value;
/// validated either way, text keys and names included.
pub unsafe fn summary_recv<T: Summary>(fcinfo: FunctionCallInfo) -> Datum {
    state_datum(&received::<T>(receive_buffer(fcinfo)).or_raise())
}

fn received<T: Summary>(bytes: &[u8]) -> Result<OwnedState, KpiError> {
    if flat::is_v2(bytes) {
        flat::validate(bytes)?;
        let v = View::new(bytes)?;
        T::KIND.check(&v)?;
        // text in the server encoding (no NUL), then the rule every input path applies
        T::from_flat(v, &verify_server_text)?
            .check()
            .map_err(KpiError::invalid_binary)?;
        return Ok(OwnedState(bytes.to_vec()));
    }
    T::decode(bytes)?.to_flat(&verify_server_text)
}

/// Type send: the version-1 binary form (format version byte, key type, counts, keys).
pub unsafe fn summary_send<T: Summary>(fcinfo: FunctionCallInfo) -> Datum {
    let bytes = with_view(T::KIND, strict_arg(fcinfo, 0), |v| {
        T::from_flat(v, &as_is).map(|s| s.to_bytes())
    })
    .or_raise();
    bytes_datum(&bytes)
}
