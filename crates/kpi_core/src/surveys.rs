//! State of the survey KPIs (NPS, CSAT, CES): how many answers gave each score.
//!
//! A histogram of the scale is enough for all three scores, merges by adding, and carries
//! which survey it counts, so a CSAT summary can never be read as an NPS.

use crate::codec::{put_i64, put_u8, Reader, BINARY_FORMAT};
use crate::error::{checked_sum, input_error, KpiError, KpiErrorKind, MAX_COUNT};
use serde::{Deserialize, Serialize};

/// Counts kept for the longest scale (NPS, 0 to 10).
const MAX_POINTS: usize = 11;

/// Size of the SQL value: the survey tag and eleven counters.
/// The most answers one survey state counts, so that every sum it takes fits in 64 bits.
pub const MAX_RESPONSES: i64 = 11 * MAX_COUNT;

pub const SURVEY_BYTES: usize = 8 * (1 + MAX_POINTS);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Survey {
    /// Net Promoter Score: 0-10; promoters 9-10, detractors 0-6.
    Nps = 1,
    /// Customer satisfaction: 1-5; satisfied means 4 or 5.
    Csat = 2,
    /// Customer Effort Score 2.0: agreement 1-7 that the issue was easy to handle.
    Ces = 3,
}

impl Survey {
    pub fn name(self) -> &'static str {
        match self {
            Survey::Nps => "nps",
            Survey::Csat => "csat",
            Survey::Ces => "ces",
        }
    }

    /// Lowest and highest score of the scale.
    pub fn scale(self) -> (i32, i32) {
        match self {
            Survey::Nps => (0, 10),
            Survey::Csat => (1, 5),
            Survey::Ces => (1, 7),
        }
    }

    fn points(self) -> usize {
        let (lo, hi) = self.scale();
        (hi - lo + 1) as usize
    }

    fn from_tag(tag: i64) -> Option<Survey> {
        [Survey::Nps, Survey::Csat, Survey::Ces]
            .into_iter()
            .find(|s| *s as i64 == tag)
    }

    fn from_name(name: &str) -> Option<Survey> {
        [Survey::Nps, Survey::Csat, Survey::Ces]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct SurveyCounts {
    /// `Survey as i64`; an i64 keeps the struct a plain array of counters.
    survey: i64,
    /// `counts[i]`: answers with score `lowest + i`.
    counts: [i64; MAX_POINTS],
}

impl SurveyCounts {
    pub fn new(survey: Survey) -> Self {
        SurveyCounts {
            survey: survey as i64,
            counts: [0; MAX_POINTS],
        }
    }

    pub fn survey(&self) -> Survey {
        Survey::from_tag(self.survey).expect("states are checked when they enter")
    }

    /// The counter of `score`, or the error naming the score and the scale.
    fn slot(&self, score: i32) -> Result<usize, KpiError> {
        let survey = self.survey();
        let (lo, hi) = survey.scale();
        if score < lo || score > hi {
            return Err(input_error(
                KpiErrorKind::OutOfRange,
                format!(
                    "{} answer {score} is outside its scale {lo} to {hi}",
                    survey.name().to_uppercase()
                ),
                "Survey answers are whole scores on the KPI's scale (NPS 0-10, CSAT 1-5, CES 1-7). \
                 Rescale answers given on another scale, or leave them out with FILTER (WHERE ...).",
            ));
        }
        Ok((score - lo) as usize)
    }

    pub fn add(&mut self, score: i32) -> Result<(), KpiError> {
        let i = self.slot(score)?;
        // states start within MAX_RESPONSES (checked on input and merge), so sums of
        // scores stay within 64 bits for any number of rows a table can hold
        self.counts[i] = checked_sum(self.counts[i], 1)?;
        Ok(())
    }

    /// Takes back an answer added earlier (moving-window aggregates).
    pub fn remove(&mut self, score: i32) -> Result<(), KpiError> {
        let i = self.slot(score)?;
        if self.counts[i] == 0 {
            return Err(KpiError::nothing_to_take_back());
        }
        self.counts[i] -= 1;
        Ok(())
    }

    pub fn merge(&mut self, other: &SurveyCounts) -> Result<(), KpiError> {
        self.expect_survey(other.survey())?;
        let mut merged = *self;
        for (a, b) in merged.counts.iter_mut().zip(other.counts) {
            *a = checked_sum(*a, b)?;
        }
        merged.responses_fit()?;
        *self = merged;
        Ok(())
    }

    /// Refuses to read this state as another survey's.
    pub fn expect_survey(&self, survey: Survey) -> Result<(), KpiError> {
        if self.survey() != survey {
            return Err(KpiError::new(
                KpiErrorKind::Mismatch,
                format!(
                    "this summary counts {} answers, not {} answers",
                    self.survey().name().to_uppercase(),
                    survey.name().to_uppercase()
                ),
            )
            .with_hint("Each survey summary counts the answers of one survey scale."));
        }
        Ok(())
    }

    /// Answers with a score in `lo..=hi`.
    fn answers_between(&self, lo: i32, hi: i32) -> i64 {
        let lowest = self.survey().scale().0;
        (lo..=hi).map(|s| self.counts[(s - lowest) as usize]).sum()
    }

    pub fn responses(&self) -> i64 {
        self.counts.iter().sum()
    }

    /// (promoters, detractors) of an NPS survey.
    pub fn promoters_detractors(&self) -> (i64, i64) {
        (self.answers_between(9, 10), self.answers_between(0, 6))
    }

    /// The answers per score of the survey's scale, lowest score first.
    pub fn counts(&self) -> &[i64] {
        &self.counts[..self.survey().points()]
    }

    /// (promoters - detractors, answers): NPS = first * 100 / second.
    pub fn nps_parts(&self) -> (i64, i64) {
        (
            self.answers_between(9, 10) - self.answers_between(0, 6),
            self.responses(),
        )
    }

    /// (answers of 4 or 5, answers): CSAT = first * 100 / second.
    pub fn csat_parts(&self) -> (i64, i64) {
        (self.answers_between(4, 5), self.responses())
    }

    /// (sum of scores, answers): CES = first / second.
    pub fn score_sum(&self) -> (i64, i64) {
        let lowest = self.survey().scale().0 as i64;
        let sum = self
            .counts
            .iter()
            .enumerate()
            .map(|(i, n)| (lowest + i as i64) * n)
            .sum();
        (sum, self.responses())
    }

    fn check(self) -> Result<Self, KpiError> {
        let Some(survey) = Survey::from_tag(self.survey) else {
            return Err(KpiError::invalid_text(format!(
                "unknown survey tag {}",
                self.survey
            )));
        };
        let points = survey.points();
        if self.counts.iter().any(|n| *n < 0) || self.counts[points..].iter().any(|n| *n != 0) {
            return Err(KpiError::invalid_text(format!(
                "invalid {} survey state: counts {:?}",
                survey.name(),
                &self.counts[..points]
            ))
            .with_hint("Counts are non-negative, one per score of the scale."));
        }
        self.responses_fit()?;
        Ok(self)
    }

    /// Sums of counters, and of scores times counters (at most 10 per answer), are taken in
    /// i64: refuse states with more answers than [`MAX_RESPONSES`].
    fn responses_fit(&self) -> Result<(), KpiError> {
        let total: i128 = self.counts.iter().map(|n| *n as i128).sum();
        if total > MAX_RESPONSES as i128 {
            return Err(KpiError::overflow()
                .with_hint("A survey state counts at most 792633534417207285 answers."));
        }
        Ok(())
    }

    pub fn to_text(&self) -> String {
        let survey = self.survey();
        serde_json::to_string(&SurveyText {
            survey: survey.name().into(),
            counts: self.counts[..survey.points()].to_vec(),
        })
        .expect("integers always serialize")
    }

    pub fn from_text(text: &str) -> Result<Self, KpiError> {
        let bad = |why: String| {
            KpiError::invalid_text(format!("invalid survey state \"{}\": {why}", crate::error::excerpt(text))).with_hint(
                "Write it as {\"survey\": \"csat\", \"counts\": [1, 0, 2, 5, 9]}: one count per score, lowest first.",
            )
        };
        let t: SurveyText =
            serde_json::from_str(text).map_err(|e| bad(crate::error::excerpt(&e.to_string())))?;
        let survey = Survey::from_name(&t.survey).ok_or_else(|| {
            bad(format!(
                "unknown survey \"{}\"",
                crate::error::excerpt(&t.survey)
            ))
        })?;
        if t.counts.len() != survey.points() {
            return Err(bad(format!(
                "{} counts for a scale of {} scores",
                t.counts.len(),
                survey.points()
            )));
        }
        let mut s = SurveyCounts::new(survey);
        s.counts[..t.counts.len()].copy_from_slice(&t.counts);
        s.check()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + SURVEY_BYTES);
        put_u8(&mut out, BINARY_FORMAT);
        put_i64(&mut out, self.survey);
        for n in self.counts {
            put_i64(&mut out, n);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KpiError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let mut s = SurveyCounts {
            survey: r.i64()?,
            counts: [0; MAX_POINTS],
        };
        for n in s.counts.iter_mut() {
            *n = r.i64()?;
        }
        r.finish()?;
        s.check().map_err(|e| KpiError::invalid_binary(e.message))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveyText {
    survey: String,
    counts: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(survey: Survey, scores: &[i32]) -> SurveyCounts {
        let mut s = SurveyCounts::new(survey);
        for score in scores {
            s.add(*score).unwrap();
        }
        s
    }

    #[test]
    fn nps_counts_promoters_minus_detractors() {
        let s = answers(Survey::Nps, &[10, 9, 8, 7, 6, 0]);
        assert_eq!(s.nps_parts(), (0, 6));
        assert_eq!(answers(Survey::Nps, &[9, 10, 3]).nps_parts(), (1, 3));
    }

    #[test]
    fn csat_is_top_two_box_and_ces_the_mean() {
        assert_eq!(answers(Survey::Csat, &[5, 4, 3, 1]).csat_parts(), (2, 4));
        assert_eq!(answers(Survey::Ces, &[7, 1, 4]).score_sum(), (12, 3));
    }

    #[test]
    fn scores_off_the_scale_are_refused() {
        let mut s = SurveyCounts::new(Survey::Csat);
        let e = s.add(0).unwrap_err();
        assert_eq!(e.kind, KpiErrorKind::OutOfRange);
        assert!(e
            .message
            .contains("CSAT answer 0 is outside its scale 1 to 5"));
        assert!(SurveyCounts::new(Survey::Nps).add(11).is_err());
        assert!(SurveyCounts::new(Survey::Ces).add(8).is_err());
    }

    #[test]
    fn merge_adds_and_refuses_other_surveys() {
        let mut a = answers(Survey::Nps, &[10]);
        a.merge(&answers(Survey::Nps, &[0, 10])).unwrap();
        assert_eq!(a.nps_parts(), (1, 3));
        let e = a.merge(&answers(Survey::Csat, &[5])).unwrap_err();
        assert_eq!(e.kind, KpiErrorKind::Mismatch);
    }

    #[test]
    fn text_and_bytes_round_trip() {
        let s = answers(Survey::Csat, &[5, 5, 4, 1]);
        assert_eq!(s.to_text(), r#"{"survey":"csat","counts":[1,0,0,1,2]}"#);
        assert_eq!(SurveyCounts::from_text(&s.to_text()).unwrap(), s);
        assert_eq!(SurveyCounts::from_bytes(&s.to_bytes()).unwrap(), s);
    }

    #[test]
    fn rejects_impossible_states() {
        assert!(SurveyCounts::from_text(r#"{"survey":"csat","counts":[1,0,0,1]}"#).is_err());
        assert!(SurveyCounts::from_text(r#"{"survey":"csat","counts":[1,0,0,1,-2]}"#).is_err());
        assert!(SurveyCounts::from_text(r#"{"survey":"xyz","counts":[]}"#).is_err());
        let mut bytes = answers(Survey::Ces, &[1]).to_bytes();
        bytes[8] = 9; // survey tag 9
        assert!(SurveyCounts::from_bytes(&bytes).is_err());
    }
}
