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
//! read, and converted when they are updated. The text and binary forms are read into the
//! flat form and written from it directly (`kpi_core::customer_rate`,
//! `kpi_core::segment_rate`); the type I/O functions here are written once for both.

use crate::fmgr::{
    arg, bytes_datum, called_as_aggregate, input_text, jsonb_datum, not_in_aggregate, output_datum,
    plain_payload, raise, receive_buffer, return_null, server_to_utf8, strict_arg, utf8_to_server,
    verify_server_text, OrRaise,
};
use kpi_core::customer_rate::{self as customer, as_is, Recode};
use kpi_core::flat::{self, Insert, OwnedState, Plan, Table, View};
use kpi_core::segment_rate as segment;
use kpi_core::text_form::Form;
use kpi_core::{KeyType, KpiError};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};
use std::borrow::Cow;

/// Checks for a query cancel or statement timeout; long loops over a state call it.
#[inline]
pub fn check_interrupts() {
    pgrx::check_for_interrupts!();
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
    Ok(Cow::Owned(kind.read_binary(bytes, &as_is)?.0))
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

// --- the text and binary forms ---------------------------------------------------------------
//
// Read into the flat form and written from it directly (`kpi_core::customer_rate`,
// `kpi_core::segment_rate`): text keys and segment names are UTF-8 in the text form and in the
// server encoding in a state.

impl Kind {
    fn read_text(self, text: &str, recode: Recode) -> Result<OwnedState, KpiError> {
        match self {
            Kind::Customer => customer::from_text(text, recode),
            Kind::Segment => segment::from_text(text, recode),
        }
    }

    fn to_text(self, v: &View<'_>, recode: Recode, form: Form) -> Result<String, KpiError> {
        let tick = &mut check_interrupts;
        match (self, form) {
            (Kind::Customer, Form::Compact) => customer::to_text(v, recode, tick),
            (Kind::Customer, Form::Listed) => customer::to_listed_text(v, recode, tick),
            (Kind::Segment, Form::Compact) => segment::to_text(v, recode, tick),
            (Kind::Segment, Form::Listed) => segment::to_listed_text(v, recode, tick),
        }
    }

    fn read_binary(self, bytes: &[u8], recode: Recode) -> Result<OwnedState, KpiError> {
        match self {
            Kind::Customer => customer::from_binary(bytes, recode),
            Kind::Segment => segment::from_binary(bytes, recode),
        }
    }

    fn to_binary(self, v: &View<'_>) -> Result<Vec<u8>, KpiError> {
        match self {
            Kind::Customer => customer::to_binary(v, &mut check_interrupts),
            Kind::Segment => segment::to_binary(v, &mut check_interrupts),
        }
    }

    fn check_stored(self, v: &View<'_>, recode: Recode) -> Result<(), KpiError> {
        match self {
            Kind::Customer => customer::check_stored(v, recode, &mut check_interrupts),
            Kind::Segment => segment::check_stored(v, recode, &mut check_interrupts),
        }
    }
}

/// Type input: the JSON text form, validated.
pub unsafe fn summary_in(fcinfo: FunctionCallInfo, kind: Kind) -> Datum {
    state_datum(
        &kind
            .read_text(&input_text(fcinfo), &utf8_to_server)
            .or_raise(),
    )
}

/// Type output: the JSON text form.
pub unsafe fn summary_out(fcinfo: FunctionCallInfo, kind: Kind) -> Datum {
    let text = with_view(kind, strict_arg(fcinfo, 0), |v| {
        kind.to_text(&v, &server_to_utf8, Form::Compact)
    })
    .or_raise();
    output_datum(text)
}

/// Type receive: the version-1 binary form (what `send` writes), or a whole version-2 value;
/// validated either way, text keys and names included.
pub unsafe fn summary_recv(fcinfo: FunctionCallInfo, kind: Kind) -> Datum {
    state_datum(&received(kind, receive_buffer(fcinfo)).or_raise())
}

fn received(kind: Kind, bytes: &[u8]) -> Result<OwnedState, KpiError> {
    if flat::is_v2(bytes) {
        flat::validate(bytes)?;
        let v = View::new(bytes)?;
        kind.check(&v)?;
        // text in the server encoding (no NUL), then the rule every input path applies
        kind.check_stored(&v, &verify_server_text)?;
        return Ok(OwnedState(bytes.to_vec()));
    }
    kind.read_binary(bytes, &verify_server_text)
}

/// `summary_json(summary)`: the text form with every customer listed, at any size, as
/// jsonb (the type's output packs more than `JSON_MAX_KEYS` integer or uuid customers).
pub unsafe fn summary_listed(fcinfo: FunctionCallInfo, kind: Kind) -> Datum {
    let text = with_view(kind, strict_arg(fcinfo, 0), |v| {
        kind.to_text(&v, &server_to_utf8, Form::Listed)
    })
    .or_raise();
    jsonb_datum(text)
}

/// Type send: the version-1 binary form (format version byte, key type, counts, keys).
pub unsafe fn summary_send(fcinfo: FunctionCallInfo, kind: Kind) -> Datum {
    let bytes = with_view(kind, strict_arg(fcinfo, 0), |v| kind.to_binary(&v)).or_raise();
    bytes_datum(&bytes)
}
