//! SQL glue of the survey KPIs `nps`, `csat` and `ces`: the `survey_summary` type (a count
//! per score, tagged with its survey) and the aggregate support functions. The math is
//! `kpi_core::surveys`; the SQL is `sql/surveys.sql`.
//!
//! One transition function serves the three surveys: the aggregate's initial state names
//! the survey, and the state checks each score against that survey's scale.

use crate::fixed::{
    fixed_arg, fixed_combine, fixed_in, fixed_out, fixed_recv, fixed_send, update_fixed,
};
use crate::fmgr::{bound_datum, confidence_arg, rate_datum, ratio_datum, strict_arg, OrRaise};
use crate::v1_entry_points;
use kpi_core::intervals::{mean_interval, nps_interval};
use kpi_core::wilson::wilson_interval;
use kpi_core::{Survey, SurveyCounts};
use pgrx::pg_sys::{Datum, FunctionCallInfo};

/// `(state, score integer)`, STRICT: NULL answers are skipped.
unsafe fn add_answer(fcinfo: FunctionCallInfo) -> Datum {
    let score = strict_arg(fcinfo, 1).value() as i32;
    update_fixed::<SurveyCounts>(fcinfo, |state| state.add(score))
}

/// Inverse transition for moving windows: takes back one answer.
unsafe fn remove_answer(fcinfo: FunctionCallInfo) -> Datum {
    let score = strict_arg(fcinfo, 1).value() as i32;
    update_fixed::<SurveyCounts>(fcinfo, |state| state.remove(score))
}

/// The summary in argument 0, refused unless it counts `survey`'s answers.
unsafe fn summary_of<'a>(fcinfo: FunctionCallInfo, survey: Survey) -> &'a SurveyCounts {
    let state = fixed_arg::<SurveyCounts>(fcinfo, 0);
    state.expect_survey(survey).or_raise();
    state
}

/// (promoters - detractors) * 100.0 / answers
unsafe fn nps(fcinfo: FunctionCallInfo) -> Datum {
    let (net, answers) = summary_of(fcinfo, Survey::Nps).nps_parts();
    rate_datum(fcinfo, net, answers, c"100.0")
}

/// answers of 4 or 5 * 100.0 / answers
unsafe fn csat(fcinfo: FunctionCallInfo) -> Datum {
    let (satisfied, answers) = summary_of(fcinfo, Survey::Csat).csat_parts();
    rate_datum(fcinfo, satisfied, answers, c"100.0")
}

/// sum of scores / answers, as `avg(integer)` computes it
unsafe fn ces(fcinfo: FunctionCallInfo) -> Datum {
    let (sum, answers) = summary_of(fcinfo, Survey::Ces).score_sum();
    ratio_datum(fcinfo, sum, answers)
}

unsafe fn responses(fcinfo: FunctionCallInfo) -> Datum {
    Datum::from(fixed_arg::<SurveyCounts>(fcinfo, 0).responses())
}

/// A bound of the interval of one survey's score, in the score's unit: NPS -100 to 100
/// (adjusted Wald), CSAT percent (Wilson), CES the scale 1-7 (Student's t); NULL without
/// answers.
unsafe fn bound(fcinfo: FunctionCallInfo, survey: Survey) -> Datum {
    let s = summary_of(fcinfo, survey);
    let confidence = confidence_arg(fcinfo, 1);
    let upper = strict_arg(fcinfo, 2).value() != 0;
    let n = s.responses();
    let (interval, scale) = match survey {
        Survey::Nps => {
            let (promoters, detractors) = s.promoters_detractors();
            (nps_interval(promoters, detractors, n, confidence), 100.0)
        }
        Survey::Csat => (wilson_interval(s.csat_parts().0, n, confidence), 100.0),
        Survey::Ces => (
            mean_interval(s.counts(), s.survey().scale().0 as i64, confidence),
            1.0,
        ),
    };
    bound_datum(fcinfo, interval, upper, scale)
}

v1_entry_points! {
    survey_nps_bound => bound(Survey::Nps);
    survey_csat_bound => bound(Survey::Csat);
    survey_ces_bound => bound(Survey::Ces);
    survey_summary_in => fixed_in::<SurveyCounts>();
    survey_summary_out => fixed_out::<SurveyCounts>();
    survey_summary_recv => fixed_recv::<SurveyCounts>();
    survey_summary_send => fixed_send::<SurveyCounts>();
    survey_combine => fixed_combine::<SurveyCounts>();
    survey_trans => add_answer();
    survey_inv_trans => remove_answer();
    survey_nps => nps();
    survey_csat => csat();
    survey_ces => ces();
    survey_responses => responses();
}
