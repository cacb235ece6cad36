//! State of the status-history KPIs (`status_history`): one ticket's status changes, in any
//! order, each with a flag its aggregate sets (`time_in_status`: the status is one of those
//! counted; `reopen_count`: the status is a solved one), the instant the last status counts
//! until (if given) and the schedule to measure in (if any).
//!
//! Changes are put in order by instant, and changes at the same instant by their status's
//! bytes (as `ORDER BY changed_at, status COLLATE "C"`), so the answer never depends on the
//! order rows arrive in.
//!
//! The state is one flat byte string (the payload of the SQL value), in little-endian byte order,
//! with room to grow: `add` appends in place while there is room and returns a copy twice the
//! size otherwise. Bytes past `used` are spare room; the text and binary forms hold only the
//! used part.

use crate::codec::{filled_payload, put_i64, put_u8, Reader};
use crate::error::{interval_out_of_range, no_nul, KpiError, KpiErrorKind};

pub const LAYOUT: u8 = 1;

/// A flat format of changes: the layout byte, the type's name (for errors), the largest flag
/// a change may carry and the format's own rule for a change's flag and value. `status_history`
/// is one; `ticket_timeline` (crate::timeline) stores a ticket's events in the same layout, the
/// flag being the event's kind.
///
/// Every reader of a stored value ([`View::changes`], and through it `merge`, `sorted` and
/// the forms) holds each change to the shared rules (a flag up to `max_flag`, a value of at most
/// [`MAX_STATUS`] bytes with no NUL) and to `entry`: a value that breaks them is refused as
/// corrupt wherever it is read, never taken for another value.
#[derive(Debug)]
pub struct Format {
    pub name: &'static str,
    pub layout: u8,
    pub max_flag: u8,
    /// Whether a change of this flag and value is one the format's aggregate makes.
    pub entry: fn(flag: u8, value: &[u8]) -> bool,
}

pub const STATUS_HISTORY: Format = Format {
    name: "status_history",
    layout: LAYOUT,
    max_flag: 1,
    // any status, the empty one included, with either flag
    entry: |_, _| true,
};
// header layout
const FORMAT: usize = 0; // u8
const FLAGS: usize = 1; // u8: UNTIL_SET
const SCHEDULE_LEN: usize = 2; // u16
const USED: usize = 4; // u32: payload bytes in use
const UNTIL: usize = 8; // i64
const COUNT: usize = 16; // u32: changes
pub const HEADER: usize = 24;
const UNTIL_SET: u8 = 1;
/// Bytes of a change besides its status: instant, flag, pad, status length.
const ENTRY: usize = 12;
/// The longest status kept (longer ones are an error, not truncated).
pub const MAX_STATUS: usize = 1000;
/// The room a state gets for its first changes: with its header, one 128-byte allocation, so
/// that a ticket of a few changes never grows once hash aggregation has started to spill.
pub const FIRST_ROOM: usize = 100;
/// PostgreSQL's first valid timestamp (4714-11-24 00:00 BC, `MIN_TIMESTAMP`) and the first
/// one past its range (294277-01-01, `END_TIMESTAMP`), in microseconds since 2000: an instant
/// of a status history lies in between, as every finite timestamp does.
pub const MIN_INSTANT: i64 = -211_813_488_000_000_000;
pub const END_INSTANT: i64 = 9_223_371_331_200_000_000;

/// Whether `t` is a finite timestamp PostgreSQL can hold.
pub fn in_timestamp_range(t: i64) -> bool {
    (MIN_INSTANT..END_INSTANT).contains(&t)
}

fn out_of_range(what: &str, t: i64) -> KpiError {
    KpiError::new(
        KpiErrorKind::DatetimeOutOfRange,
        format!("{what} {t} (microseconds since 2000) is not a finite timestamp"),
    )
    .with_hint("Status changes and until are finite timestamps, from 4714-11-24 BC to 294276 AD.")
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn corrupt(fmt: &Format, what: &str) -> KpiError {
    crate::error::corrupt_value(fmt.name, what)
}

/// One status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change<'a> {
    pub at: i64,
    pub status: &'a [u8],
    /// status_history: 1 for a status its aggregate counts, else 0; ticket_timeline: the kind
    pub flag: u8,
}

/// A checked, read-only view of a flat state.
#[derive(Clone, Copy)]
pub struct View<'a> {
    b: &'a [u8],
    fmt: &'static Format,
}

impl<'a> View<'a> {
    /// Checks the header (cheap: run on every row).
    pub fn new(b: &'a [u8]) -> Result<Self, KpiError> {
        Self::of(b, &STATUS_HISTORY)
    }

    /// A view of a state of format `fmt`.
    pub fn of(b: &'a [u8], fmt: &'static Format) -> Result<Self, KpiError> {
        let corrupt = |what| corrupt(fmt, what);
        crate::error::check_flat_header(fmt.name, b, HEADER, fmt.layout)?;
        let used = u32_at(b, USED) as usize;
        let schedule_end = HEADER + u16_at(b, SCHEDULE_LEN) as usize;
        if used > b.len() || used < schedule_end {
            return Err(corrupt("lengths do not match"));
        }
        if b[HEADER..schedule_end].contains(&0) {
            return Err(corrupt("the schedule name holds a NUL character"));
        }
        if b[FLAGS] & !UNTIL_SET != 0
            || (b[FLAGS] & UNTIL_SET != 0 && !in_timestamp_range(i64_at(b, UNTIL)))
        {
            return Err(corrupt("until is not a finite timestamp"));
        }
        Ok(View { b, fmt })
    }

    fn used(&self) -> usize {
        u32_at(self.b, USED) as usize
    }
    pub fn count(&self) -> usize {
        u32_at(self.b, COUNT) as usize
    }
    pub fn until(&self) -> Option<i64> {
        (self.b[FLAGS] & UNTIL_SET != 0).then(|| i64_at(self.b, UNTIL))
    }

    pub fn schedule(&self) -> Option<&'a [u8]> {
        let n = u16_at(self.b, SCHEDULE_LEN) as usize;
        (n > 0).then(|| &self.b[HEADER..HEADER + n])
    }
    fn entries_start(&self) -> usize {
        HEADER + u16_at(self.b, SCHEDULE_LEN) as usize
    }

    /// The changes as stored (arrival order), checked against the used length.
    pub fn changes(&self) -> Result<Vec<Change<'a>>, KpiError> {
        let corrupt = |what| corrupt(self.fmt, what);
        let (mut at, used) = (self.entries_start(), self.used());
        // never more than the bytes can hold: a damaged count must not size an allocation
        let mut out = Vec::with_capacity(self.count().min((used - at) / ENTRY));
        for _ in 0..self.count() {
            if at + ENTRY > used {
                return Err(corrupt("truncated change"));
            }
            let len = u16_at(self.b, at + 10) as usize;
            if at + ENTRY + len > used {
                return Err(corrupt("truncated status"));
            }
            let instant = i64_at(self.b, at);
            if !in_timestamp_range(instant) {
                return Err(corrupt("an instant is not a finite timestamp"));
            }
            let (flag, value) = (self.b[at + 8], &self.b[at + ENTRY..at + ENTRY + len]);
            if flag > self.fmt.max_flag
                || value.contains(&0)
                || len > MAX_STATUS
                || !(self.fmt.entry)(flag, value)
            {
                return Err(corrupt("a change is not one the aggregate makes"));
            }
            out.push(Change {
                at: instant,
                flag,
                status: value,
            });
            at += ENTRY + len;
        }
        if at != used {
            return Err(corrupt("bytes after the last change"));
        }
        Ok(out)
    }

    /// The changes in order: by instant, then by status bytes.
    pub fn sorted(&self) -> Result<Vec<Change<'a>>, KpiError> {
        let mut c = self.changes()?;
        c.sort_by(|x, y| {
            x.at.cmp(&y.at)
                .then_with(|| x.status.cmp(y.status))
                .then(x.flag.cmp(&y.flag))
        });
        Ok(c)
    }

    /// The used part, the value's text and binary forms are made of.
    pub fn used_bytes(&self) -> &'a [u8] {
        &self.b[..self.used()]
    }
}

/// A state without changes (no until, no schedule), with at least `room` spare bytes (as
/// many more as fill its allocation).
pub fn empty(room: usize) -> Vec<u8> {
    empty_as(&STATUS_HISTORY, room)
}

/// An empty state of format `fmt`.
pub fn empty_as(fmt: &Format, room: usize) -> Vec<u8> {
    let mut b = vec![0u8; filled_payload(HEADER + room)];
    b[FORMAT] = fmt.layout;
    b[USED..USED + 4].copy_from_slice(&(HEADER as u32).to_le_bytes());
    b
}

fn mismatch(what: &str, hint: &str) -> KpiError {
    KpiError::new(KpiErrorKind::InvalidValue, what.to_string()).with_hint(hint)
}

/// Checks a row's until and schedule against the state's: every row of a ticket gives the
/// same. `Ok(true)`: the state has no changes yet and must take them (`fresh`).
fn agrees(v: &View<'_>, until: Option<i64>, schedule: Option<&[u8]>) -> Result<bool, KpiError> {
    if v.count() == 0 {
        return Ok(v.until() != until || v.schedule() != schedule);
    }
    if v.until() != until {
        return Err(mismatch(
            "the rows of one ticket give different \"until\" instants",
            "Give every status change of a ticket the same until (e.g. the ticket's solved_at or now()), or NULL for none.",
        ));
    }
    if v.schedule() != schedule {
        return Err(mismatch(
            "the rows of one ticket give different schedules",
            "Measure a ticket's status history in one schedule.",
        ));
    }
    Ok(false)
}

/// A state without changes, with this until and schedule and room for `room` more bytes.
/// Every state takes its until here (the aggregate's first row, text and binary input), so
/// this is where the until's range is checked; later rows must give the same (`agrees`).
fn fresh(
    fmt: &Format,
    until: Option<i64>,
    schedule: Option<&[u8]>,
    room: usize,
) -> Result<Vec<u8>, KpiError> {
    if let Some(t) = until.filter(|t| !in_timestamp_range(*t)) {
        return Err(out_of_range("until", t));
    }
    let n = schedule.map_or(0, |s| s.len());
    if n > u16::MAX as usize {
        return Err(mismatch(
            "schedule name is too long",
            "Name schedules with fewer than 65,536 bytes.",
        ));
    }
    let mut b = empty_as(fmt, n + room);
    b[SCHEDULE_LEN..SCHEDULE_LEN + 2].copy_from_slice(&(n as u16).to_le_bytes());
    if let Some(s) = schedule {
        b[HEADER..HEADER + n].copy_from_slice(s);
    }
    b[USED..USED + 4].copy_from_slice(&((HEADER + n) as u32).to_le_bytes());
    if let Some(t) = until {
        b[FLAGS] |= UNTIL_SET;
        b[UNTIL..UNTIL + 8].copy_from_slice(&t.to_le_bytes());
    }
    Ok(b)
}

/// Adds a change to the flat state `b`: `Ok(None)` when done in place, `Ok(Some(copy))` when
/// it needed more room (or took its first row's until and schedule), `b` then unchanged.
pub fn add(
    b: &mut [u8],
    change: Change<'_>,
    until: Option<i64>,
    schedule: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, KpiError> {
    add_as(&STATUS_HISTORY, b, change, until, schedule)
}

/// `add` to a state of format `fmt`.
pub fn add_as(
    fmt: &'static Format,
    b: &mut [u8],
    change: Change<'_>,
    until: Option<i64>,
    schedule: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, KpiError> {
    if change.status.len() > MAX_STATUS {
        return Err(mismatch(
            &format!("status of {} bytes is too long", change.status.len()),
            "Statuses are names such as 'open' or 'pending', up to 1,000 bytes.",
        ));
    }
    if schedule.is_some_and(|s| s.is_empty()) {
        return Err(mismatch(
            "schedule name is empty",
            "Name a schedule of kpi_schedule, e.g. '24/7'.",
        ));
    }
    if !in_timestamp_range(change.at) {
        return Err(out_of_range("status change at", change.at));
    }
    let v = View::of(b, fmt)?;
    let need = ENTRY + change.status.len();
    let (used, count) = (v.used(), v.count());
    if agrees(&v, until, schedule)? || used + need > b.len() {
        let mut copy = if count == 0 {
            fresh(v.fmt, until, schedule, (2 * need).max(FIRST_ROOM))?
        } else {
            let mut c = vec![0u8; filled_payload((used + need).max(2 * used))];
            c[..used].copy_from_slice(&b[..used]);
            c
        };
        append(&mut copy, change);
        return Ok(Some(copy));
    }
    append(b, change);
    Ok(None)
}

/// Appends a change to a state with room for it, whose until and schedule are the change's.
fn append(b: &mut [u8], change: Change<'_>) {
    let (used, count) = (u32_at(b, USED) as usize, u32_at(b, COUNT));
    let need = ENTRY + change.status.len();
    b[used..used + 8].copy_from_slice(&change.at.to_le_bytes());
    b[used + 8] = change.flag;
    b[used + 9] = 0;
    b[used + 10..used + 12].copy_from_slice(&(change.status.len() as u16).to_le_bytes());
    b[used + ENTRY..used + need].copy_from_slice(change.status);
    b[COUNT..COUNT + 4].copy_from_slice(&(count + 1).to_le_bytes());
    b[USED..USED + 4].copy_from_slice(&((used + need) as u32).to_le_bytes());
}

/// Adds `change` to an owned state, replacing it by its larger copy when needed.
pub fn push(
    b: &mut Vec<u8>,
    change: Change<'_>,
    until: Option<i64>,
    schedule: Option<&[u8]>,
) -> Result<(), KpiError> {
    push_as(&STATUS_HISTORY, b, change, until, schedule)
}

/// `push` to a state of format `fmt`.
pub fn push_as(
    fmt: &'static Format,
    b: &mut Vec<u8>,
    change: Change<'_>,
    until: Option<i64>,
    schedule: Option<&[u8]>,
) -> Result<(), KpiError> {
    if let Some(copy) = add_as(fmt, b, change, until, schedule)? {
        *b = copy;
    }
    Ok(())
}

/// Adds every change of `other` (the combine of two partial states of one ticket):
/// `Ok(None)` in place, `Ok(Some(copy))` when `b` needed more room.
pub fn merge(b: &mut [u8], other: &View<'_>) -> Result<Option<Vec<u8>>, KpiError> {
    let changes = other.changes()?;
    let mut owned: Option<Vec<u8>> = None;
    for c in changes {
        let target: &mut [u8] = match owned.as_mut() {
            Some(v) => v,
            None => b,
        };
        if let Some(copy) = add_as(other.fmt, target, c, other.until(), other.schedule())? {
            owned = Some(copy);
        }
    }
    Ok(owned)
}

/// The time spent in flagged statuses: each flagged status counts from its change to the
/// next, the last one until `until` (if given); `between(a, b)` measures a span (calendar or
/// business time). `None` without changes.
pub fn time_in(
    v: &View<'_>,
    mut between: impl FnMut(i64, i64) -> i128,
) -> Result<Option<i64>, KpiError> {
    let changes = v.sorted()?;
    let until = v.until();
    let Some(last) = changes.last() else {
        return Ok(None);
    };
    if let Some(until) = until {
        if until < last.at {
            return Err(KpiError::new(
                KpiErrorKind::InvalidValue,
                "until is before the ticket's last status change".to_string(),
            )
            .with_hint("Give an until at or after every change, e.g. greatest(solved_at, last change), or leave it out."));
        }
    }
    // each piece is at most its calendar span, which can pass 2^63 µs between the first and
    // the last valid timestamp: summed in 128 bits, refused if the total does not fit
    let mut total: i128 = 0;
    for (i, c) in changes.iter().enumerate() {
        if c.flag == 0 {
            continue;
        }
        let end = match changes.get(i + 1) {
            Some(next) => next.at,
            None => until.unwrap_or(c.at),
        };
        if end > c.at {
            total += between(c.at, end);
        }
    }
    i64::try_from(total)
        .map(Some)
        .map_err(|_| interval_out_of_range("time in status"))
}

/// How many times the ticket left a flagged (solved) status for an unflagged one. `None`
/// without changes.
pub fn reopens(v: &View<'_>) -> Result<Option<i64>, KpiError> {
    let changes = v.sorted()?;
    if changes.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        changes
            .windows(2)
            .filter(|w| w[0].flag != 0 && w[1].flag == 0)
            .count() as i64,
    ))
}

/// The text form: `{"until_us": 86400000000 or null, "schedule": "name" or null,
/// "changes": [[instant_us, "status", flag], ...]}`, statuses and the schedule converted by
/// `to_utf8`.
pub fn to_text(
    v: &View<'_>,
    to_utf8: &dyn Fn(&[u8]) -> Result<String, KpiError>,
) -> Result<String, KpiError> {
    let changes = v
        .changes()?
        .iter()
        .map(|c| Ok(serde_json::json!([c.at, to_utf8(c.status)?, c.flag != 0])))
        .collect::<Result<Vec<_>, KpiError>>()?;
    let schedule = v.schedule().map(to_utf8).transpose()?;
    Ok(
        serde_json::json!({"until_us": v.until(), "schedule": schedule, "changes": changes})
            .to_string(),
    )
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Text {
    until_us: Option<i64>,
    schedule: Option<String>,
    changes: Vec<(i64, String, bool)>,
}

pub fn from_text(
    text: &str,
    from_utf8: &dyn Fn(&str) -> Result<Vec<u8>, KpiError>,
) -> Result<Vec<u8>, KpiError> {
    let t: Text = serde_json::from_str(text).map_err(|e| {
        KpiError::invalid_text(format!("invalid status_history \"{}\": {e}", crate::error::excerpt(text), e = crate::error::excerpt(&e.to_string()))).with_hint(
            "Write it as {\"until_us\": null, \"schedule\": null, \"changes\": [[857001600000000, \"open\", true]]}.",
        )
    })?;
    let invalid = |e: KpiError| KpiError {
        kind: KpiErrorKind::InvalidText,
        ..e
    };
    let text_field = |field: &str, s: &str| {
        no_nul(field, s.as_bytes(), KpiErrorKind::InvalidText)?;
        from_utf8(s)
    };
    let schedule = t
        .schedule
        .as_deref()
        .map(|s| text_field("schedule name", s))
        .transpose()?;
    let mut b = fresh(&STATUS_HISTORY, t.until_us, schedule.as_deref(), 0).map_err(invalid)?;
    for (at, status, flag) in &t.changes {
        let status = text_field("status", status)?;
        push(
            &mut b,
            Change {
                at: *at,
                status: &status,
                flag: *flag as u8,
            },
            t.until_us,
            schedule.as_deref(),
        )
        .map_err(invalid)?;
    }
    Ok(b)
}

/// The binary form: format byte, until (flag, instant), schedule (length, bytes), changes
/// (count, then instant, flag, length, status each), big-endian.
pub fn to_bytes(v: &View<'_>) -> Result<Vec<u8>, KpiError> {
    let mut out = Vec::new();
    put_u8(&mut out, LAYOUT);
    put_u8(&mut out, v.until().is_some() as u8);
    put_i64(&mut out, v.until().unwrap_or(0));
    let s = v.schedule().unwrap_or_default();
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
    let changes = v.changes()?;
    put_i64(&mut out, changes.len() as i64);
    for c in changes {
        put_i64(&mut out, c.at);
        put_u8(&mut out, c.flag);
        out.extend_from_slice(&(c.status.len() as u16).to_be_bytes());
        out.extend_from_slice(c.status);
    }
    Ok(out)
}

pub fn from_bytes(
    bytes: &[u8],
    check: &dyn Fn(&[u8]) -> Result<(), KpiError>,
) -> Result<Vec<u8>, KpiError> {
    let mut r = Reader::new(bytes);
    let format = r.u8()?;
    if format != LAYOUT {
        return Err(KpiError::invalid_binary(format!(
            "binary status_history has format {format}, this build reads format {LAYOUT}"
        )));
    }
    let has_until = r.u8()?;
    let until = r.i64()?;
    let until = match has_until {
        0 => None,
        1 => Some(until),
        _ => {
            return Err(KpiError::invalid_binary(
                "binary status_history has a bad until flag",
            ))
        }
    };
    // a status or schedule name is text in the server encoding, without NUL characters
    let text_field = |field: &str, bytes: &[u8]| {
        no_nul(field, bytes, KpiErrorKind::InvalidBinary)?;
        check(bytes).map_err(|_| {
            KpiError::invalid_binary(format!("a {field} is not valid in the server encoding"))
        })
    };
    let n = u16::from_be_bytes(r.take(2)?.try_into().unwrap()) as usize;
    let schedule = r.take(n)?;
    text_field("schedule name", schedule)?;
    let schedule = (n > 0).then_some(schedule);
    let count = r.count(ENTRY - 1)?;
    let mut b = fresh(&STATUS_HISTORY, until, schedule, 0)
        .map_err(|e| KpiError::invalid_binary(e.message))?;
    for _ in 0..count {
        let at = r.i64()?;
        let flag = match r.u8()? {
            f @ (0 | 1) => f,
            _ => {
                return Err(KpiError::invalid_binary(
                    "binary status_history has a bad flag",
                ))
            }
        };
        let len = u16::from_be_bytes(r.take(2)?.try_into().unwrap()) as usize;
        let status = r.take(len)?;
        text_field("status", status)?;
        push(&mut b, Change { at, status, flag }, until, schedule)
            .map_err(|e| KpiError::invalid_binary(e.message))?;
    }
    r.finish()?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8(b: &[u8]) -> Result<String, KpiError> {
        Ok(String::from_utf8(b.to_vec()).unwrap())
    }
    fn bytes(s: &str) -> Result<Vec<u8>, KpiError> {
        Ok(s.as_bytes().to_vec())
    }

    fn history(changes: &[(i64, &str, bool)], until: Option<i64>) -> Vec<u8> {
        let mut b = empty(0);
        for &(at, status, flag) in changes {
            push(
                &mut b,
                Change {
                    at,
                    status: status.as_bytes(),
                    flag: flag as u8,
                },
                until,
                None,
            )
            .unwrap();
        }
        b
    }

    #[test]
    fn time_in_flagged_statuses_in_any_row_order() {
        let rows = [
            (30, "pending", false),
            (0, "new", true),
            (10, "open", true),
            (50, "solved", false),
            (40, "open", true),
        ];
        let b = history(&rows, Some(70));
        let v = View::new(&b).unwrap();
        // new 0-10, open 10-30, open 40-50
        assert_eq!(time_in(&v, |a, b| (b - a) as i128).unwrap(), Some(40));
        let mut rev = rows;
        rev.reverse();
        let b2 = history(&rev, Some(70));
        assert_eq!(
            time_in(&View::new(&b2).unwrap(), |a, b| (b - a) as i128).unwrap(),
            Some(40)
        );
        // the last status counts until `until`
        let b3 = history(&[(0, "open", true)], Some(25));
        assert_eq!(
            time_in(&View::new(&b3).unwrap(), |a, b| (b - a) as i128).unwrap(),
            Some(25)
        );
        let b4 = history(&[(0, "open", true)], None);
        assert_eq!(
            time_in(&View::new(&b4).unwrap(), |a, b| (b - a) as i128).unwrap(),
            Some(0)
        );
        assert_eq!(
            time_in(&View::new(&empty(0)).unwrap(), |a, b| (b - a) as i128).unwrap(),
            None
        );
        let early = history(&[(10, "open", true)], Some(5));
        assert!(time_in(&View::new(&early).unwrap(), |a, b| (b - a) as i128).is_err());
    }

    #[test]
    fn the_widest_span_of_timestamps_is_refused_not_negative_and_instants_are_finite() {
        let calendar = |a: i64, b: i64| b as i128 - a as i128;
        // 4713-01-01 BC to 294276-12-31: more than 2^63 µs
        let (first, last) = (-211_810_204_800_000_000i64, 9_223_339_708_800_000_000i64);
        let b = history(&[(first, "open", true), (last, "x", false)], None);
        let e = time_in(&View::new(&b).unwrap(), calendar).unwrap_err();
        assert_eq!(e.kind, KpiErrorKind::DatetimeOutOfRange);
        // half of it fits
        let b = history(&[(first, "open", true), (0, "x", false)], None);
        assert_eq!(
            time_in(&View::new(&b).unwrap(), calendar).unwrap(),
            Some(-first)
        );
        // instants outside the timestamp range are refused by every path
        let mut b = empty(0);
        for t in [i64::MIN, i64::MAX, MIN_INSTANT - 1, END_INSTANT] {
            let c = Change {
                at: t,
                status: b"open",
                flag: 1,
            };
            assert!(push(&mut b, c, None, None).is_err());
            let c = Change {
                at: 0,
                status: b"open",
                flag: 1,
            };
            assert!(push(&mut b, c, Some(t), None).is_err());
            let text =
                format!(r#"{{"until_us":null,"schedule":null,"changes":[[{t},"open",true]]}}"#);
            assert_eq!(
                from_text(&text, &bytes).unwrap_err().kind,
                KpiErrorKind::InvalidText
            );
            let text = format!(r#"{{"until_us":{t},"schedule":null,"changes":[]}}"#);
            assert_eq!(
                from_text(&text, &bytes).unwrap_err().kind,
                KpiErrorKind::InvalidText
            );
        }
        for t in [MIN_INSTANT, END_INSTANT - 1] {
            let text =
                format!(r#"{{"until_us":{t},"schedule":null,"changes":[[{t},"open",true]]}}"#);
            assert!(from_text(&text, &bytes).is_ok());
        }
        // malformed text is 22P02 (InvalidText), NUL characters included
        for bad in [
            r#"{"until_us":null,"schedule":"","changes":[[0,"open",true]]}"#.to_string(),
            format!(
                r#"{{"until_us":null,"schedule":null,"changes":[[0,"{}",true]]}}"#,
                "x".repeat(1001)
            ),
            r#"{"until_us":null,"schedule":null,"changes":[[0,"op\u0000en",true]]}"#.to_string(),
            r#"{"until_us":null,"schedule":"a\u0000","changes":[]}"#.to_string(),
        ] {
            let e = from_text(&bad, &bytes).unwrap_err();
            assert_eq!(e.kind, KpiErrorKind::InvalidText, "{bad}: {}", e.message);
        }
        let e = from_text(
            r#"{"until_us":null,"schedule":null,"changes":[[0,"op\u0000en",true]]}"#,
            &bytes,
        )
        .unwrap_err();
        assert!(e.message.contains("status contains a NUL"), "{}", e.message);
        // the same in binary: 22P03, naming the field
        let good = history(&[(0, "open", true)], None);
        let mut bin = to_bytes(&View::new(&good).unwrap()).unwrap();
        let at = bin.len() - 2;
        bin[at] = 0;
        let e = from_bytes(&bin, &|_| Ok(())).unwrap_err();
        assert_eq!(e.kind, KpiErrorKind::InvalidBinary);
        assert!(e.message.contains("status contains a NUL"), "{}", e.message);
    }

    #[test]
    fn small_histories_fill_one_small_allocation() {
        let b = empty(0);
        assert_eq!(b.len() + crate::codec::VARHDR, 32);
        let b = from_text(r#"{"until_us":null,"schedule":null,"changes":[]}"#, &bytes).unwrap();
        assert!(b.len() + crate::codec::VARHDR <= 128);
        let b = history(
            &[(0, "new", true), (1, "open", true), (2, "solved", false)],
            Some(3),
        );
        assert_eq!(b.len() + crate::codec::VARHDR, 128);
    }

    #[test]
    fn reopens_count_solved_to_unsolved() {
        let b = history(
            &[
                (0, "new", false),
                (1, "solved", true),
                (2, "open", false),
                (3, "solved", true),
                (3, "closed", true),
                (4, "open", false),
            ],
            None,
        );
        assert_eq!(reopens(&View::new(&b).unwrap()).unwrap(), Some(2));
    }

    #[test]
    fn merged_parts_equal_the_whole_and_forms_round_trip() {
        let rows: Vec<(i64, String, bool)> = (0..300)
            .map(|i| ((i * 7919) % 1000, format!("s{}", i % 5), i % 3 == 0))
            .collect();
        let whole = {
            let mut b = empty(0);
            for (at, s, f) in &rows {
                push(
                    &mut b,
                    Change {
                        at: *at,
                        status: s.as_bytes(),
                        flag: *f as u8,
                    },
                    Some(2000),
                    Some(b"desk"),
                )
                .unwrap();
            }
            b
        };
        let mut parts = vec![empty(0), empty(0), empty(0)];
        for (k, (at, s, f)) in rows.iter().enumerate() {
            push(
                &mut parts[k % 3],
                Change {
                    at: *at,
                    status: s.as_bytes(),
                    flag: *f as u8,
                },
                Some(2000),
                Some(b"desk"),
            )
            .unwrap();
        }
        let mut merged = empty(0);
        for p in &parts {
            if let Some(copy) = merge(&mut merged, &View::new(p).unwrap()).unwrap() {
                merged = copy;
            }
        }
        let (w, m) = (View::new(&whole).unwrap(), View::new(&merged).unwrap());
        assert_eq!(w.sorted().unwrap(), m.sorted().unwrap());
        assert_eq!(
            time_in(&w, |a, b| (b - a) as i128).unwrap(),
            time_in(&m, |a, b| (b - a) as i128).unwrap()
        );
        let text = to_text(&w, &utf8).unwrap();
        let back = from_text(&text, &bytes).unwrap();
        assert_eq!(to_text(&View::new(&back).unwrap(), &utf8).unwrap(), text);
        let bin = to_bytes(&w).unwrap();
        let back = from_bytes(&bin, &|_| Ok(())).unwrap();
        assert_eq!(View::new(&back).unwrap().used_bytes(), w.used_bytes());
        assert!(from_bytes(&bin[..bin.len() - 1], &|_| Ok(())).is_err());
        // rows of one ticket must agree on until and schedule
        let mut b = history(&[(0, "open", true)], Some(5));
        assert!(push(
            &mut b,
            Change {
                at: 1,
                status: b"x",
                flag: 0
            },
            Some(6),
            None
        )
        .is_err());
        assert!(push(
            &mut b,
            Change {
                at: 1,
                status: b"x",
                flag: 0
            },
            Some(5),
            Some(b"desk")
        )
        .is_err());
    }
}
