//! Business time: the working time between two instants under a schedule of weekly working
//! hours in a time zone, with holidays.
//!
//! A schedule's hours are pieces of local wall-clock time per ISO weekday (1 = Monday). A row
//! whose `ends` is at or before its `starts` crosses midnight: it runs to the end of its day
//! and on into the next (`starts` = `ends` is a 24-hour shift). Each piece belongs to the
//! calendar day it falls on, and a holiday takes out every piece of its day.
//!
//! An instant is working time when the wall clock of the schedule's time zone shows a time
//! within the hours of its day, and that day is not a holiday. So a shift across a
//! daylight-saving change is as long as the clock really ran (an hour more or less, or 30
//! minutes in zones such as Australia/Lord_Howe): wall-clock times skipped by a spring-forward
//! change are never worked, and those a fall-back change repeats are worked twice.
//!
//! A `Calendar` lays out the working intervals of a range of days once, with running totals,
//! so that the business time between two instants is two binary searches: a row costs the
//! same for a span of a minute or of months.

use crate::error::{KpiError, KpiErrorKind};

pub const USECS_PER_DAY: i64 = 86_400_000_000;
/// The most days a calendar lays out (about 100 years), so that a span that long or a far-off
/// timestamp cannot make a query build an unbounded table.
pub const MAX_CALENDAR_DAYS: i32 = 36_525;

/// The ISO weekday (1 = Monday ... 7 = Sunday) of a PostgreSQL date (days since 2000-01-01,
/// a Saturday).
pub fn iso_weekday(day: i32) -> u8 {
    ((day.rem_euclid(7) + 5) % 7 + 1) as u8
}

/// The day of a PostgreSQL timestamp (microseconds since 2000-01-01 00:00).
pub fn day_of(ts: i64) -> i32 {
    ts.div_euclid(USECS_PER_DAY) as i32
}

/// One row of a schedule's weekly hours: weekday, start and end as microseconds since local
/// midnight (`ends` may be 24:00, a full day), and the local days it is valid on,
/// `[valid_from, valid_until)` as PostgreSQL dates (`ALWAYS` for a row without limits). A row
/// that crosses midnight is valid by the day it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyHours {
    pub iso_weekday: u8,
    pub starts: i64,
    pub ends: i64,
    pub valid: (i32, i32),
}

/// The validity of a row without limits.
pub const ALWAYS: (i32, i32) = (i32::MIN, i32::MAX);

/// A piece of working time on one weekday, `[from, to)` microseconds since local midnight,
/// of a row valid on the days `valid` (the previous day's, for the part after midnight of an
/// overnight row: `next_day`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    weekday: u8,
    from: i64,
    to: i64,
    valid: (i32, i32),
    next_day: bool,
}

impl Piece {
    /// Whether the piece works on `day` (its weekday's).
    fn on(&self, day: i32) -> bool {
        let row_day = day - self.next_day as i32;
        self.valid.0 <= row_day && row_day < self.valid.1
    }
}

fn schedule_error(schedule: &str, message: String, hint: &str) -> KpiError {
    KpiError::new(
        KpiErrorKind::InvalidValue,
        format!("schedule \"{}\" {message}", crate::error::excerpt(schedule)),
    )
    .with_hint(hint)
}

fn hhmm(us: i64) -> String {
    let secs = us / 1_000_000;
    let mut s = format!("{:02}:{:02}", secs / 3600, secs / 60 % 60);
    if secs % 60 != 0 || us % 1_000_000 != 0 {
        s.push_str(&format!(":{:02}", secs % 60));
        if us % 1_000_000 != 0 {
            s.push_str(&format!(".{:06}", us % 1_000_000));
        }
    }
    s
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn describe(h: &WeeklyHours) -> String {
    let mut s = format!(
        "{} {}-{}",
        DAY_NAMES[(h.iso_weekday - 1) as usize],
        hhmm(h.starts),
        hhmm(h.ends)
    );
    if h.valid != ALWAYS {
        let day = |d: i32| match d {
            i32::MIN | i32::MAX => "...".to_string(),
            d => crate::timeline::utc_text(d as i64 * USECS_PER_DAY)[..10].to_string(),
        };
        s.push_str(&format!(
            " (valid {} to {})",
            day(h.valid.0),
            day(h.valid.1)
        ));
    }
    s
}

/// The weekly pieces of a schedule's hours, checked: at least one row, weekdays 1 to 7, times
/// within a day, and no two rows overlapping (an overnight row included).
fn weekly_pieces(schedule: &str, hours: &[WeeklyHours]) -> Result<Vec<Piece>, KpiError> {
    if hours.is_empty() {
        return Err(schedule_error(
            schedule,
            "has no working hours".into(),
            "Add its hours to kpi_schedule_hours, e.g. INSERT INTO kpi_schedule_hours VALUES ('support', 1, '09:00', '17:00').",
        ));
    }
    // (offset in the week, end offset, row) for the overlap check
    let mut spans: Vec<(i64, i64, &WeeklyHours)> = Vec::new();
    let mut pieces = Vec::new();
    for h in hours {
        if !(1..=7).contains(&h.iso_weekday)
            || !(0..USECS_PER_DAY).contains(&h.starts)
            || !(0..=USECS_PER_DAY).contains(&h.ends)
        {
            return Err(schedule_error(
                schedule,
                format!(
                    "has hours out of range: weekday {}, {}-{}",
                    h.iso_weekday,
                    hhmm(h.starts),
                    hhmm(h.ends)
                ),
                "Weekdays run from 1 (Monday) to 7 (Sunday), times from 00:00 to 24:00.",
            ));
        }
        if h.valid.0 >= h.valid.1 {
            return Err(schedule_error(
                schedule,
                format!("has hours valid on no day: {}", describe(h)),
                "valid_from is the first day a row is valid on, valid_until the day after its last; give valid_from < valid_until.",
            ));
        }
        let next = h.iso_weekday % 7 + 1;
        let piece = |weekday, from, to, next_day| Piece {
            weekday,
            from,
            to,
            valid: h.valid,
            next_day,
        };
        if h.ends > h.starts {
            pieces.push(piece(h.iso_weekday, h.starts, h.ends, false));
        } else {
            pieces.push(piece(h.iso_weekday, h.starts, USECS_PER_DAY, false));
            if h.ends > 0 {
                pieces.push(piece(next, 0, h.ends, true));
            }
        }
        let start = (h.iso_weekday as i64 - 1) * USECS_PER_DAY + h.starts;
        let len = if h.ends > h.starts {
            h.ends - h.starts
        } else {
            USECS_PER_DAY - h.starts + h.ends
        };
        let week = 7 * USECS_PER_DAY;
        if start + len > week {
            spans.push((start, week, h));
            spans.push((0, start + len - week, h));
        } else {
            spans.push((start, start + len, h));
        }
    }
    spans.sort_by_key(|s| (s.0, s.1));
    // rows overlap when their times of the week do and they are valid on a day in common
    for (i, a) in spans.iter().enumerate() {
        for b in spans[i + 1..].iter().take_while(|b| b.0 < a.1) {
            if a.2.valid.0 < b.2.valid.1 && b.2.valid.0 < a.2.valid.1 {
                return Err(schedule_error(
                    schedule,
                    format!("has overlapping hours: {} and {}", describe(a.2), describe(b.2)),
                    "Each moment of the week may be in one row of kpi_schedule_hours only (among the rows valid on the same days); join or trim the rows.",
                ));
            }
        }
    }
    pieces.sort_by_key(|p| (p.weekday, p.from));
    Ok(pieces)
}

/// A schedule's rules, without its time zone: the weekly pieces and the holidays.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pieces: Vec<Piece>,
    /// Sorted PostgreSQL dates.
    holidays: Vec<i32>,
}

impl Schedule {
    pub fn new(
        name: &str,
        hours: &[WeeklyHours],
        mut holidays: Vec<i32>,
    ) -> Result<Self, KpiError> {
        let pieces = weekly_pieces(name, hours)?;
        holidays.sort_unstable();
        holidays.dedup();
        Ok(Schedule {
            name: name.to_string(),
            pieces,
            holidays,
        })
    }

    fn is_holiday(&self, day: i32) -> bool {
        self.holidays.binary_search(&day).is_ok()
    }
}

/// A row of hours in a spec: weekday, starts, ends, valid_from, valid_until.
type SpecHours = (u8, i64, i64, Option<i32>, Option<i32>);

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    time_zone: String,
    hours: Vec<SpecHours>,
    holidays: Vec<i32>,
}

impl Schedule {
    /// A schedule and its time zone name from the JSON `_kpi_schedule_spec` returns:
    /// `{"time_zone": "Europe/Berlin", "hours": [[iso_weekday, starts_us, ends_us,
    /// valid_from, valid_until], ...], "holidays": [date, ...]}` (dates as days since 2000-01-01,
    /// null for no limit; every day of a holiday of several days listed).
    pub fn from_spec(name: &str, spec: &str) -> Result<(Schedule, String), KpiError> {
        let spec: Spec = serde_json::from_str(spec).map_err(|e| {
            KpiError::new(
                KpiErrorKind::InvalidText,
                format!(
                    "schedule \"{}\": {e}",
                    crate::error::excerpt(name),
                    e = crate::error::excerpt(&e.to_string())
                ),
            )
        })?;
        let hours: Vec<WeeklyHours> = spec
            .hours
            .iter()
            .map(|&(w, s, e, from, until)| WeeklyHours {
                iso_weekday: w,
                starts: s,
                ends: e,
                valid: (from.unwrap_or(ALWAYS.0), until.unwrap_or(ALWAYS.1)),
            })
            .collect();
        Ok((Schedule::new(name, &hours, spec.holidays)?, spec.time_zone))
    }
}

/// The working intervals of a range of days, as instants (PostgreSQL timestamps in UTC), with
/// running totals, and an index by instant so that a look-up reads a few intervals only.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Instants covered: business time is known for instants in `[lo, hi]`.
    lo: i64,
    hi: i64,
    /// Disjoint working intervals, sorted: (start, end, working time before the start).
    intervals: Vec<Interval>,
    /// For each stretch of `1 << STRETCH_SHIFT` microseconds from `lo`, the number of intervals
    /// that start before it.
    first: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Interval {
    start: i64,
    end: i64,
    before: i64,
}

impl Interval {
    /// The working time up to the end of the interval.
    fn through(&self) -> i64 {
        self.before + (self.end - self.start)
    }
}

/// A stretch of the calendar's index is 2^36 microseconds (about 19 hours): no more working
/// intervals start in one than a schedule has pieces in a day or two.
const STRETCH_SHIFT: u32 = 36;

impl Calendar {
    /// Lays out the local days `[first_day, last_day]` (PostgreSQL dates) of a time zone
    /// given as its offsets: `segments` are `(from instant, offset)`, sorted, the first from
    /// `i64::MIN`, where an instant's wall-clock time is the instant plus the offset (UTC
    /// offsets in microseconds, east positive). An instant is working time when its wall-clock
    /// time lies in a piece of its day and that day is not a holiday. The calendar covers the
    /// instants from the start of `first_day + 1` to the start of `last_day` in any zone
    /// (offsets stay within a day).
    pub fn build(
        schedule: &Schedule,
        first_day: i32,
        last_day: i32,
        segments: &[(i64, i64)],
    ) -> Calendar {
        const MARGIN: i64 = 2 * USECS_PER_DAY; // more than any UTC offset
        let mut intervals: Vec<(i64, i64)> = Vec::new();
        for day in first_day..=last_day {
            if schedule.is_holiday(day) {
                continue;
            }
            let wd = iso_weekday(day);
            let midnight = day as i64 * USECS_PER_DAY;
            for p in schedule
                .pieces
                .iter()
                .filter(|p| p.weekday == wd && p.on(day))
            {
                let (la, lb) = (midnight + p.from, midnight + p.to);
                // the offset segments that can hold instants of this wall-clock piece
                let mut k = segments
                    .partition_point(|s| s.0 <= la - MARGIN)
                    .saturating_sub(1);
                while k < segments.len() && segments[k].0 < lb + MARGIN {
                    let (from, offset) = segments[k];
                    let to = segments.get(k + 1).map_or(i64::MAX, |s| s.0);
                    let (a, b) = ((la - offset).max(from), (lb - offset).min(to));
                    if b > a {
                        intervals.push((a, b));
                    }
                    k += 1;
                }
            }
        }
        intervals.sort_unstable();
        let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
        let mut total = 0i64;
        for (a, b) in intervals {
            if let Some(last) = merged.last_mut() {
                if a <= last.end {
                    if b > last.end {
                        total += b - last.end;
                        last.end = b;
                    }
                    continue;
                }
            }
            merged.push(Interval {
                start: a,
                end: b,
                before: total,
            });
            total += b - a;
        }
        let (lo, hi) = (
            (first_day as i64 + 1) * USECS_PER_DAY,
            last_day as i64 * USECS_PER_DAY,
        );
        let stretches = (((hi - lo).max(0) >> STRETCH_SHIFT) + 1) as usize;
        let mut first = Vec::with_capacity(stretches);
        let mut k = 0;
        for j in 0..stretches {
            let from = lo + ((j as i64) << STRETCH_SHIFT);
            while k < merged.len() && merged[k].start < from {
                k += 1;
            }
            first.push(k as u32);
        }
        Calendar {
            lo,
            hi,
            intervals: merged,
            first,
        }
    }

    pub fn covers(&self, t: i64) -> bool {
        (self.lo..=self.hi).contains(&t)
    }

    /// The number of intervals that start at or before `t`: from the index's stretch of `t`,
    /// the few intervals that start in it are read (any `t` gives the right count; one the
    /// calendar does not cover reads more of them).
    fn started_by(&self, t: i64) -> usize {
        let mut k = if t < self.lo {
            0
        } else {
            let j = ((t - self.lo) >> STRETCH_SHIFT) as usize;
            self.first[j.min(self.first.len() - 1)] as usize
        };
        while k < self.intervals.len() && self.intervals[k].start <= t {
            k += 1;
        }
        k
    }

    /// Working time from the calendar's start up to instant `t`.
    fn worked_until(&self, t: i64) -> i64 {
        self.worked_by(self.started_by(t), t)
    }

    /// Working time up to instant `t`, of which `k` intervals start at or before it
    /// (`started_by`).
    fn worked_by(&self, k: usize, t: i64) -> i64 {
        match k {
            0 => 0,
            k => {
                let i = &self.intervals[k - 1];
                i.before + (t.min(i.end) - i.start)
            }
        }
    }

    /// The business time from `a` to `b` (`a <= b`, both covered) in microseconds.
    pub fn between(&self, a: i64, b: i64) -> i64 {
        debug_assert!(a <= b && self.covers(a) && self.covers(b));
        self.worked_until(b) - self.worked_until(a)
    }

    /// The first instant after which the business time since `a` (covered) exceeds `need`
    /// (`need >= 0`): the instant it reaches `need`, or, when it reaches it at the end of a
    /// working interval, the start of the next. None when that instant is not covered.
    pub fn exceeds_at(&self, a: i64, need: i64) -> Option<i64> {
        let k = self.started_by(a);
        let goal = self.worked_by(k, a).checked_add(need)?;
        // the first interval whose end has worked more than the goal: none before the one `a`
        // lies in or after; the next few read one by one (a target of hours or days), the
        // rest searched by halves
        let mut i = k.saturating_sub(1);
        let near = (i + 8).min(self.intervals.len());
        while i < near && self.intervals[i].through() <= goal {
            i += 1;
        }
        if i == near {
            i += self.intervals[i..].partition_point(|x| x.through() <= goal);
        }
        let x = self.intervals.get(i)?;
        let from = x.start.max(a);
        // `from` lies in interval i: its working time so far is read off it
        let t = from + (goal - (x.before + (from - x.start)));
        self.covers(t).then_some(t)
    }

    /// The calendar's days, for a caller that widens it: `(first_day, last_day)`.
    pub fn days(&self) -> (i32, i32) {
        (
            (self.lo / USECS_PER_DAY) as i32 - 1,
            (self.hi / USECS_PER_DAY) as i32,
        )
    }
}

/// The days a calendar must lay out to cover instants `a..=b`, widened to whole years (and
/// to `current` if there is one), or an error when that is more than `MAX_CALENDAR_DAYS`.
pub fn days_to_cover(a: i64, b: i64, current: Option<(i32, i32)>) -> Result<(i32, i32), KpiError> {
    let (mut first, mut last) = (day_of(a) - 2, day_of(b) + 2);
    // whole years of 366 days around the instants, so that the calendar is rebuilt rarely
    first = first.div_euclid(366) * 366 - 1;
    last = (last.div_euclid(366) + 1) * 366 + 1;
    if let Some((f, l)) = current {
        first = first.min(f);
        last = last.max(l);
    }
    if last - first > MAX_CALENDAR_DAYS + 2 * 366 + 4 {
        return Err(KpiError::new(
            KpiErrorKind::OutOfRange,
            "business time over more than 100 years is not supported".to_string(),
        )
        .with_hint(
            "Business time is measured over spans of up to about a century; check the timestamps.",
        ));
    }
    Ok((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;

    /// The next number of a xorshift generator (the tests' random instants, reproducible).
    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    fn hours(rows: &[(u8, i64, i64)]) -> Vec<WeeklyHours> {
        rows.iter()
            .map(|&(w, s, e)| WeeklyHours {
                iso_weekday: w,
                starts: s * H,
                ends: e * H,
                valid: ALWAYS,
            })
            .collect()
    }

    #[test]
    fn hours_valid_from_a_day_on() {
        // weekdays 9-17 until 2000-01-17 (a Monday, day 16), then 8-12; a Friday night shift
        // 22-02 valid from 2000-01-14 (day 13) only
        let row = |w, a: i64, b: i64, valid| WeeklyHours {
            iso_weekday: w,
            starts: a * H,
            ends: b * H,
            valid,
        };
        let mut rows: Vec<WeeklyHours> = (1..=5).map(|w| row(w, 9, 17, (i32::MIN, 16))).collect();
        rows.extend((1..=5).map(|w| row(w, 8, 12, (16, i32::MAX))));
        rows.push(row(5, 22, 2, (13, i32::MAX)));
        let s = Schedule::new("changing", &rows, vec![]).unwrap();
        let cal = Calendar::build(&s, -30, 90, &[(i64::MIN, 0)]);
        let day = USECS_PER_DAY;
        // Friday 2000-01-07 (day 6): 8 hours, no night shift yet
        assert_eq!(cal.between(6 * day, 7 * day + 12 * H), 8 * H);
        // Friday 2000-01-14: 8 hours and the night shift, 2 of its hours on Saturday
        assert_eq!(cal.between(13 * day, 15 * day), 12 * H);
        // Monday 2000-01-17 on: 4 hours a day
        assert_eq!(cal.between(16 * day, 17 * day), 4 * H);
        for (a, b) in [
            (0, 40 * day),
            (5 * day + 7 * H, 30 * day + 3),
            (15 * day, 16 * day + 10 * H),
        ] {
            let b = b - b % 60_000_000;
            assert_eq!(cal.between(a, b), brute(&s, 0, a, b), "{a} {b}");
        }
        // rows overlapping on a day they are both valid on: an error naming both
        let mut bad = rows.clone();
        bad.push(row(1, 11, 13, (20, 30)));
        let e = Schedule::new("changing", &bad, vec![]).unwrap_err();
        assert!(e.message.contains("overlapping hours: Monday 08:00-12:00 (valid 2000-01-17 to ...) and Monday 11:00-13:00 (valid 2000-01-21 to 2000-01-31)"), "{}", e.message);
        let e = Schedule::new("changing", &[row(1, 9, 17, (5, 5))], vec![]).unwrap_err();
        assert!(e.message.contains("valid on no day"), "{}", e.message);
    }

    #[test]
    fn exceeds_at_inverts_between() {
        let s = Schedule::new(
            "office",
            &hours(&[(1, 9, 17), (2, 9, 17), (5, 22, 2)]),
            vec![10],
        )
        .unwrap();
        let cal = Calendar::build(&s, -30, 60, &[(i64::MIN, 0)]);
        let day = USECS_PER_DAY;
        // 2000-01-03 is a Monday (day 2)
        let monday = 2 * day;
        // 8h from Monday 09:00 reach 17:00, the end of the day: exceeded from Tuesday 09:00 on
        assert_eq!(
            cal.exceeds_at(monday + 9 * H, 8 * H),
            Some(monday + day + 9 * H)
        );
        assert_eq!(cal.exceeds_at(monday + 9 * H, 7 * H), Some(monday + 16 * H));
        // from a Sunday: the first working instant
        assert_eq!(cal.exceeds_at(monday - 5 * H, 0), Some(monday + 9 * H));
        for (a, need) in [
            (monday, 3 * H),
            (monday + 10 * H, 20 * H),
            (monday + 4 * day, 5 * H + 7),
        ] {
            let t = cal.exceeds_at(a, need).unwrap();
            assert_eq!(cal.between(a, t), need, "{a} {need}");
            assert!(cal.between(a, t + 1) > need);
            assert_eq!(
                brute(&s, 0, a, t - t % 60_000_000),
                cal.between(a, t - t % 60_000_000)
            );
        }
        assert_eq!(cal.exceeds_at(monday, 1000 * 8 * H), None);
    }

    /// Brute force: walk the span minute by minute in a fixed-offset zone.
    fn brute(schedule: &Schedule, offset: i64, a: i64, b: i64) -> i64 {
        let mut t = a;
        let mut total = 0;
        let step = 60_000_000;
        while t < b {
            let local = t + offset;
            let day = day_of(local);
            let m = local - day as i64 * USECS_PER_DAY;
            let working = !schedule.is_holiday(day)
                && schedule
                    .pieces
                    .iter()
                    .any(|p| p.weekday == iso_weekday(day) && p.on(day) && p.from <= m && m < p.to);
            if working {
                total += step.min(b - t);
            }
            t += step;
        }
        total
    }

    #[test]
    fn weekdays_of_dates() {
        assert_eq!(iso_weekday(0), 6); // 2000-01-01, a Saturday
        assert_eq!(iso_weekday(2), 1);
        assert_eq!(iso_weekday(-1), 5);
        assert_eq!(iso_weekday(9824), 2); // 2026-11-24, a Tuesday
    }

    #[test]
    fn business_time_equals_a_minute_by_minute_walk() {
        // 9-17 weekdays, a Friday night shift into Saturday, Sunday all day, one holiday
        let s = Schedule::new(
            "t",
            &hours(&[
                (1, 9, 17),
                (2, 9, 17),
                (3, 9, 12),
                (3, 13, 17),
                (4, 9, 17),
                (5, 22, 6),
                (7, 0, 0),
            ]),
            vec![9831, 9840],
        )
        .unwrap();
        for offset in [0, -5 * H, 9 * H + H / 2] {
            let cal = Calendar::build(&s, 9700, 10100, &[(i64::MIN, offset)]);
            let mut x = 12345u64;
            for _ in 0..300 {
                xorshift(&mut x);
                let a = 9800 * USECS_PER_DAY
                    + (x % (20 * USECS_PER_DAY as u64)) as i64 / 60_000_000 * 60_000_000;
                let len = (x >> 20) % (9 * USECS_PER_DAY as u64) / 60_000_000 * 60_000_000;
                let b = a + len as i64;
                assert_eq!(
                    cal.between(a, b),
                    brute(&s, offset, a, b),
                    "{a} {b} {offset}"
                );
            }
        }
    }

    #[test]
    fn a_daylight_saving_change_lengthens_or_shortens_a_shift() {
        let s = Schedule::new("t", &hours(&[(7, 0, 6), (6, 1, 3)]), vec![]).unwrap();
        let sunday = (9800..9807).find(|d| iso_weekday(*d) == 7).unwrap();
        let midnight = sunday as i64 * USECS_PER_DAY;
        // clocks go forward an hour at 02:00 local on Sunday (UTC-5 to UTC-4)
        let change = midnight + 2 * H + 5 * H;
        let cal = Calendar::build(
            &s,
            sunday - 3,
            sunday + 3,
            &[(i64::MIN, -5 * H), (change, -4 * H)],
        );
        assert_eq!(cal.between(midnight + 5 * H, midnight + 20 * H), 5 * H);
        // and back at 02:00 local the Saturday before (UTC-4 to UTC-5): 01:00-03:00 is 3 hours,
        // 01:00-02:00 twice
        let saturday = midnight - USECS_PER_DAY;
        let back = saturday + 2 * H + 4 * H;
        let cal = Calendar::build(
            &s,
            sunday - 3,
            sunday + 3,
            &[(i64::MIN, -4 * H), (back, -5 * H)],
        );
        assert_eq!(cal.between(saturday, saturday + USECS_PER_DAY), 3 * H);
        assert_eq!(
            cal.between(saturday + 5 * H, saturday + 6 * H + 30 * 60_000_000),
            90 * 60_000_000
        );
    }

    #[test]
    fn bad_schedules_are_refused() {
        let e = Schedule::new("t", &hours(&[(1, 9, 17), (1, 16, 18)]), vec![]).unwrap_err();
        assert!(
            e.message
                .contains("overlapping hours: Monday 09:00-17:00 and Monday 16:00-18:00"),
            "{}",
            e.message
        );
        let e = Schedule::new("t", &hours(&[(7, 22, 6), (1, 5, 9)]), vec![]).unwrap_err();
        assert!(e.message.contains("overlapping"), "{}", e.message);
        assert!(Schedule::new("t", &hours(&[(7, 22, 6), (1, 6, 9)]), vec![]).is_ok());
        assert!(Schedule::new("t", &[], vec![])
            .unwrap_err()
            .message
            .contains("no working hours"));
        assert!(Schedule::new("t", &hours(&[(8, 1, 2)]), vec![]).is_err());
        // 24/7
        let all: Vec<_> = (1..=7).map(|w| (w, 0, 0)).collect();
        let s = Schedule::new("24/7", &hours(&all), vec![]).unwrap();
        let cal = Calendar::build(&s, 0, 800, &[(i64::MIN, 0)]);
        assert_eq!(
            cal.between(USECS_PER_DAY * 3 + 17, USECS_PER_DAY * 500 + 5),
            USECS_PER_DAY * 497 - 12
        );
    }

    #[test]
    fn indexed_lookups_equal_a_scan_of_every_interval() {
        // split days, a night shift, short pieces, holidays and a zone that changes its offset
        let s = Schedule::new(
            "t",
            &hours(&[
                (1, 9, 12),
                (1, 13, 17),
                (2, 0, 1),
                (2, 2, 3),
                (2, 4, 5),
                (2, 6, 7),
                (3, 9, 17),
                (5, 22, 6),
            ]),
            vec![9831, 9832, 9840],
        )
        .unwrap();
        let cal = Calendar::build(
            &s,
            9700,
            10300,
            &[(i64::MIN, 2 * H), (9900 * USECS_PER_DAY + 3 * H, 3 * H)],
        );
        let worked = |t: i64| -> i64 {
            cal.intervals
                .iter()
                .map(|i| (t.min(i.end) - i.start).max(0))
                .sum()
        };
        let exceeds = |a: i64, need: i64| -> Option<i64> {
            let goal = worked(a) + need;
            let i = cal.intervals.iter().find(|i| i.through() > goal)?;
            let from = i.start.max(a);
            let t = from + (goal - worked(from));
            cal.covers(t).then_some(t)
        };
        let mut x = 99u64;
        for n in 0..20_000 {
            xorshift(&mut x);
            // instants before, across and after the covered days; needs from none to months
            let a = 9690 * USECS_PER_DAY + (x % (620 * USECS_PER_DAY as u64)) as i64;
            let need = match n % 4 {
                0 => 0,
                1 => ((x >> 7) % (8 * H as u64)) as i64,
                2 => ((x >> 9) % (30 * USECS_PER_DAY as u64)) as i64,
                _ => ((x >> 11) % (400 * USECS_PER_DAY as u64)) as i64,
            };
            assert_eq!(cal.worked_until(a), worked(a), "{a}");
            if cal.covers(a) {
                assert_eq!(cal.exceeds_at(a, need), exceeds(a, need), "{a} {need}");
            }
        }
    }

    #[test]
    fn calendars_cover_whole_years_and_refuse_centuries() {
        let (f, l) = days_to_cover(0, 10 * USECS_PER_DAY, None).unwrap();
        assert!(f <= -2 && l >= 12);
        let (f2, l2) =
            days_to_cover(5000 * USECS_PER_DAY, 5000 * USECS_PER_DAY, Some((f, l))).unwrap();
        assert!(f2 == f && l2 >= 5002);
        assert!(days_to_cover(0, 200 * 366 * USECS_PER_DAY, None).is_err());
    }
}
