//! In-server tests (`cargo pgrx test`): behaviour close to the support functions.
use pgrx::prelude::*;

#[pg_test]
fn escalation_rate_counts_true_among_non_null() {
    let rate = Spi::get_one::<String>(
        "SELECT escalation_rate(e)::text FROM (VALUES (true), (false), (NULL), (false)) v(e)",
    );
    assert_eq!(rate, Ok(Some("33.3333333333333333".to_string())));
}
