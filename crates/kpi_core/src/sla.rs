//! SLA instances of one ticket: from its events (`crate::timeline`) and a policy (targets per
//! metric and priority, each in calendar time or in a schedule's business time), every SLA the
//! ticket had, as of an instant: when it applied, its target, elapsed time, breach instant and
//! outcome. The rules, metric by metric (docs/sla-policies.md says the same for users):
//!
//! - The ticket is created at its first status change; no event may come before it.
//! - **first_reply_time**: applies at creation, fulfilled by the first agent message. Not
//!   applied to a ticket whose first message is an agent's (an agent wrote first).
//! - **next_reply_time**: a customer message starts a cycle when no reply is awaited (none
//!   while the first reply is awaited); the next agent message fulfils it.
//! - **periodic_update**: each agent message starts a cycle; the next agent message fulfils
//!   it.
//! - A ticket entering a solved status fulfils every awaited reply and update. A cycle that a
//!   solve fulfils at the instant it started (a ticket created solved, a last reply sent with
//!   the solve) is no SLA.
//! - **requester_wait_time** and **agent_work_time**: one per ticket, from creation, counting
//!   only the time spent in the statuses `kpi_sla_status` marks for them; fulfilled when the
//!   ticket is solved (its last entry into a solved status, if it is solved as of the
//!   instant); a reopen takes it up again.
//! - A target in business hours measures in the policy's schedule, or, where the ticket
//!   changes its schedule (its 'schedule' events), in the schedule in force at each moment
//!   (the policy's again after a change to none).
//! - The target is that of the priority in force; a priority change keeps the elapsed time and
//!   measures it against the new target in the new target's clock, from the start. An SLA is
//!   **breached** at the first instant its elapsed time exceeds the target in force (at once if
//!   a new, shorter target is already exceeded), **achieved** if fulfilled before that, else
//!   **active**. A priority with no target of the metric in the policy has none: no breach
//!   then, and an SLA whose outcome falls under no target is not reported.
//! - `breach_at`: for a breached SLA the instant it breached; for an active one the predicted
//!   instant, as if nothing more happened (none while a wait metric is paused); for an
//!   achieved one the instant it would have breached had its clock kept running.
//!
//! Events after the `as_of` instant are not seen: the answer is the one known then.

use crate::error::{KpiError, KpiErrorKind};
use crate::timeline::{utc_text, Event, AGENT, CUSTOMER, PRIORITY, SCHEDULE, STATUS};
use std::collections::HashMap;

/// An open end: a clock still running.
pub const OPEN: i64 = i64::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    FirstReply = 0,
    NextReply = 1,
    PeriodicUpdate = 2,
    RequesterWait = 3,
    AgentWork = 4,
}

pub const METRICS: [(&str, Metric); 5] = [
    ("first_reply_time", Metric::FirstReply),
    ("next_reply_time", Metric::NextReply),
    ("periodic_update", Metric::PeriodicUpdate),
    ("requester_wait_time", Metric::RequesterWait),
    ("agent_work_time", Metric::AgentWork),
];

impl Metric {
    pub fn name(self) -> &'static str {
        METRICS[self as usize].0
    }
    pub fn parse(name: &str) -> Option<Metric> {
        METRICS.iter().find(|m| m.0 == name).map(|m| m.1)
    }
}

/// A target: microseconds of elapsed time, in calendar time (`clock` None) or in the business
/// time of the policy's schedule `clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub target_us: i64,
    pub clock: Option<usize>,
}

/// What a status means for the SLAs (`kpi_sla_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusFlags {
    pub requester_wait: bool,
    pub agent_work: bool,
    pub solved: bool,
}

/// A hasher for a policy's few short names (priorities, statuses), looked up for every ticket:
/// FNV-1a, far cheaper than the default SipHash on such keys. The names are the policy
/// owner's own rows, not input an attacker chooses per query.
struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> Self {
        NameHasher(0xcbf2_9ce4_8422_2325) // FNV's offset basis
    }
}

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type NameMap<V> = HashMap<Vec<u8>, V, std::hash::BuildHasherDefault<NameHasher>>;

/// A policy's targets and the statuses they know.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub name: String,
    /// the schedules the targets name (in the server's encoding), in the order of their
    /// `clock` index
    pub schedules: Vec<Vec<u8>>,
    /// per priority, the target of each metric (in `Metric` order)
    targets: NameMap<[Option<Target>; 5]>,
    /// whether any priority has a target of the metric
    metrics: [bool; 5],
    statuses: NameMap<StatusFlags>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    targets: Vec<(String, String, i64, Option<String>)>,
    statuses: Vec<(String, bool, bool, bool)>,
}

impl Policy {
    /// A policy from the JSON `_kpi_sla_policy_spec` returns: `{"targets": [[metric,
    /// priority, target_us, schedule or null], ...], "statuses": [[status, requester_wait,
    /// agent_work, solved], ...]}`, names converted to the server's bytes by `to_server`.
    pub fn from_spec(
        name: &str,
        spec: &str,
        to_server: &dyn Fn(&str) -> Result<Vec<u8>, KpiError>,
    ) -> Result<Policy, KpiError> {
        let spec: Spec = serde_json::from_str(spec).map_err(|e| {
            KpiError::new(
                KpiErrorKind::InvalidText,
                format!(
                    "SLA policy \"{}\": {}",
                    crate::error::excerpt(name),
                    crate::error::excerpt(&e.to_string())
                ),
            )
        })?;
        let mut p = Policy {
            name: name.to_string(),
            ..Policy::default()
        };
        for (metric, priority, target_us, schedule) in spec.targets {
            let m = Metric::parse(&metric).ok_or_else(|| {
                KpiError::new(
                    KpiErrorKind::InvalidValue,
                    format!(
                        "SLA policy \"{}\" has an unknown metric \"{}\"",
                        crate::error::excerpt(name),
                        crate::error::excerpt(&metric)
                    ),
                )
            })?;
            if target_us <= 0 {
                return Err(KpiError::new(
                    KpiErrorKind::InvalidValue,
                    format!(
                        "SLA policy \"{}\" has a target that is not positive",
                        crate::error::excerpt(name)
                    ),
                ));
            }
            let clock = match schedule {
                Some(s) => Some(p.clock_of(&to_server(&s)?)),
                None => None,
            };
            p.set_target(m, to_server(&priority)?, Target { target_us, clock });
        }
        for (status, requester_wait, agent_work, solved) in spec.statuses {
            p.statuses.insert(
                to_server(&status)?,
                StatusFlags {
                    requester_wait,
                    agent_work,
                    solved,
                },
            );
        }
        Ok(p)
    }

    /// Adds a target (for tests and callers that build a policy by hand).
    pub fn with_target(
        mut self,
        metric: Metric,
        priority: &str,
        target_us: i64,
        schedule: Option<&str>,
    ) -> Self {
        let clock = schedule.map(|s| self.clock_of(s.as_bytes()));
        self.set_target(
            metric,
            priority.as_bytes().to_vec(),
            Target { target_us, clock },
        );
        self
    }

    /// The clock index of a schedule, added to the policy's schedules if new.
    fn clock_of(&mut self, schedule: &[u8]) -> usize {
        match self.schedules.iter().position(|x| x == schedule) {
            Some(i) => i,
            None => {
                self.schedules.push(schedule.to_vec());
                self.schedules.len() - 1
            }
        }
    }

    fn set_target(&mut self, metric: Metric, priority: Vec<u8>, target: Target) {
        self.targets.entry(priority).or_default()[metric as usize] = Some(target);
        self.metrics[metric as usize] = true;
    }

    /// Adds a status.
    pub fn with_status(mut self, status: &str, flags: StatusFlags) -> Self {
        self.statuses.insert(status.as_bytes().to_vec(), flags);
        self
    }

    /// The targets of every metric for `priority`.
    fn targets_of(&self, priority: &[u8]) -> Option<&[Option<Target>; 5]> {
        self.targets.get(priority)
    }

    fn has_metric(&self, metric: Metric) -> bool {
        self.metrics[metric as usize]
    }

    fn flags(&self, e: &Event<'_>) -> Result<StatusFlags, KpiError> {
        self.statuses.get(e.value).copied().ok_or_else(|| {
            KpiError::new(
                KpiErrorKind::InvalidValue,
                format!(
                    "status \"{}\" of the change at {} is not in kpi_sla_status",
                    crate::error::excerpt_bytes(e.value),
                    utc_text(e.at)
                ),
            )
            .with_hint("Say what the status means for the SLAs: INSERT INTO kpi_sla_status (status, requester_wait, agent_work, solved) VALUES (...).")
        })
    }
}

/// Elapsed time: calendar time (`None`) or the business time of the schedule named.
pub trait Clocks {
    /// The working time of clock `c` from `a` to `b` (`a <= b`, both finite), microseconds.
    fn measure(&mut self, c: Option<&[u8]>, a: i64, b: i64) -> Result<i64, KpiError>;
    /// The first instant after which the working time of clock `c` since `a` exceeds `need`
    /// (`need >= 0`): the instant it reaches `need`, or the start of the next working time
    /// when it reaches it at the end of one. None: beyond what the clock can lay out.
    fn exceeds_at(&mut self, c: Option<&[u8]>, a: i64, need: i64) -> Result<Option<i64>, KpiError>;
}

/// Calendar time, for `Clocks` implementations to fall back on.
pub fn calendar_measure(a: i64, b: i64) -> Result<i64, KpiError> {
    b.checked_sub(a)
        .ok_or_else(|| crate::error::interval_out_of_range("SLA elapsed time"))
}

pub fn calendar_exceeds_at(a: i64, need: i64) -> Option<i64> {
    a.checked_add(need)
        .filter(|t| crate::status_history::in_timestamp_range(*t))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Achieved,
    Breached,
    Active,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Achieved => "achieved",
            Outcome::Breached => "breached",
            Outcome::Active => "active",
        }
    }
}

/// One SLA of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance<'a> {
    pub metric: Metric,
    /// 1, 2, ... per metric (the reply cycles of next_reply_time and periodic_update)
    pub cycle: u32,
    /// the priority (empty: none) and target in force when the outcome fell: at the breach
    /// for a breached SLA, else at its fulfilment or the as-of instant (the ticket's own bytes)
    pub priority: &'a [u8],
    pub target: Target,
    pub applied_at: i64,
    pub fulfilled_at: Option<i64>,
    pub breach_at: Option<i64>,
    /// elapsed until fulfilment or the as-of instant, in the target's clock
    pub elapsed_us: i64,
    pub outcome: Outcome,
    /// a wait metric whose clock stands still as of the instant (the ticket is in a status it
    /// does not count)
    pub paused: bool,
}

/// A stretch of time the priority in force holds: from `from` to the next stretch's start.
struct Stretch<'e, 'p> {
    from: i64,
    /// the ticket's bytes
    priority: &'e [u8],
    /// the policy's targets for the priority, looked up once
    targets: Option<&'p [Option<Target>; 5]>,
}

impl Stretch<'_, '_> {
    fn target(&self, metric: Metric) -> Option<Target> {
        self.targets.and_then(|t| t[metric as usize])
    }
}

/// The clocks of one ticket: a target in calendar time measures in calendar time; one in
/// business hours in the policy's schedule, or, where the ticket gives its own schedules (its
/// schedule changes), piece by piece in the schedule in force.
struct Measure<'a, C: Clocks> {
    clocks: &'a mut C,
    policy: &'a Policy,
    /// the ticket's schedule changes: (from, schedule; empty: the policy's)
    schedules: &'a [(i64, &'a [u8])],
    /// spans already measured in a business-hours clock: (clock, from, to, working time). An
    /// SLA's elapsed time and its breach measure the same spans; a ticket has few.
    measured: Vec<(usize, i64, i64, i64)>,
}

/// The most spans a ticket's `Measure` remembers.
const MEASURED_MAX: usize = 32;

impl<'a, C: Clocks> Measure<'a, C> {
    /// The working time of clock `c` (a target's) from `a` to `b`.
    fn measure(&mut self, c: Option<usize>, a: i64, b: i64) -> Result<i64, KpiError> {
        let Some(i) = c else {
            return self.clocks.measure(None, a, b);
        };
        if let Some(&(.., m)) = self.measured.iter().find(|m| (m.0, m.1, m.2) == (i, a, b)) {
            return Ok(m);
        }
        let own = self.policy.schedules[i].as_slice();
        let clocks = &mut *self.clocks;
        let m =
            crate::timeline::measure_pieces(self.schedules, Some(own), a, b, &mut |x, y, s| {
                clocks.measure(Some(s.unwrap_or(own)), x, y)
            })?;
        if self.measured.len() < MEASURED_MAX {
            self.measured.push((i, a, b, m));
        }
        Ok(m)
    }

    /// The first instant after which the working time of clock `c` since `a` exceeds `need`.
    fn exceeds_at(
        &mut self,
        c: Option<usize>,
        a: i64,
        mut need: i64,
    ) -> Result<Option<i64>, KpiError> {
        let Some(i) = c else {
            return self.clocks.exceeds_at(None, a, need);
        };
        let own = self.policy.schedules[i].as_slice();
        for (x, y, schedule) in crate::timeline::schedule_pieces(self.schedules, Some(own), a, OPEN)
        {
            let schedule = schedule.unwrap_or(own);
            if y == OPEN {
                return self.clocks.exceeds_at(Some(schedule), x, need);
            }
            let m = self.clocks.measure(Some(schedule), x, y)?;
            if m > need {
                return self.clocks.exceeds_at(Some(schedule), x, need);
            }
            need -= m;
        }
        unreachable!("the last piece is open")
    }

    /// Working time of clock `c` in `running` between `applied` and `until`.
    fn elapsed(
        &mut self,
        running: &[(i64, i64)],
        applied: i64,
        until: i64,
        c: Option<usize>,
    ) -> Result<i64, KpiError> {
        let mut total: i64 = 0;
        for &(a, b) in running {
            let (a, b) = (a.max(applied), b.min(until));
            if b > a {
                total = crate::error::checked_sum(total, self.measure(c, a, b)?)?;
            }
        }
        Ok(total)
    }

    /// The first instant, at or before `limit`, at which elapsed time exceeds the target in
    /// force, and the stretch it falls in.
    fn first_excess(
        &mut self,
        metric: Metric,
        running: &[(i64, i64)],
        applied: i64,
        stretches: &[Stretch<'_, '_>],
        limit: i64,
    ) -> Result<Option<(i64, usize)>, KpiError> {
        for (i, s) in stretches.iter().enumerate() {
            let p = s.from.max(applied);
            let q = stretches.get(i + 1).map_or(OPEN, |n| n.from).min(limit);
            if p > limit {
                break;
            }
            if q < p {
                continue;
            }
            let Some(t) = s.target(metric) else {
                continue;
            };
            let before = self.elapsed(running, applied, p, t.clock)?;
            if before > t.target_us {
                return Ok(Some((p, i)));
            }
            let mut need = t.target_us - before;
            for &(a, b) in running {
                let (a, b) = (a.max(p), b.min(q));
                if b <= a {
                    continue;
                }
                if b == OPEN {
                    return Ok(self.exceeds_at(t.clock, a, need)?.map(|at| (at, i)));
                }
                let m = self.measure(t.clock, a, b)?;
                if m > need {
                    let at = self.exceeds_at(t.clock, a, need)?;
                    return Ok(at.map(|at| (at, i)));
                }
                need -= m;
            }
        }
        Ok(None)
    }
}

/// One SLA before it is measured: the time its clock ran.
struct Candidate {
    metric: Metric,
    cycle: u32,
    applied: i64,
    fulfilled: Option<i64>,
    /// fulfilled by a solve rather than a message
    by_solve: bool,
    /// when its clock ran, sorted and disjoint, the last maybe open: these spans of the
    /// ticket's list of spans (one list for all its SLAs, so that a ticket allocates it once)
    running: std::ops::Range<usize>,
}

fn before_creation(e: &Event<'_>, created: i64) -> KpiError {
    let what = match e.kind {
        PRIORITY => "priority change",
        SCHEDULE => "schedule change",
        CUSTOMER | AGENT => "message",
        _ => "status change",
    };
    KpiError::new(
        KpiErrorKind::InvalidValue,
        format!(
            "the {what} at {} is before the ticket was created at {}",
            utc_text(e.at),
            utc_text(created)
        ),
    )
    .with_hint("A ticket is created at its first status change: give the ticket's creation as a status change (e.g. to 'new') at its created_at.")
}

/// The SLA instances of a ticket's events (sorted, as `timeline::events` gives them) under
/// `policy`, as of `as_of`, in metric order then cycle.
pub fn instances<'a, C: Clocks>(
    events: &[Event<'a>],
    policy: &Policy,
    as_of: i64,
    clocks: &mut C,
) -> Result<Vec<Instance<'a>>, KpiError> {
    let Some(first_status) = events.iter().find(|e| e.kind == STATUS) else {
        if let Some(e) = events.first() {
            return Err(KpiError::new(
                KpiErrorKind::InvalidValue,
                format!("the ticket has events (the first at {}) but no status change", utc_text(e.at)),
            )
            .with_hint("A ticket is created at its first status change: give its status history with its other events."));
        }
        return Ok(Vec::new());
    };
    let created = first_status.at;
    // what each status seen means for the SLAs, looked up once: (instant, flags), in order
    // (every Vec of a ticket is sized once: a ticket has a handful of events)
    let mut statuses: Vec<(i64, StatusFlags)> = Vec::with_capacity(events.len());
    for e in events {
        if e.at < created {
            return Err(before_creation(e, created));
        }
        if e.kind == STATUS {
            let flags = policy.flags(e)?;
            if e.at <= as_of {
                statuses.push((e.at, flags));
            }
        }
    }
    if as_of < created {
        return Ok(Vec::new());
    }
    // the events known as of the instant: sorted by instant, they come first
    let seen = &events[..events.partition_point(|e| e.at <= as_of)];

    // the priority in force
    let mut stretches = vec![Stretch {
        from: created,
        priority: &[],
        targets: policy.targets_of(&[]),
    }];
    for e in seen.iter().filter(|e| e.kind == PRIORITY) {
        let targets = policy.targets_of(e.value);
        match stretches.last_mut() {
            Some(last) if last.from == e.at => {
                last.priority = e.value;
                last.targets = targets;
            }
            _ => stretches.push(Stretch {
                from: e.at,
                priority: e.value,
                targets,
            }),
        }
    }

    let mut candidates: Vec<Candidate> = Vec::with_capacity(seen.len() + 3);
    let mut spans: Vec<(i64, i64)> = Vec::with_capacity(seen.len() + statuses.len() + 1);
    reply_cycles(
        seen,
        &statuses,
        policy,
        created,
        &mut candidates,
        &mut spans,
    );
    for (metric, counts) in [
        (
            Metric::RequesterWait,
            (|f: &StatusFlags| f.requester_wait) as fn(&StatusFlags) -> bool,
        ),
        (Metric::AgentWork, |f: &StatusFlags| f.agent_work),
    ] {
        if policy.has_metric(metric) {
            candidates.push(wait_candidate(
                &statuses, created, metric, counts, &mut spans,
            ));
        }
    }

    // the ticket's own schedules, as it changed them
    let schedules = crate::timeline::schedule_changes(seen);
    let mut m = Measure {
        clocks,
        policy,
        schedules: &schedules,
        measured: Vec::new(),
    };
    // room for the spans an SLA's clock ran until its outcome, reused from SLA to SLA
    let mut ran = Vec::with_capacity(statuses.len() + 1);
    let mut out = Vec::with_capacity(candidates.len());
    for c in candidates {
        if c.by_solve && c.fulfilled == Some(c.applied) {
            continue;
        }
        let running = &spans[c.running.clone()];
        if let Some(i) = measure(&mut m, &c, running, &mut ran, &stretches, as_of)? {
            out.push(i);
        }
    }
    out.sort_by_key(|i| (i.metric, i.cycle));
    Ok(out)
}

/// The reply cycles: first reply, next replies, periodic updates, added to `out` (empty) with
/// their spans in `spans`. `statuses` holds the flags of the status changes among `seen`, in
/// their order.
fn reply_cycles(
    seen: &[Event<'_>],
    statuses: &[(i64, StatusFlags)],
    policy: &Policy,
    created: i64,
    out: &mut Vec<Candidate>,
    spans: &mut Vec<(i64, i64)>,
) {
    debug_assert!(out.is_empty());
    let cycles = out;
    let new = |metric, cycle, applied| Candidate {
        metric,
        cycle,
        applied,
        fulfilled: None,
        by_solve: false,
        running: 0..0,
    };
    let agent_wrote_first = seen
        .iter()
        .find(|e| e.kind == CUSTOMER || e.kind == AGENT)
        .is_some_and(|e| e.kind == AGENT);
    // the awaited reply (first or next) and the awaited update
    let mut reply: Option<usize> = None;
    let mut update: Option<usize> = None;
    if !agent_wrote_first {
        cycles.push(new(Metric::FirstReply, 1, created));
        reply = Some(0);
    }
    let (mut next_replies, mut updates) = (0u32, 0u32);
    let mut solved = false;
    let mut status_flags = statuses.iter().map(|s| s.1);
    for e in seen {
        match e.kind {
            CUSTOMER if reply.is_none() => {
                next_replies += 1;
                cycles.push(new(Metric::NextReply, next_replies, e.at));
                reply = Some(cycles.len() - 1);
            }
            AGENT => {
                for k in [reply.take(), update.take()].into_iter().flatten() {
                    cycles[k].fulfilled = Some(e.at);
                }
                updates += 1;
                cycles.push(new(Metric::PeriodicUpdate, updates, e.at));
                update = Some(cycles.len() - 1);
            }
            STATUS => {
                // the flags of this change: `statuses` holds one per status change seen
                let now_solved = status_flags.next().is_some_and(|f| f.solved);
                if now_solved && !solved {
                    for k in [reply.take(), update.take()].into_iter().flatten() {
                        cycles[k].fulfilled = Some(e.at);
                        cycles[k].by_solve = true;
                    }
                }
                solved = now_solved;
            }
            _ => {}
        }
    }
    cycles.retain(|c| policy.has_metric(c.metric));
    for c in cycles.iter_mut() {
        spans.push((c.applied, c.fulfilled.unwrap_or(OPEN)));
        c.running = spans.len() - 1..spans.len();
    }
}

/// requester_wait_time or agent_work_time: the time in the statuses it counts (`statuses`:
/// the ticket's status changes as of now, with what each means).
fn wait_candidate(
    statuses: &[(i64, StatusFlags)],
    created: i64,
    metric: Metric,
    counts: fn(&StatusFlags) -> bool,
    spans: &mut Vec<(i64, i64)>,
) -> Candidate {
    // the last entry into a solved status, if the ticket is solved
    let mut fulfilled = None;
    for (k, (at, f)) in statuses.iter().enumerate() {
        if f.solved && (k == 0 || !statuses[k - 1].1.solved) {
            fulfilled = Some(*at);
        }
    }
    if !statuses.last().is_some_and(|s| s.1.solved) {
        fulfilled = None;
    }
    let end = fulfilled.unwrap_or(OPEN);
    let first = spans.len();
    for (k, (at, f)) in statuses.iter().enumerate() {
        if !counts(f) {
            continue;
        }
        let to = statuses.get(k + 1).map_or(OPEN, |n| n.0).min(end);
        let from = (*at).min(to);
        if to <= from {
            continue;
        }
        match spans[first..].last_mut() {
            Some(last) if last.1 == from => last.1 = to,
            _ => spans.push((from, to)),
        }
    }
    Candidate {
        metric,
        cycle: 1,
        applied: created,
        fulfilled,
        by_solve: false,
        running: first..spans.len(),
    }
}

/// The SLA of candidate `c`, whose clock ran in `running`; `ran` is room for the time it ran
/// until its outcome.
fn measure<'a, C: Clocks>(
    m: &mut Measure<'_, C>,
    c: &Candidate,
    running: &[(i64, i64)],
    ran: &mut Vec<(i64, i64)>,
    stretches: &[Stretch<'a, '_>],
    as_of: i64,
) -> Result<Option<Instance<'a>>, KpiError> {
    let decided = c.fulfilled.unwrap_or(as_of);
    // the time the clock ran until the outcome
    ran.clear();
    ran.extend(
        running
            .iter()
            .map(|&(a, b)| (a, b.min(decided)))
            .filter(|(a, b)| b > a),
    );
    let stretch_at = |t: i64| stretches.partition_point(|s| s.from <= t).saturating_sub(1);
    let instance =
        |priority: &'a [u8], target: Target, breach_at, elapsed_us, outcome, paused| Instance {
            metric: c.metric,
            cycle: c.cycle,
            priority,
            target,
            applied_at: c.applied,
            fulfilled_at: c.fulfilled,
            breach_at,
            elapsed_us,
            outcome,
            paused,
        };
    if let Some((at, i)) = m.first_excess(c.metric, ran, c.applied, stretches, decided)? {
        let priority = stretches[i].priority;
        let target = stretches[i]
            .target(c.metric)
            .unwrap_or_else(|| unreachable!("a breach falls under a target"));
        let elapsed = m.elapsed(ran, c.applied, decided, target.clock)?;
        return Ok(Some(instance(
            priority,
            target,
            Some(at),
            elapsed,
            Outcome::Breached,
            false,
        )));
    }
    let in_force = &stretches[stretch_at(decided)];
    let priority = in_force.priority;
    let Some(target) = in_force.target(c.metric) else {
        return Ok(None);
    };
    let elapsed = m.elapsed(ran, c.applied, decided, target.clock)?;
    if c.fulfilled.is_some() {
        // the deadline: as if the clock had kept running, under the target in force then
        match ran.last_mut() {
            Some(last) if last.1 == decided => last.1 = OPEN,
            _ => ran.push((decided, OPEN)),
        }
        let upto = stretch_at(decided) + 1;
        let breach = m.first_excess(c.metric, ran, c.applied, &stretches[..upto], OPEN)?;
        return Ok(Some(instance(
            priority,
            target,
            breach.map(|b| b.0),
            elapsed,
            Outcome::Achieved,
            false,
        )));
    }
    let paused = running.last().is_none_or(|r| r.1 != OPEN);
    let breach = if paused {
        None
    } else {
        m.first_excess(c.metric, running, c.applied, stretches, OPEN)?
            .map(|b| b.0)
    };
    Ok(Some(instance(
        priority,
        target,
        breach,
        elapsed,
        Outcome::Active,
        paused,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::event_of;

    const H: i64 = 3_600_000_000;

    struct Calendar;
    impl Clocks for Calendar {
        fn measure(&mut self, _: Option<&[u8]>, a: i64, b: i64) -> Result<i64, KpiError> {
            calendar_measure(a, b)
        }
        fn exceeds_at(
            &mut self,
            _: Option<&[u8]>,
            a: i64,
            need: i64,
        ) -> Result<Option<i64>, KpiError> {
            Ok(calendar_exceeds_at(a, need))
        }
    }

    fn zendesk() -> Policy {
        let f = |rw, aw, solved| StatusFlags {
            requester_wait: rw,
            agent_work: aw,
            solved,
        };
        Policy::default()
            .with_status("new", f(true, true, false))
            .with_status("open", f(true, true, false))
            .with_status("pending", f(false, false, false))
            .with_status("hold", f(true, false, false))
            .with_status("solved", f(false, false, true))
            .with_status("closed", f(false, false, true))
    }

    fn run<'a>(
        rows: &[(&'a str, Option<&'a str>, i64)],
        policy: &Policy,
        as_of: i64,
    ) -> Result<Vec<Instance<'a>>, KpiError> {
        let mut ev: Vec<Event<'_>> = rows
            .iter()
            .map(|(k, v, h)| event_of(k.as_bytes(), v.map(|s| s.as_bytes()), h * H))
            .collect::<Result<_, _>>()?;
        ev.sort_by(|x, y| (x.at, x.kind, x.value).cmp(&(y.at, y.kind, y.value)));
        instances(&ev, policy, as_of * H, &mut Calendar)
    }

    #[test]
    fn reply_cycles_and_outcomes() {
        let p = zendesk()
            .with_target(Metric::FirstReply, "high", 2 * H, None)
            .with_target(Metric::NextReply, "high", 4 * H, None)
            .with_target(Metric::PeriodicUpdate, "high", 10 * H, None);
        let rows = [
            ("status", Some("new"), 0),
            ("priority", Some("high"), 0),
            ("message", Some("customer"), 0),
            ("message", Some("agent"), 1), // first reply after 1h: achieved
            ("message", Some("customer"), 2), // next reply 1
            ("message", Some("customer"), 3), // still waiting: no new cycle
            ("message", Some("agent"), 8), // 6h: breached at 6
            ("message", Some("customer"), 9), // next reply 2, active
        ];
        let got = run(&rows, &p, 10).unwrap();
        let brief: Vec<_> = got
            .iter()
            .map(|i| {
                (
                    i.metric.name(),
                    i.cycle,
                    i.applied_at / H,
                    i.fulfilled_at.map(|t| t / H),
                    i.breach_at.map(|t| t / H),
                    i.elapsed_us / H,
                    i.outcome.name(),
                )
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                ("first_reply_time", 1, 0, Some(1), Some(2), 1, "achieved"),
                ("next_reply_time", 1, 2, Some(8), Some(6), 6, "breached"),
                ("next_reply_time", 2, 9, None, Some(13), 1, "active"),
                ("periodic_update", 1, 1, Some(8), Some(11), 7, "achieved"),
                ("periodic_update", 2, 8, None, Some(18), 2, "active"),
            ]
        );
    }

    #[test]
    fn exactly_the_target_is_achieved() {
        let p = zendesk().with_target(Metric::FirstReply, "", 2 * H, None);
        let at = |h| {
            run(
                &[("status", Some("new"), 0), ("message", Some("agent"), h)],
                &p,
                10,
            )
            .unwrap()
        };
        // an agent wrote first: no first reply SLA
        assert!(at(2).is_empty());
        let rows = [
            ("status", Some("new"), 0),
            ("message", Some("customer"), 0),
            ("message", Some("agent"), 2),
        ];
        assert_eq!(run(&rows, &p, 10).unwrap()[0].outcome, Outcome::Achieved);
        let rows = [("status", Some("new"), 0), ("message", Some("customer"), 0)];
        let active = run(&rows, &p, 2).unwrap();
        assert_eq!(
            (active[0].outcome, active[0].breach_at),
            (Outcome::Active, Some(2 * H))
        );
        assert_eq!(run(&rows, &p, 3).unwrap()[0].outcome, Outcome::Breached);
    }

    #[test]
    fn priority_change_keeps_elapsed_time() {
        let p = zendesk()
            .with_target(Metric::FirstReply, "low", 8 * H, None)
            .with_target(Metric::FirstReply, "urgent", 2 * H, None);
        let rows = [
            ("status", Some("new"), 0),
            ("priority", Some("low"), 0),
            ("message", Some("customer"), 0),
            ("priority", Some("urgent"), 3), // 3h elapsed > 2h: breached at once
            ("message", Some("agent"), 4),
        ];
        let got = run(&rows, &p, 10).unwrap();
        assert_eq!(
            (got[0].outcome, got[0].breach_at, got[0].priority),
            (Outcome::Breached, Some(3 * H), &b"urgent"[..])
        );
        // a priority with no target: no SLA reported, no breach while it holds
        let rows = [
            ("status", Some("new"), 0),
            ("message", Some("customer"), 0),
            ("priority", Some("none"), 0),
            ("message", Some("agent"), 9),
        ];
        assert!(run(&rows, &p, 10).unwrap().is_empty());
    }

    #[test]
    fn wait_metrics_pause_and_fulfil_on_solve() {
        let p = zendesk()
            .with_target(Metric::RequesterWait, "", 5 * H, None)
            .with_target(Metric::AgentWork, "", 3 * H, None);
        let rows = [
            ("status", Some("new"), 0),
            ("status", Some("open"), 1),
            ("status", Some("pending"), 2), // 2h counted by both
            ("status", Some("hold"), 4),    // requester wait counts hold
            ("status", Some("open"), 5),
            ("status", Some("solved"), 6),
        ];
        let got = run(&rows, &p, 20).unwrap();
        let brief: Vec<_> = got
            .iter()
            .map(|i| {
                (
                    i.metric.name(),
                    i.elapsed_us / H,
                    i.outcome.name(),
                    i.breach_at.map(|t| t / H),
                )
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                ("requester_wait_time", 4, "achieved", Some(7)),
                ("agent_work_time", 3, "achieved", Some(6))
            ]
        );
        // as of hour 3, pending: paused, no breach predicted
        let got = run(&rows, &p, 3).unwrap();
        assert!(got
            .iter()
            .all(|i| i.outcome == Outcome::Active && i.paused && i.breach_at.is_none()));
        // reopened after the solve: active again
        let mut more = rows.to_vec();
        more.push(("status", Some("open"), 7));
        let got = run(&more, &p, 8).unwrap();
        assert_eq!(
            (got[1].outcome, got[1].breach_at),
            (Outcome::Breached, Some(7 * H))
        );
        assert_eq!(
            (got[0].outcome, got[0].breach_at),
            (Outcome::Active, Some(8 * H))
        );
    }

    #[test]
    fn bad_tickets_are_errors() {
        let p = zendesk().with_target(Metric::FirstReply, "", H, None);
        let e = run(
            &[("status", Some("new"), 5), ("message", Some("customer"), 4)],
            &p,
            10,
        )
        .unwrap_err();
        assert!(
            e.message.starts_with(
                "the message at 2000-01-01 04:00:00+00 is before the ticket was created"
            ),
            "{}",
            e.message
        );
        let e = run(&[("status", Some("waiting"), 5)], &p, 10).unwrap_err();
        assert!(e.message.contains("\"waiting\""));
        assert!(run(&[("message", Some("customer"), 4)], &p, 10).is_err());
        assert!(run(&[], &p, 10).unwrap().is_empty());
        // not yet created as of the instant
        assert!(run(&[("status", Some("new"), 5)], &p, 4)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn any_events_and_instants_give_rows_or_errors_never_a_panic() {
        // debug builds check every arithmetic overflow: random tickets at the ends of the
        // timestamp range, with huge targets and as-of instants
        use crate::status_history::{END_INSTANT, MIN_INSTANT};
        let p = zendesk()
            .with_target(Metric::FirstReply, "a", i64::MAX / 2, None)
            .with_target(Metric::NextReply, "a", 1, None)
            .with_target(Metric::PeriodicUpdate, "b", 7 * H, None)
            .with_target(Metric::RequesterWait, "a", 1, None)
            .with_target(Metric::AgentWork, "b", i64::MAX, None);
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let instants = [
            MIN_INSTANT,
            MIN_INSTANT + 1,
            -1,
            0,
            1,
            H,
            END_INSTANT - 2,
            END_INSTANT - 1,
        ];
        let (mut answered, mut refused) = (0, 0);
        for _ in 0..3000 {
            let n = next(8) as usize;
            let mut values: Vec<(u8, &[u8], i64)> = Vec::new();
            for _ in 0..n {
                let kind = next(5) as u8;
                let value: &[u8] = match kind {
                    PRIORITY => [&b"a"[..], b"b", b""][next(3) as usize],
                    SCHEDULE => [&b"x"[..], b""][next(2) as usize],
                    STATUS => {
                        [&b"new"[..], b"open", b"pending", b"hold", b"solved"][next(5) as usize]
                    }
                    _ => b"",
                };
                let at = if next(3) == 0 {
                    instants[next(8) as usize]
                } else {
                    next(100) as i64 * H
                };
                values.push((kind, value, at));
            }
            // mostly a ticket created first, sometimes not
            if let Some(first) = values.iter().map(|v| v.2).min().filter(|_| next(5) > 0) {
                values.push((STATUS, b"new", first));
            }
            let mut ev: Vec<Event<'_>> = values
                .iter()
                .map(|&(kind, value, at)| Event { at, kind, value })
                .collect();
            ev.sort_by(|x, y| (x.at, x.kind, x.value).cmp(&(y.at, y.kind, y.value)));
            let as_of = if next(2) == 0 {
                instants[next(8) as usize]
            } else {
                next(200) as i64 * H
            };
            match instances(&ev, &p, as_of, &mut Calendar) {
                Ok(rows) => {
                    answered += rows.len();
                    for r in rows {
                        assert!(r.elapsed_us >= 0);
                        assert!(r.breach_at.is_none_or(|b| b >= r.applied_at));
                    }
                }
                Err(_) => refused += 1,
            }
        }
        assert!(answered > 300 && refused > 100, "{answered} {refused}");
    }

    #[test]
    fn a_solve_fulfils_awaited_replies() {
        let p = zendesk()
            .with_target(Metric::FirstReply, "", 2 * H, None)
            .with_target(Metric::PeriodicUpdate, "", 2 * H, None);
        // created solved: no first reply SLA; the last reply sent with the solve: no update SLA
        let rows = [("status", Some("solved"), 0)];
        assert!(run(&rows, &p, 5).unwrap().is_empty());
        let rows = [
            ("status", Some("new"), 0),
            ("message", Some("customer"), 0),
            ("message", Some("agent"), 1),
            ("status", Some("solved"), 1),
        ];
        let got = run(&rows, &p, 5).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].metric, Metric::FirstReply);
    }
}
