//! State of the SLA KPIs (`ticket_timeline`): one ticket's events, in any order. An event is
//! a status change (its new status), a priority change (its new priority; none for NULL), a
//! schedule change (the schedule its business hours follow from then on; the policy's own for
//! NULL) or a public message (the side of its author, customer or agent). `crate::sla`
//! computes the ticket's SLA instances from them.
//!
//! The flat layout is `status_history`'s (`crate::status_history`, format byte 2), the flag of
//! each entry being the event's kind. Kinds are numbered in the order events at the same
//! instant are taken: a priority change first (the target in force), then a schedule change,
//! then messages (a customer's before an agent's), then status changes (an agent who replies
//! and solves at once has replied first).

use crate::codec::{put_i64, put_u8, Reader};
use crate::error::{no_nul, KpiError, KpiErrorKind};
use crate::status_history::{self as flat, Change, Format, View};

pub const LAYOUT: u8 = 2;
pub const FORMAT: Format = Format {
    name: "ticket_timeline",
    layout: LAYOUT,
    max_flag: STATUS,
    entry: event_made,
};

pub const PRIORITY: u8 = 0;
pub const SCHEDULE: u8 = 1;
pub const CUSTOMER: u8 = 2;
pub const AGENT: u8 = 3;
pub const STATUS: u8 = 4;

/// One event of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    pub at: i64,
    pub kind: u8,
    /// the status, priority (empty: none) or schedule (empty: the policy's); empty for a
    /// message
    pub value: &'a [u8],
}

const KINDS_HINT: &str = "Kinds are 'status' (value: the new status), 'priority' (value: the new priority, NULL for none), 'schedule' (value: the schedule of kpi_schedule the ticket's business hours follow from then on, NULL for the policy's) and 'message' (a public message; value: 'customer' or 'agent', the side of its author).";

fn bad_event(message: String, hint: &str) -> KpiError {
    KpiError::new(KpiErrorKind::InvalidValue, message).with_hint(hint)
}

/// The UTC wall clock of a PostgreSQL timestamp (microseconds since 2000-01-01), for error
/// messages: `2026-03-01 09:00:00+00` (fractions of a second when there are).
pub fn utc_text(t: i64) -> String {
    const DAY: i64 = 86_400_000_000;
    let (days, micros) = (t.div_euclid(DAY), t.rem_euclid(DAY));
    // civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
    let z = days + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    let secs = micros / 1_000_000;
    let mut s = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if micros % 1_000_000 != 0 {
        s.push_str(&format!(".{:06}", micros % 1_000_000));
    }
    s.push_str("+00");
    s
}

/// The kind and stored value of an aggregate's row `(kind, value)` at `at`, or an error that
/// names the row.
pub fn event_of<'a>(kind: &[u8], value: Option<&'a [u8]>, at: i64) -> Result<Event<'a>, KpiError> {
    // for error messages only: formatted when one is raised, not for every row
    let when = || utc_text(at);
    let (kind, value) = match kind {
        b"status" => match value {
            Some(v) if !v.is_empty() => (STATUS, v),
            _ => {
                return Err(bad_event(
                    format!("the status change at {} has no status", when()),
                    "Give each status change its new status, e.g. 'open'.",
                ))
            }
        },
        b"priority" => (PRIORITY, value.unwrap_or_default()),
        b"schedule" => (SCHEDULE, value.unwrap_or_default()),
        b"message" => match value {
            Some(b"customer") => (CUSTOMER, &[][..]),
            Some(b"agent") => (AGENT, &[][..]),
            None => {
                return Err(bad_event(
                    format!("the message at {} has no side", when()),
                    "Give each public message the side of its author: 'customer' or 'agent'.",
                ))
            }
            Some(other) => {
                return Err(bad_event(
                    format!(
                        "the message at {} has side \"{}\", neither 'customer' nor 'agent'",
                        when(),
                        crate::error::excerpt_bytes(other)
                    ),
                    "Give each public message the side of its author: 'customer' (the requester or any end user) or 'agent'.",
                ))
            }
        },
        other => {
            return Err(bad_event(
                format!(
                    "unknown event kind \"{}\" at {}",
                    crate::error::excerpt_bytes(other),
                    when()
                ),
                KINDS_HINT,
            ))
        }
    };
    if value.len() > flat::MAX_STATUS {
        return Err(bad_event(
            format!("the value at {} has {} bytes", when(), value.len()),
            "Statuses and priorities are names such as 'open' or 'urgent', up to 1,000 bytes.",
        ));
    }
    Ok(Event { at, kind, value })
}

/// An empty timeline.
pub fn empty() -> Vec<u8> {
    flat::empty_as(&FORMAT, 0)
}

/// An empty timeline with room for a few events, as the aggregate starts a ticket's: its
/// first events are added in place (an empty one would be copied at once into a larger one).
pub fn started() -> Vec<u8> {
    flat::empty_as(&FORMAT, flat::FIRST_ROOM)
}

/// Adds an event: `Ok(None)` in place, `Ok(Some(copy))` when it needed more room.
pub fn add(b: &mut [u8], e: Event<'_>) -> Result<Option<Vec<u8>>, KpiError> {
    flat::add_as(&FORMAT, b, change(e), None, None)
}

fn change(e: Event<'_>) -> Change<'_> {
    Change {
        at: e.at,
        status: e.value,
        flag: e.kind,
    }
}

/// A checked view of a timeline.
pub fn view(b: &[u8]) -> Result<View<'_>, KpiError> {
    let v = View::of(b, &FORMAT)?;
    if v.until().is_some() || v.schedule().is_some() {
        return Err(crate::error::corrupt_value(
            FORMAT.name,
            "it holds an until or a schedule",
        ));
    }
    Ok(v)
}

/// The timeline's rule for an event of `kind` with `value`, beyond the layout's (a kind up to
/// `STATUS`, a value of at most 1,000 bytes with no NUL): a status change names its status, a
/// message has no value (its side is its kind). Every reader holds a stored value to it
/// (`View::changes`), and the binary form's reader to the same rule.
fn event_made(kind: u8, value: &[u8]) -> bool {
    match kind {
        STATUS => !value.is_empty(),
        CUSTOMER | AGENT => value.is_empty(),
        _ => true,
    }
}

/// The events in order: by instant, then kind, then value.
pub fn events<'a>(v: &View<'a>) -> Result<Vec<Event<'a>>, KpiError> {
    let mut e: Vec<Event<'a>> = v
        .changes()?
        .into_iter()
        .map(|c| Event {
            at: c.at,
            kind: c.flag,
            value: c.status,
        })
        .collect();
    e.sort_by(|x, y| (x.at, x.kind, x.value).cmp(&(y.at, y.kind, y.value)));
    Ok(e)
}

/// The ticket's schedule changes among `events` (sorted, as `events` gives them): `(from,
/// schedule)`, empty for a change back to the default; of several at one instant the last
/// counts.
pub fn schedule_changes<'e, 'a: 'e>(
    events: impl IntoIterator<Item = &'e Event<'a>>,
) -> Vec<(i64, &'a [u8])> {
    let mut changes: Vec<(i64, &'a [u8])> = Vec::new();
    for e in events.into_iter().filter(|e| e.kind == SCHEDULE) {
        match changes.last_mut() {
            Some(last) if last.0 == e.at => last.1 = e.value,
            _ => changes.push((e.at, e.value)),
        }
    }
    changes
}

/// The pieces of `[a, b)` (`b` may be `i64::MAX`, open) with the schedule in force in each:
/// that of the last change at or before the piece's start, `default` before the first change
/// and after a change back to the default (None: calendar time). `(from, to, schedule)`, in
/// order, without allocating (a ticket that never changes its schedule has one piece).
pub fn schedule_pieces<'c, 's: 'c>(
    changes: &'c [(i64, &'s [u8])],
    default: Option<&'s [u8]>,
    a: i64,
    b: i64,
) -> impl Iterator<Item = (i64, i64, Option<&'s [u8]>)> + 'c {
    let in_force = move |s: &'s [u8]| if s.is_empty() { default } else { Some(s) };
    let k = changes.partition_point(|c| c.0 <= a);
    let mut current = if k == 0 {
        default
    } else {
        in_force(changes[k - 1].1)
    };
    let mut inside = changes[k..].iter().take_while(move |c| c.0 < b);
    let mut from = a;
    let mut last_given = false;
    std::iter::from_fn(move || {
        for c in inside.by_ref() {
            let piece = (c.0 > from).then_some((from, c.0, current));
            from = from.max(c.0);
            current = in_force(c.1);
            if piece.is_some() {
                return piece;
            }
        }
        (!std::mem::replace(&mut last_given, true)).then_some((from, b, current))
    })
}

/// The working time of `[a, b)` (both finite), piece by piece in the schedule in force
/// (`schedule_pieces`), each piece measured by `between(from, to, schedule)`.
pub fn measure_pieces(
    changes: &[(i64, &[u8])],
    default: Option<&[u8]>,
    a: i64,
    b: i64,
    between: &mut impl FnMut(i64, i64, Option<&[u8]>) -> Result<i64, KpiError>,
) -> Result<i64, KpiError> {
    let mut total: i64 = 0;
    for (x, y, schedule) in schedule_pieces(changes, default, a, b) {
        total = crate::error::checked_sum(total, between(x, y, schedule)?)?;
    }
    Ok(total)
}

/// The time the ticket spent in the statuses `counts` selects, as known at `until`: each
/// status change at or before `until` lasts until the next one, the last until `until`, each
/// stretch measured by `between(from, to, schedule)` piece by piece in the schedule in force
/// (`schedule_pieces` with `default`). None without a status change by `until`.
pub fn time_in_status(
    events: &[Event<'_>],
    until: i64,
    default: Option<&[u8]>,
    mut counts: impl FnMut(&[u8]) -> bool,
    mut between: impl FnMut(i64, i64, Option<&[u8]>) -> Result<i64, KpiError>,
) -> Result<Option<i64>, KpiError> {
    let seen = &events[..events.partition_point(|e| e.at <= until)];
    let changes = schedule_changes(seen);
    let statuses: Vec<&Event<'_>> = seen.iter().filter(|e| e.kind == STATUS).collect();
    if statuses.is_empty() {
        return Ok(None);
    }
    // each piece is at most its calendar span: summed in 128 bits, refused if it does not fit
    let mut total: i128 = 0;
    for (i, s) in statuses.iter().enumerate() {
        let end = statuses.get(i + 1).map_or(until, |n| n.at);
        if end > s.at && counts(s.value) {
            total += measure_pieces(&changes, default, s.at, end, &mut between)? as i128;
        }
    }
    i64::try_from(total)
        .map(Some)
        .map_err(|_| crate::error::interval_out_of_range("time in status"))
}

/// Merges `other` into `b` (two partial states of one ticket).
pub fn merge(b: &mut [u8], other: &View<'_>) -> Result<Option<Vec<u8>>, KpiError> {
    flat::merge(b, other)
}

fn kind_text(kind: u8) -> (&'static str, Option<&'static str>) {
    match kind {
        PRIORITY => ("priority", None),
        SCHEDULE => ("schedule", None),
        CUSTOMER => ("message", Some("customer")),
        AGENT => ("message", Some("agent")),
        _ => ("status", None),
    }
}

/// The text form: `{"events": [[instant_us, "status", "open"], [instant_us, "message",
/// "agent"], [instant_us, "priority", null], ...]}`, in arrival order, values converted by
/// `to_utf8`.
pub fn to_text(
    v: &View<'_>,
    to_utf8: &dyn Fn(&[u8]) -> Result<String, KpiError>,
) -> Result<String, KpiError> {
    let events = v
        .changes()?
        .iter()
        .map(|c| {
            let (kind, side) = kind_text(c.flag);
            let value = match side {
                Some(s) => serde_json::Value::from(s),
                None if c.status.is_empty() => serde_json::Value::Null,
                None => serde_json::Value::from(to_utf8(c.status)?),
            };
            Ok(serde_json::json!([c.at, kind, value]))
        })
        .collect::<Result<Vec<_>, KpiError>>()?;
    Ok(serde_json::json!({ "events": events }).to_string())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Text {
    events: Vec<(i64, String, Option<String>)>,
}

pub fn from_text(
    text: &str,
    from_utf8: &dyn Fn(&str) -> Result<Vec<u8>, KpiError>,
) -> Result<Vec<u8>, KpiError> {
    let t: Text = serde_json::from_str(text).map_err(|e| {
        KpiError::invalid_text(format!(
            "invalid ticket_timeline \"{}\": {}",
            crate::error::excerpt(text),
            crate::error::excerpt(&e.to_string())
        ))
        .with_hint("Write it as {\"events\": [[857001600000000, \"status\", \"new\"], [857001600000000, \"message\", \"customer\"]]}.")
    })?;
    let invalid = |e: KpiError| KpiError {
        kind: KpiErrorKind::InvalidText,
        ..e
    };
    let mut b = empty();
    for (at, kind, value) in &t.events {
        let value = value
            .as_deref()
            .map(|s| {
                no_nul("value", s.as_bytes(), KpiErrorKind::InvalidText)?;
                from_utf8(s)
            })
            .transpose()?;
        check_instant(*at).map_err(invalid)?;
        let e = event_of(kind.as_bytes(), value.as_deref(), *at).map_err(invalid)?;
        flat::push_as(&FORMAT, &mut b, change(e), None, None).map_err(invalid)?;
    }
    Ok(b)
}

fn check_instant(at: i64) -> Result<(), KpiError> {
    if !flat::in_timestamp_range(at) {
        return Err(KpiError::new(
            KpiErrorKind::DatetimeOutOfRange,
            format!("event at {at} (microseconds since 2000) is not a finite timestamp"),
        )
        .with_hint("Events are at finite timestamps."));
    }
    Ok(())
}

/// The binary form: format byte, count, then per event its instant, kind, value length and
/// value, big-endian.
pub fn to_bytes(v: &View<'_>) -> Result<Vec<u8>, KpiError> {
    let mut out = Vec::new();
    put_u8(&mut out, LAYOUT);
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
            "binary ticket_timeline has format {format}, this build reads format {LAYOUT}"
        )));
    }
    let count = r.count(11)?;
    let mut b = empty();
    for _ in 0..count {
        let at = r.i64()?;
        let kind = r.u8()?;
        let len = u16::from_be_bytes(r.take(2)?.try_into().unwrap()) as usize;
        let value = r.take(len)?;
        let bad =
            |what: &str| KpiError::invalid_binary(format!("binary ticket_timeline has {what}"));
        if kind == STATUS && len == 0 {
            return Err(bad("a status change without a status"));
        }
        if kind > STATUS || !event_made(kind, value) {
            return Err(bad("an event that is not one the aggregate makes"));
        }
        if len > flat::MAX_STATUS {
            return Err(bad("a value longer than 1,000 bytes"));
        }
        no_nul("value", value, KpiErrorKind::InvalidBinary)?;
        check(value).map_err(|_| bad("a value that is not valid in the server encoding"))?;
        check_instant(at).map_err(|e| KpiError::invalid_binary(e.message))?;
        flat::push_as(
            &FORMAT,
            &mut b,
            Change {
                at,
                status: value,
                flag: kind,
            },
            None,
            None,
        )
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

    #[test]
    fn utc_text_of_instants() {
        assert_eq!(utc_text(0), "2000-01-01 00:00:00+00");
        assert_eq!(utc_text(-1), "1999-12-31 23:59:59.999999+00");
        // 2026-03-29 01:00 UTC
        assert_eq!(utc_text(828_061_200_000_000), "2026-03-29 01:00:00+00");
        assert_eq!(utc_text(60 * 86_400_000_000), "2000-03-01 00:00:00+00");
    }

    #[test]
    fn events_sorted_and_forms_round_trip() {
        let mut b = empty();
        type Row<'a> = (&'a [u8], Option<&'a [u8]>, i64);
        let rows: [Row<'_>; 5] = [
            (b"status", Some(b"open"), 10),
            (b"message", Some(b"agent"), 10),
            (b"priority", None, 10),
            (b"message", Some(b"customer"), 5),
            (b"status", Some(b"new"), 5),
        ];
        for (k, v, at) in rows {
            let e = event_of(k, v, at).unwrap();
            if let Some(copy) = add(&mut b, e).unwrap() {
                b = copy;
            }
        }
        let v = view(&b).unwrap();
        let kinds: Vec<(i64, u8)> = events(&v).unwrap().iter().map(|e| (e.at, e.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (5, CUSTOMER),
                (5, STATUS),
                (10, PRIORITY),
                (10, AGENT),
                (10, STATUS)
            ]
        );
        let text = to_text(&v, &utf8).unwrap();
        assert!(text.contains("[10,\"priority\",null]"), "{text}");
        let back = from_text(&text, &bytes).unwrap();
        assert_eq!(view(&back).unwrap().used_bytes(), v.used_bytes());
        let bin = to_bytes(&v).unwrap();
        let back = from_bytes(&bin, &|_| Ok(())).unwrap();
        assert_eq!(view(&back).unwrap().used_bytes(), v.used_bytes());
        assert!(from_bytes(&bin[..bin.len() - 1], &|_| Ok(())).is_err());
        // a status_history is not a timeline, nor the other way round
        assert!(View::new(&b).is_err());
        assert!(view(&flat::empty(0)).is_err());
    }

    #[test]
    fn bad_rows_name_themselves() {
        let e = event_of(b"message", None, 0).unwrap_err();
        assert_eq!(
            e.message,
            "the message at 2000-01-01 00:00:00+00 has no side"
        );
        let e = event_of(b"message", Some(b"bot"), 0).unwrap_err();
        assert!(e.message.contains("\"bot\""), "{}", e.message);
        let e = event_of(b"comment", Some(b"x"), 0).unwrap_err();
        assert!(e.message.starts_with("unknown event kind \"comment\""));
        assert!(event_of(b"status", None, 0).is_err());
        assert!(event_of(b"status", Some(b""), 0).is_err());
        assert!(from_text("{\"events\": [[0, \"message\", \"x\"]]}", &bytes).is_err());
    }

    #[test]
    fn stored_events_the_aggregate_never_makes_are_refused_by_every_reader() {
        // laid down through the shared layout's writer, which knows no timeline rule: a
        // message with a value, a status change without a status
        for (kind, value) in [(CUSTOMER, &b"x"[..]), (AGENT, b"x"), (STATUS, b"")] {
            let mut bad = empty();
            let change = Change {
                at: 0,
                status: value,
                flag: kind,
            };
            flat::push_as(&FORMAT, &mut bad, change, None, None).unwrap();
            let v = view(&bad).unwrap();
            let refused = |e: KpiError| {
                assert_eq!(e.kind, KpiErrorKind::InvalidBinary, "{}", e.message);
                assert!(e.message.contains("ticket_timeline"), "{}", e.message);
            };
            refused(events(&v).unwrap_err());
            refused(to_text(&v, &utf8).unwrap_err());
            refused(to_bytes(&v).unwrap_err());
            // the combine too: merged into a good timeline, it fails instead of spreading
            let mut good = empty();
            if let Some(copy) = add(&mut good, ev(1, STATUS, "open")).unwrap() {
                good = copy;
            }
            refused(merge(&mut good, &v).unwrap_err());
            assert_eq!(events(&view(&good).unwrap()).unwrap().len(), 1);
        }
    }

    fn ev(at: i64, kind: u8, value: &'static str) -> Event<'static> {
        Event {
            at,
            kind,
            value: value.as_bytes(),
        }
    }

    #[test]
    fn schedule_pieces_follow_the_changes() {
        let events = [
            ev(0, STATUS, "new"),
            ev(10, SCHEDULE, "a"),
            ev(20, SCHEDULE, ""),
            ev(20, SCHEDULE, "b"), // the last of one instant counts
            ev(30, SCHEDULE, ""),
        ];
        let changes = schedule_changes(&events);
        assert_eq!(changes, vec![(10, &b"a"[..]), (20, b"b"), (30, b"")]);
        let d = Some(&b"d"[..]);
        assert_eq!(
            schedule_pieces(&changes, d, 0, 40).collect::<Vec<_>>(),
            vec![
                (0, 10, d),
                (10, 20, Some(&b"a"[..])),
                (20, 30, Some(&b"b"[..])),
                (30, 40, d)
            ]
        );
        // starting inside a piece, ending at a change, open; no default: calendar time
        assert_eq!(
            schedule_pieces(&changes, None, 15, 20).collect::<Vec<_>>(),
            vec![(15, 20, Some(&b"a"[..]))]
        );
        assert_eq!(
            schedule_pieces(&changes, None, 25, i64::MAX).collect::<Vec<_>>(),
            vec![(25, 30, Some(&b"b"[..])), (30, i64::MAX, None)]
        );
        assert_eq!(
            schedule_pieces(&[], None, 5, 5).collect::<Vec<_>>(),
            vec![(5, 5, None)]
        );
    }

    #[test]
    fn time_in_status_as_known_at_an_instant() {
        let events = [
            ev(0, STATUS, "new"),
            ev(10, SCHEDULE, "half"),
            ev(20, STATUS, "pending"),
            ev(30, STATUS, "closed"),
            ev(30, STATUS, "open"), // same instant: bytewise, open holds
            ev(50, SCHEDULE, ""),
            ev(60, STATUS, "solved"),
        ];
        // "half" counts half of each piece, no schedule counts it whole
        let between = |a: i64, b: i64, s: Option<&[u8]>| -> Result<i64, KpiError> {
            Ok(match s {
                Some(b"half") => (b - a) / 2,
                Some(_) => unreachable!(),
                None => b - a,
            })
        };
        let open = |s: &[u8]| s == b"new" || s == b"open";
        // new 0-10 whole, 10-20 half; open 30-50 half, 50-60 whole
        assert_eq!(
            time_in_status(&events, 100, None, open, between).unwrap(),
            Some(10 + 5 + 10 + 10)
        );
        // as known at 40: open from 30 until 40, half; later events unseen
        assert_eq!(
            time_in_status(&events, 40, None, open, between).unwrap(),
            Some(10 + 5 + 5)
        );
        // the last status counts until the instant
        let solved = |s: &[u8]| s == b"solved";
        assert_eq!(
            time_in_status(&events, 100, None, solved, between).unwrap(),
            Some(40)
        );
        assert_eq!(
            time_in_status(&events, -1, None, open, between).unwrap(),
            None
        );
        assert_eq!(time_in_status(&[], 5, None, open, between).unwrap(), None);
        // errors of the clock pass through
        let failing = |_: i64, _: i64, _: Option<&[u8]>| -> Result<i64, KpiError> {
            Err(crate::error::interval_out_of_range("x"))
        };
        assert!(time_in_status(&events, 100, None, open, failing).is_err());
    }
}
