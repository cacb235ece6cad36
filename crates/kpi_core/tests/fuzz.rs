//! Time-bounded mutation fuzzing of every decoder a user's bytes reach: the text and binary
//! forms of every state type and the flat (stored) forms of the distinct-customer states, the
//! sketches, the status histories and the ticket timelines (whose events then go through the
//! SLA computation and the time in status: an answer or an error, never a panic).
//!
//! The round-trip property holds for every state type, with no exception: whatever one input
//! path accepts (text, binary, a stored value) the others accept too, and it reads back as
//! itself after text -> binary -> text.
//!
//! Each case starts from a valid encoding and mutates it (bit flips, interesting bytes,
//! truncation, insertion, duplication, splicing with another seed). A decoder must return
//! `Ok` or `Err`, never panic; and whatever it accepts must be a value whose own encodings
//! decode back to the same value, so that nothing accepted can fail to dump and restore.
//!
//! Runs for `KPI_FUZZ_SECONDS` (default 5) and at least `KPI_FUZZ_MIN_CASES` cases (default
//! 100,000); scripts/test.sh runs it in release mode for a minute (millions of cases).

use kpi_core::customer_rate::{self as customer, as_is};
use kpi_core::flat::{self, Key, OwnedState, View};
use kpi_core::segment_rate as segment;
use kpi_core::sla::{self, Clocks, Policy};
use kpi_core::timeline;
use kpi_core::{percentiles as sketch, status_history as status, KpiError, Survey, SurveyCounts};
use kpi_core::{CostTotal, Decimal, Durations, KeyType, Scores, Share};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = flat::mix64(self.0.wrapping_add(0x9e37_79b9_7f4a_7c15));
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[u8] = &[
    0, 1, 2, 0x7f, 0x80, 0xff, b'"', b'{', b'}', b'[', b']', b',', b':', b'-', b'0', b'9', b'e',
    b'\\', b'n', b'.',
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = b.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                b[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                b[at] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => b.truncate(rng.below(len)),
            3 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                for _ in 0..n {
                    b.insert(at, rng.next() as u8);
                }
            }
            4 if len > 1 => {
                let from = rng.below(len);
                let to = from + rng.below(len - from);
                let chunk = b[from..to].to_vec();
                let at = rng.below(len + 1);
                b.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                b.truncate(cut);
                b.extend_from_slice(&other[from..]);
            }
            6 if len >= 8 => {
                // an 8-byte field set to an extreme value
                let at = rng.below(len - 7);
                let v: i64 = [i64::MAX, i64::MIN, -1, 0, 1 << 40][rng.below(5)];
                b[at..at + 8].copy_from_slice(&v.to_be_bytes());
            }
            _ if len > 0 => {
                let at = rng.below(len);
                b[at] = b[at].wrapping_add(1);
            }
            _ => b.push(rng.next() as u8),
        }
    }
    b
}

/// `mutate`, plus native-order 8-byte fields set to extremes and small in-range changes of
/// counts (the stored forms are native-endian): values that pass the layout check and test
/// the validity rule.
fn mutate_native(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = if rng.below(2) == 0 {
        mutate(rng, seed, other)
    } else {
        seed.to_vec()
    };
    let len = b.len();
    if len >= 8 {
        let at = rng.below(len - 7);
        let v = i64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let nv: i64 = match rng.below(4) {
            0 => [i64::MAX, i64::MIN, -1, 0][rng.below(4)],
            1 => v.wrapping_add(1),
            2 => v.wrapping_sub(1),
            _ => v.wrapping_mul(2),
        };
        b[at..at + 8].copy_from_slice(&nv.to_le_bytes());
    }
    b
}

/// A decoded value's text (None: not printable, see `Target::binary`) and bytes.
type Decoded = Option<(Option<String>, Vec<u8>)>;

/// One state type's decoders, with the round-trip check of what they accept.
struct Target {
    name: &'static str,
    text_seeds: Vec<Vec<u8>>,
    binary_seeds: Vec<Vec<u8>>,
    /// decodes text; on success returns (text, bytes) of the decoded value
    text: fn(&str) -> Decoded,
    /// decodes bytes; on success returns (text, bytes) of the decoded value; the text is
    /// None for text keys that are not UTF-8 (the extension checks keys against the server
    /// encoding before it accepts them; the text form is UTF-8 JSON)
    binary: fn(&[u8]) -> Decoded,
    /// For the states with a fast text reader and writer: checks that they give what the
    /// general JSON reader and writer give for this input.
    same_as_json: Option<fn(&str)>,
}

impl Target {
    fn with_same_as_json(self, check: Option<fn(&str)>) -> Self {
        Target {
            same_as_json: check,
            ..self
        }
    }
}

fn roundtrip(t: &Target, text: Option<String>, bytes: Vec<u8>) {
    let again =
        (t.binary)(&bytes).unwrap_or_else(|| panic!("{}: own bytes refused: {text:?}", t.name));
    assert_eq!(again.0, text, "{}: binary round trip", t.name);
    if let Some(text) = text {
        let again =
            (t.text)(&text).unwrap_or_else(|| panic!("{}: own text refused: {text}", t.name));
        assert_eq!(again.0.as_ref(), Some(&text), "{}: text round trip", t.name);
    }
}

fn share_seeds() -> Vec<Share> {
    let mut v = vec![Share::default()];
    let mut s = Share::default();
    for i in 0..50 {
        s.add(i % 3 == 0).unwrap();
    }
    v.push(s);
    v
}

fn durations_seeds() -> Vec<Durations> {
    vec![
        Durations::default(),
        Durations::from_parts(3, 1, 3_600_000_000).unwrap(),
        Durations::from_parts(1 << 40, 7, (1i128 << 90) + 5).unwrap(),
    ]
}

fn survey_seeds() -> Vec<SurveyCounts> {
    let mut v = Vec::new();
    for survey in [Survey::Nps, Survey::Csat, Survey::Ces] {
        let mut c = SurveyCounts::new(survey);
        let (lo, hi) = survey.scale();
        for score in lo..=hi {
            for _ in 0..(score - lo + 1) {
                c.add(score).unwrap();
            }
        }
        v.push(c);
        v.push(SurveyCounts::new(survey));
    }
    v
}

fn cost_seeds() -> Vec<CostTotal> {
    let mut c = CostTotal::default();
    c.add_cost(Decimal::from_text("12.34").unwrap()).unwrap();
    c.add_cost(Decimal::from_text("0.5").unwrap()).unwrap();
    c.add_resolved().unwrap();
    vec![CostTotal::default(), c]
}

fn scores_seeds() -> Vec<Scores> {
    let mut s = Scores::default();
    for score in [0, 100, 87, 87, 42] {
        s.add(score).unwrap();
    }
    vec![Scores::default(), s]
}

fn customer_seeds() -> Vec<OwnedState> {
    let mut v = Vec::new();
    for kt in [KeyType::Int, KeyType::Uuid, KeyType::Text] {
        let mut c = OwnedState::customer(kt);
        for i in 0..6u64 {
            let text = format!("cust-{i}-é");
            let key = match kt {
                KeyType::Int => Key::Int(i as i64 * 1_000_003 - 2),
                KeyType::Uuid => Key::Uuid((i as u128 * 77).to_be_bytes()),
                _ => Key::Text(text.as_bytes()),
            };
            c.insert_customer(key).unwrap();
            c.add_events((i % 2 == 0) as i64).unwrap();
        }
        v.push(c);
        v.push(OwnedState::customer(kt));
        // more customers than the text form lists: packed (integer and uuid keys)
        let mut big = OwnedState::customer(kt);
        for i in 0..70u64 {
            let text = format!("c{i}");
            let key = match kt {
                KeyType::Int => Key::Int(if i < 40 { i as i64 } else { (i as i64) << 40 }),
                KeyType::Uuid => Key::Uuid((i as u128 * 0x9e37_79b9).to_be_bytes()),
                _ => Key::Text(text.as_bytes()),
            };
            big.insert_customer(key).unwrap();
        }
        big.add_events(9).unwrap();
        v.push(big);
    }
    v
}

fn segment_seeds() -> Vec<OwnedState> {
    let mut v = Vec::new();
    for kt in [KeyType::Int, KeyType::Text] {
        let mut s = OwnedState::segment(kt);
        for i in 0..8i64 {
            let text = format!("k{i}");
            let key = match kt {
                KeyType::Int => Key::Int(i),
                _ => Key::Text(text.as_bytes()),
            };
            let name: &[u8] = if i % 2 == 0 { b"north" } else { b"south" };
            s.insert_segment_row(name, key, (i % 3 == 0) as i64)
                .unwrap();
        }
        // a segment of more customers than the text form lists
        for i in 100..170i64 {
            let text = format!("k{i}");
            let key = match kt {
                KeyType::Int => Key::Int(i * 7),
                _ => Key::Text(text.as_bytes()),
            };
            s.insert_segment_row(b"west", key, 1).unwrap();
        }
        v.push(s);
    }
    v
}

macro_rules! target {
    ($name:expr, $seeds:expr, $text:expr, $bytes:expr, $from_text:expr, $from_bytes:expr) => {{
        let seeds = $seeds;
        Target {
            name: $name,
            text_seeds: seeds
                .iter()
                .map(|s| $text(s).unwrap().into_bytes())
                .collect(),
            binary_seeds: seeds.iter().map(|s| $bytes(s)).collect(),
            text: |t| $from_text(t).ok().map(|v| ($text(&v), $bytes(&v))),
            binary: |b| $from_bytes(b).ok().map(|v| ($text(&v), $bytes(&v))),
            same_as_json: None,
        }
    }};
}

/// The fast text reader answers only where the general one gives the same state, and the
/// fast writer writes what the general one writes.
macro_rules! same_as_json {
    ($m:ident) => {
        Some(|text: &str| {
            let general = $m::from_text_via_json(text, &as_is);
            match ($m::from_text(text, &as_is), &general) {
                (Ok(fast), Ok(general)) => {
                    let printed = $m::to_text(&fast.view(), &as_is, &mut || {}).ok();
                    assert_eq!(
                        printed,
                        $m::to_text(&general.view(), &as_is, &mut || {}).ok(),
                        "{text}"
                    );
                    assert_eq!(
                        printed,
                        $m::to_text_via_json(&fast.view(), &as_is).ok(),
                        "{text}"
                    );
                }
                (Err(fast), Err(general)) => assert_eq!(fast.message, general.message),
                (fast, _) => panic!("{text}: fast {fast:?}, general {general:?}"),
            }
        })
    };
}

fn targets() -> Vec<Target> {
    vec![
        target!(
            "share_summary",
            share_seeds(),
            |s: &Share| Some(s.to_text()),
            |s: &Share| s.to_bytes().to_vec(),
            Share::from_text,
            Share::from_bytes
        ),
        target!(
            "duration_summary",
            durations_seeds(),
            |s: &Durations| Some(s.to_text()),
            |s: &Durations| s.to_bytes(),
            Durations::from_text,
            Durations::from_bytes
        ),
        target!(
            "survey_summary",
            survey_seeds(),
            |s: &SurveyCounts| Some(s.to_text()),
            |s: &SurveyCounts| s.to_bytes(),
            SurveyCounts::from_text,
            SurveyCounts::from_bytes
        ),
        target!(
            "cost_summary",
            cost_seeds(),
            |s: &CostTotal| Some(s.to_text()),
            |s: &CostTotal| s.to_bytes(),
            CostTotal::from_text,
            CostTotal::from_bytes
        ),
        target!(
            "score_summary",
            scores_seeds(),
            |s: &Scores| Some(s.to_text()),
            |s: &Scores| s.to_bytes(),
            Scores::from_text,
            Scores::from_bytes
        ),
        target!(
            "customer_rate_summary",
            customer_seeds(),
            |s: &OwnedState| customer::to_text(&s.view(), &as_is, &mut || {}).ok(),
            |s: &OwnedState| customer::to_binary(&s.view(), &mut || {}).unwrap(),
            (|t: &str| customer::from_text(t, &as_is)),
            (|b: &[u8]| customer::from_binary(b, &as_is))
        )
        .with_same_as_json(same_as_json!(customer)),
        target!(
            "segment_rate_summary",
            segment_seeds(),
            |s: &OwnedState| segment::to_text(&s.view(), &as_is, &mut || {}).ok(),
            |s: &OwnedState| segment::to_binary(&s.view(), &mut || {}).unwrap(),
            (|t: &str| segment::from_text(t, &as_is)),
            (|b: &[u8]| segment::from_binary(b, &as_is))
        )
        .with_same_as_json(same_as_json!(segment)),
        target!(
            "duration_sketch",
            sketch_seeds(),
            |s: &Vec<u8>| Some(sketch::to_text(&sketch::View::new(s).unwrap())),
            |s: &Vec<u8>| sketch::to_bytes(&sketch::View::new(s).unwrap()),
            sketch::from_text,
            sketch::from_bytes
        ),
        target!(
            "status_history",
            status_seeds(),
            |s: &Vec<u8>| status_text(s),
            |s: &Vec<u8>| status_bytes(s),
            (|t: &str| status::from_text(t, &as_bytes)),
            (|b: &[u8]| status::from_bytes(b, &utf8_only))
        ),
        target!(
            "ticket_timeline",
            timeline_seeds(),
            |s: &Vec<u8>| timeline_text(s),
            |s: &Vec<u8>| timeline_bytes(s),
            (|t: &str| timeline::from_text(t, &as_bytes)),
            (|b: &[u8]| timeline::from_bytes(b, &utf8_only))
        ),
    ]
}

/// The names of the status histories and timelines as the tests' UTF-8 server gives them:
/// their bytes, read back as UTF-8, checked to be UTF-8 (what the binary readers are given).
fn as_bytes(s: &str) -> Result<Vec<u8>, KpiError> {
    Ok(s.as_bytes().to_vec())
}

fn utf8(s: &[u8]) -> Result<String, KpiError> {
    String::from_utf8(s.to_vec()).map_err(|_| KpiError::invalid_text("not UTF-8"))
}

fn utf8_only(s: &[u8]) -> Result<(), KpiError> {
    utf8(s).map(|_| ())
}

fn timeline_seeds() -> Vec<Vec<u8>> {
    let mut v = vec![timeline::empty()];
    let mut b = timeline::empty();
    type Row = (&'static [u8], Option<&'static [u8]>, i64);
    let rows: [Row; 9] = [
        (b"status", Some(b"new"), 0),
        (b"priority", Some(b"high"), 0),
        (b"message", Some(b"customer"), 0),
        (b"schedule", Some(b"desk"), 1_000),
        (b"message", Some(b"agent"), 5_000),
        (b"priority", None, 6_000),
        (b"status", Some(b"pending"), 7_000),
        (b"schedule", None, 8_000),
        (b"status", Some(b"solved"), 9_000),
    ];
    for (kind, value, at) in rows {
        let e = timeline::event_of(kind, value, at).unwrap();
        if let Some(copy) = timeline::add(&mut b, e).unwrap() {
            b = copy;
        }
        v.push(b.clone());
    }
    v
}

fn timeline_text(b: &[u8]) -> Option<String> {
    timeline::to_text(&timeline::view(b).ok()?, &utf8).ok()
}

fn timeline_bytes(b: &[u8]) -> Vec<u8> {
    timeline::to_bytes(&timeline::view(b).unwrap()).unwrap()
}

/// Calendar time for every clock, a schedule's too.
struct CalendarClocks;

impl Clocks for CalendarClocks {
    fn measure(&mut self, _: Option<&[u8]>, a: i64, b: i64) -> Result<i64, KpiError> {
        sla::calendar_measure(a, b)
    }
    fn exceeds_at(&mut self, _: Option<&[u8]>, a: i64, need: i64) -> Result<Option<i64>, KpiError> {
        Ok(sla::calendar_exceeds_at(a, need))
    }
}

fn fuzz_policy() -> &'static Policy {
    static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        let spec = r#"{"targets": [["first_reply_time", "high", 3600000000, null],
            ["next_reply_time", "high", 60000000, "desk"], ["periodic_update", "", 1, null],
            ["requester_wait_time", "high", 2000, "desk"], ["agent_work_time", "high", 7200000000, null]],
            "statuses": [["new", true, true, false], ["pending", false, false, false],
                         ["solved", false, false, true]]}"#;
        Policy::from_spec("fuzz", spec, &as_bytes).unwrap()
    })
}

/// A stored timeline that passes the layout check reads back as itself through both forms,
/// and its events give SLAs and times in status, or errors, never a panic.
fn read_timeline_flat(b: &[u8]) {
    let Ok(v) = timeline::view(b) else { return };
    if let Some(text) = timeline_text(b) {
        let back = timeline::from_text(&text, &as_bytes)
            .unwrap_or_else(|e| panic!("{text}: {}", e.message));
        assert_eq!(timeline_text(&back).as_deref(), Some(&text[..]));
        let bytes = timeline::to_bytes(&v).expect("printable");
        let back = timeline::from_bytes(&bytes, &|_| Ok(())).expect("own bytes");
        assert_eq!(timeline_text(&back).as_deref(), Some(&text[..]));
    }
    let Ok(events) = timeline::events(&v) else {
        return;
    };
    for as_of in [0, 4_000, 1 << 40, i64::MAX / 2] {
        let _ = sla::instances(&events, fuzz_policy(), as_of, &mut CalendarClocks);
        let _ = timeline::time_in_status(
            &events,
            as_of,
            Some(b"desk"),
            |s| s == b"new",
            |a, b, _| sla::calendar_measure(a, b),
        );
    }
}

fn sketch_seeds() -> Vec<Vec<u8>> {
    let mut v = vec![sketch::empty()];
    let mut b = sketch::empty();
    for us in [0i64, 1, 999, 60_000_000, 3_600_000_000, 86_400_000_000 * 40] {
        if let Some(copy) = sketch::add_span(&mut b, us as i128).unwrap() {
            b = copy;
        }
        v.push(b.clone());
    }
    sketch::add_pending(&mut b).unwrap();
    v.push(b);
    // a dense one: many buckets close together
    let mut d = sketch::empty();
    for k in 0..400i64 {
        if let Some(copy) = sketch::add_span(&mut d, (1_000_000 + k * k * 900) as i128).unwrap() {
            d = copy;
        }
    }
    assert!(!sketch::View::new(&d).unwrap().is_sparse());
    v.push(d);
    v
}

fn status_seeds() -> Vec<Vec<u8>> {
    let mut v = vec![status::empty(0)];
    let mut b = status::empty(0);
    for (i, s) in ["new", "open", "pending", "solved", "é"].iter().enumerate() {
        let change = status::Change {
            at: i as i64 * 1000,
            status: s.as_bytes(),
            flag: (i % 2 == 0) as u8,
        };
        status::push(&mut b, change, Some(9000), Some(b"desk")).unwrap();
        v.push(b.clone());
    }
    v
}

fn status_text(b: &[u8]) -> Option<String> {
    status::to_text(&status::View::new(b).ok()?, &utf8).ok()
}

fn status_bytes(b: &[u8]) -> Vec<u8> {
    status::to_bytes(&status::View::new(b).unwrap()).unwrap()
}

/// A stored sketch or status history: what passes the whole validity rule round-trips
/// through both forms; what passes the layout check alone (the per-row check of the
/// aggregate's own state) can be updated and read without a panic.
fn read_sketch_flat(b: &[u8]) {
    if let Ok(v) = sketch::View::checked(b) {
        let text = sketch::to_text(&v);
        let from_text =
            sketch::from_text(&text).unwrap_or_else(|e| panic!("{text}: {}", e.message));
        assert_eq!(
            sketch::to_text(&sketch::View::checked(&from_text).unwrap()),
            text
        );
        let from_bytes = sketch::from_bytes(&sketch::to_bytes(&v)).expect("own bytes");
        assert_eq!(
            sketch::to_text(&sketch::View::checked(&from_bytes).unwrap()),
            text
        );
        let mut merged = sketch::empty();
        if let Some(copy) = sketch::merge_into(&mut merged, &v).expect("merge of a valid sketch") {
            merged = copy;
        }
        assert_eq!(
            sketch::to_text(&sketch::View::checked(&merged).unwrap()),
            text
        );
    }
    if let Ok(v) = sketch::View::new(b) {
        let _ = v.percentile(0.5);
        let _ = sketch::to_text(&v);
        let mut own = b.to_vec();
        for us in [0i128, 1, 61_000_000, 1 << 50] {
            match sketch::add_span(&mut own, us) {
                Ok(Some(copy)) => own = copy,
                Ok(None) => {}
                Err(_) => break,
            }
        }
        let _ = sketch::add_pending(&mut own);
    }
}

fn read_status_flat(b: &[u8]) {
    let Ok(v) = status::View::new(b) else { return };
    let Some(text) = status_text(b) else { return };
    let back =
        status::from_text(&text, &as_bytes).unwrap_or_else(|e| panic!("{text}: {}", e.message));
    assert_eq!(status_text(&back).as_deref(), Some(&text[..]));
    let bytes = status::to_bytes(&v).expect("printable");
    let back = status::from_bytes(&bytes, &|_| Ok(())).expect("own bytes");
    assert_eq!(status_text(&back).as_deref(), Some(&text[..]));
    let _ = status::time_in(&v, |a, b| b as i128 - a as i128);
    let _ = status::reopens(&v);
}

fn flat_seeds() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for kt in [KeyType::Int, KeyType::Uuid, KeyType::Text] {
        let mut c = OwnedState::customer(kt);
        let mut s = OwnedState::segment(kt);
        for i in 0..40u64 {
            let tb = format!("t{}", i * 13);
            let key = match kt {
                KeyType::Int => Key::Int((i * i) as i64),
                KeyType::Uuid => Key::Uuid((i as u128).to_be_bytes()),
                _ => Key::Text(tb.as_bytes()),
            };
            c.insert_customer(key).unwrap();
            s.insert_segment_row(if i % 3 == 0 { b"a" } else { b"bb" }, key, (i % 2) as i64)
                .unwrap();
        }
        c.add_events(5).unwrap();
        v.push(c.0);
        v.push(s.0);
        // a small state in list mode (integer and uuid keys), its room partly used
        let mut small = OwnedState::customer(kt);
        for i in 0..2u64 {
            let key = match kt {
                KeyType::Int => Key::Int(-(i as i64) * 77),
                KeyType::Uuid => Key::Uuid((i as u128 + 9).to_be_bytes()),
                _ => Key::Text(b"x"),
            };
            small.insert_customer(key).unwrap();
        }
        small.add_events(3).unwrap();
        v.push(small.0);
    }
    v
}

/// The rule, text writer and reader, binary writer and reader of a flat state's kind.
type FlatForms = (
    fn(&View<'_>) -> Result<(), KpiError>,
    fn(&View<'_>) -> Result<String, KpiError>,
    fn(&str) -> Result<OwnedState, KpiError>,
    fn(&View<'_>) -> Result<Vec<u8>, KpiError>,
    fn(&[u8]) -> Result<OwnedState, KpiError>,
);

/// A flat buffer that validates must be readable to the end without a panic, and count
/// what its keys say.
fn read_flat(b: &[u8]) {
    if flat::validate(b).is_err() {
        return;
    }
    let view = View::new(b).expect("validated");
    let mut n = 0i64;
    let _ = view.for_each_key(&mut || {}, &mut |_, _| {
        n += 1;
        Ok(())
    });
    if view.is_segment() {
        let _ = view.segments();
    } else {
        assert_eq!(
            n,
            view.count(),
            "validated flat state: keys disagree with count"
        );
    }
    // a stored value that passes the rule every input path applies reads back as itself
    // through its text and its binary form
    let (check, to_text, from_text, to_binary, from_binary): FlatForms = if view.is_segment() {
        (
            |v| segment::check_stored(v, &as_is, &mut || {}),
            |v| segment::to_text(v, &as_is, &mut || {}),
            |t| segment::from_text(t, &as_is),
            |v| segment::to_binary(v, &mut || {}),
            |b| segment::from_binary(b, &as_is),
        )
    } else {
        (
            |v| customer::check_stored(v, &as_is, &mut || {}),
            |v| customer::to_text(v, &as_is, &mut || {}),
            |t| customer::from_text(t, &as_is),
            |v| customer::to_binary(v, &mut || {}),
            |b| customer::from_binary(b, &as_is),
        )
    };
    if check(&view).is_err() {
        return;
    }
    let Ok(text) = to_text(&view) else { return }; // a text key that is not UTF-8
    let back = from_text(&text).unwrap_or_else(|e| panic!("{text}: {}", e.message));
    assert_eq!(to_text(&back.view()).ok().as_deref(), Some(&text[..]));
    let bytes = to_binary(&view).expect("a checked state writes its binary form");
    let back = from_binary(&bytes).unwrap_or_else(|e| panic!("{text}: {}", e.message));
    assert_eq!(to_text(&back.view()).ok().as_deref(), Some(&text[..]));
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn decoders_survive_mutated_input() {
    let seconds = env_number("KPI_FUZZ_SECONDS", 5);
    let min_cases = env_number("KPI_FUZZ_MIN_CASES", 100_000);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let targets = targets();
    for t in &targets {
        for (text, bytes) in t.text_seeds.iter().zip(&t.binary_seeds) {
            let (txt, byt) = (t.text)(std::str::from_utf8(text).unwrap())
                .unwrap_or_else(|| panic!("{}: seed refused", t.name));
            assert!(txt.is_some(), "{}: seed prints", t.name);
            // bytes need not be canonical (hash-ordered keys); the text is
            let (from_bytes, _) =
                (t.binary)(bytes).unwrap_or_else(|| panic!("{}: seed bytes refused", t.name));
            assert_eq!(from_bytes, txt, "{}: seed text and bytes", t.name);
            roundtrip(t, txt, byt);
        }
    }
    let flats = flat_seeds();
    for b in &flats {
        flat::validate(b).expect("seed flat state validates");
    }
    let sketch_flats = sketch_seeds();
    let status_flats = status_seeds();
    let timeline_flats = timeline_seeds();

    let mut rng = Rng(env_number("KPI_FUZZ_SEED", 20261201));
    let (mut cases, mut accepted) = (0u64, 0u64);
    while cases < min_cases || Instant::now() < deadline {
        for _ in 0..1000 {
            let t = &targets[rng.below(targets.len())];
            match rng.below(3) {
                0 => {
                    let i = rng.below(t.text_seeds.len());
                    let j = rng.below(t.text_seeds.len());
                    let m = mutate(&mut rng, &t.text_seeds[i], &t.text_seeds[j]);
                    // the server hands the input function text valid in its encoding
                    if let Ok(s) = std::str::from_utf8(&m) {
                        if let Some(check) = t.same_as_json {
                            check(s);
                        }
                        if let Some((text, bytes)) = (t.text)(s) {
                            accepted += 1;
                            roundtrip(t, text, bytes);
                        }
                    }
                }
                1 => {
                    let i = rng.below(t.binary_seeds.len());
                    let j = rng.below(t.binary_seeds.len());
                    let m = mutate(&mut rng, &t.binary_seeds[i], &t.binary_seeds[j]);
                    if let Some((text, bytes)) = (t.binary)(&m) {
                        accepted += 1;
                        roundtrip(t, text, bytes);
                    }
                }
                _ => match rng.below(4) {
                    0 => {
                        let i = rng.below(flats.len());
                        let j = rng.below(flats.len());
                        read_flat(&mutate(&mut rng, &flats[i], &flats[j]));
                    }
                    1 => {
                        let i = rng.below(sketch_flats.len());
                        let j = rng.below(sketch_flats.len());
                        read_sketch_flat(&mutate_native(
                            &mut rng,
                            &sketch_flats[i],
                            &sketch_flats[j],
                        ));
                    }
                    2 => {
                        let i = rng.below(status_flats.len());
                        let j = rng.below(status_flats.len());
                        read_status_flat(&mutate_native(
                            &mut rng,
                            &status_flats[i],
                            &status_flats[j],
                        ));
                    }
                    _ => {
                        let i = rng.below(timeline_flats.len());
                        let j = rng.below(timeline_flats.len());
                        read_timeline_flat(&mutate_native(
                            &mut rng,
                            &timeline_flats[i],
                            &timeline_flats[j],
                        ));
                    }
                },
            }
            cases += 1;
        }
    }
    println!(
        "fuzzed {cases} inputs ({accepted} accepted and round-tripped) in {seconds} s or more"
    );
    assert!(cases >= min_cases);
}
