//! Tests of the fast text form (text_form.rs) of the distinct-customer states against the
//! general JSON reader and writer, for both state types. A module of its own, so that
//! text_form.rs imports neither state module.

use crate::customer_rate::{self as customer, as_is};
use crate::flat::{Key, OwnedState};
use crate::keys::KeyType;
use crate::segment_rate as segment;
use crate::KpiError;

/// The state's text (compared instead of bytes: a flat state's layout depends on the order
/// its keys came in).
fn text_of(s: &Result<OwnedState, KpiError>) -> Result<String, String> {
    match s {
        Ok(s) => customer::to_text(&s.view(), &as_is, &mut || {}).map_err(|e| e.message),
        Err(e) => Err(e.message.clone()),
    }
}

fn segment_text_of(s: &Result<OwnedState, KpiError>) -> Result<String, String> {
    match s {
        Ok(s) => segment::to_text(&s.view(), &as_is, &mut || {}).map_err(|e| e.message),
        Err(e) => Err(e.message.clone()),
    }
}

/// Whether the fast reader answers `text`; either way, the readers agree.
fn same_customer(text: &str) -> bool {
    let general = text_of(&customer::from_text_via_json(text, &as_is));
    assert_eq!(
        text_of(&customer::from_text(text, &as_is)),
        general,
        "{text}"
    );
    customer::scan(text).is_some_and(|(keys, events)| {
        let fast = customer::build(&keys, events).unwrap();
        fast.is_some() && {
            assert_eq!(text_of(&Ok(fast.unwrap())), general, "{text}");
            true
        }
    })
}

#[test]
fn writer_writes_what_serde_json_writes() {
    for kt in [KeyType::Int, KeyType::Uuid, KeyType::Text] {
        let mut c = OwnedState::customer(kt);
        let mut s = OwnedState::segment(kt);
        let json =
            |c: &OwnedState| customer::to_text_via_json(&c.view(), &as_is).map_err(|e| e.message);
        assert_eq!(text_of(&Ok(c.clone())), json(&c));
        for i in [-9_223_372_036_854_775_808i64, -1, 0, 7, 10, 99, i64::MAX] {
            let text = format!("k\"\\\n\t\u{1}é{i}");
            let key = match kt {
                KeyType::Int => Key::Int(i),
                KeyType::Uuid => Key::Uuid((i as u128).to_be_bytes()),
                KeyType::Text => Key::Text(text.as_bytes()),
            };
            c.insert_customer(key).unwrap();
            c.add_events(1).unwrap();
            s.insert_segment_row("é \"north\"\n".as_bytes(), key, 1)
                .unwrap();
            s.insert_segment_row(b"a", key, 1).unwrap();
        }
        assert_eq!(text_of(&Ok(c.clone())), json(&c));
        assert_eq!(
            segment_text_of(&Ok(s.clone())),
            segment::to_text_via_json(&s.view(), &as_is).map_err(|e| e.message)
        );
    }
    let mut c = OwnedState::customer(KeyType::Text);
    c.insert_customer(Key::Text(b"\xff")).unwrap();
    assert!(text_of(&Ok(c.clone())).is_err());
    assert!(customer::to_text_via_json(&c.view(), &as_is).is_err());
}

#[test]
fn reader_takes_the_writers_shape_in_any_spacing_and_order() {
    for text in [
        r#"{"key_type":"bigint","events":3,"customers":[1,-2,9223372036854775807]}"#,
        " {\n \"key_type\" : \"bigint\" ,\t\"customers\" : [ ] , \"events\" : 0 } \r\n",
        r#"{"key_type":"uuid","events":1,"customers":["00000000-0000-0000-0000-00000000000A"]}"#,
        r#"{"key_type":"text","events":1,"customers":["a\"b","\u00e8","é",""]}"#,
    ] {
        assert!(same_customer(text), "{text}");
    }
}

#[test]
fn reader_leaves_everything_else_to_the_general_reader() {
    for text in [
        r#"{"events":3,"key_type":"bigint","customers":[1]}"#,
        r#"{"key_type":"bigint","events":3,"customers":[1],"note":1}"#,
        r#"{"key_type":"bigint","events":3,"events":2,"customers":[1]}"#,
        r#"{"key_type":"bigint","events":1.0,"customers":[1]}"#,
        r#"{"key_type":"bigint","events":1e0,"customers":[1]}"#,
        r#"{"key_type":"bigint","events":-0,"customers":[1]}"#,
        r#"{"key_type":"bigint","events":01,"customers":[1]}"#,
        r#"{"key_type":"bigint","events":-1,"customers":[1]}"#,
        r#"{"key_type":"bigint","events":1,"customers":[9223372036854775808]}"#,
        r#"{"key_type":"bigint","events":1,"customers":[1,1]}"#,
        r#"{"key_type":"bigint","events":1,"customers":[]}"#,
        r#"{"key_type":"bigint","events":1,"customers":["1"]}"#,
        r#"{"key_type":"text","events":1,"customers":["a	b"]}"#,
        r#"{"key_type":"text","events":1,"customers":["\x"]}"#,
        r#"{"key_type":"text","events":1,"customers":["\"]}"#,
        r#"{"key_type":"money","events":1,"customers":[1]}"#,
        r#"{"key_type":"bigint","events":1,"customers":[1]} x"#,
        r#"{"key_type":"bigint","events":1,"customers":[1,]}"#,
    ] {
        assert!(!same_customer(text), "{text}");
    }
}

#[test]
fn segment_reader_agrees_with_the_general_reader() {
    for (text, fast) in [
        (r#"{"key_type":"bigint","segments":{}}"#, true),
        (
            r#"{ "key_type": "text", "segments": { "a\n": {"customers": ["x"], "events": 1}, "b": {"events": 0, "customers": ["x"]} } }"#,
            true,
        ),
        (
            r#"{"key_type":"bigint","segments":{"a":{"events":0,"customers":[]}}}"#,
            false,
        ),
        (
            r#"{"key_type":"bigint","segments":{"a":{"events":0,"customers":[1]},"a":{"events":0,"customers":[2]}}}"#,
            false,
        ),
        (
            r#"{"key_type":"bigint","segments":{"a":{"events":0}}}"#,
            false,
        ),
        (r#"{"segments":{},"key_type":"bigint"}"#, false),
    ] {
        let general = segment_text_of(&segment::from_text_via_json(text, &as_is));
        let quick = segment::scan(text);
        assert_eq!(quick.is_some(), fast, "{text}");
        if let Some((kt, segments)) = quick {
            let built = segment::build(kt, segments, &as_is).unwrap().unwrap();
            assert_eq!(segment_text_of(&Ok(built)), general, "{text}");
        }
        assert_eq!(
            segment_text_of(&segment::from_text(text, &as_is)),
            general,
            "{text}"
        );
    }
}
