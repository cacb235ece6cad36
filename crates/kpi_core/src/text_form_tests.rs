//! Tests of the fast text form (text_form.rs) of the distinct-customer states against the
//! general JSON reader and writer, for both state types. A module of its own, so that
//! text_form.rs imports neither state type.

use crate::keys::KeyType;
use crate::{CustomerRate, SegmentRate};

fn same_customer(text: &str) -> Option<CustomerRate> {
    let general = CustomerRate::from_text_via_json(text);
    let fast = CustomerRate::from_text_fast(text);
    if let Some(fast) = &fast {
        assert_eq!(Ok(fast), general.as_ref(), "{text}");
    }
    assert_eq!(CustomerRate::from_text(text), general, "{text}");
    fast
}

#[test]
fn writer_writes_what_serde_json_writes() {
    for kt in [KeyType::Int, KeyType::Uuid, KeyType::Text] {
        let mut c = CustomerRate::new(kt);
        assert_eq!(c.to_text(), c.to_text_via_json());
        for i in [-9_223_372_036_854_775_808i64, -1, 0, 7, 10, 99, i64::MAX] {
            match kt {
                KeyType::Int => c.customers.insert_int(i),
                KeyType::Uuid => c.customers.insert_uuid((i as u128).to_be_bytes()),
                KeyType::Text => c
                    .customers
                    .insert_text(format!("k\"\\\n\t\u{1}é{i}").as_bytes()),
            }
            c.count_event(true);
        }
        assert_eq!(c.to_text(), c.to_text_via_json());
        let mut s = SegmentRate::new(kt);
        s.segment("é \"north\"\n".as_bytes()).merge(&c).unwrap();
        s.segment(b"a").merge(&c).unwrap();
        assert_eq!(s.to_text(), s.to_text_via_json());
    }
    let mut c = CustomerRate::new(KeyType::Text);
    c.customers.insert_text(b"\xff");
    assert_eq!(c.to_text(), c.to_text_via_json());
    assert!(c.to_text().is_err());
}

#[test]
fn reader_takes_the_writers_shape_in_any_spacing_and_order() {
    for text in [
        r#"{"key_type":"bigint","events":3,"customers":[1,-2,9223372036854775807]}"#,
        " {\n \"key_type\" : \"bigint\" ,\t\"customers\" : [ ] , \"events\" : 0 } \r\n",
        r#"{"key_type":"uuid","events":1,"customers":["00000000-0000-0000-0000-00000000000A"]}"#,
        r#"{"key_type":"text","events":1,"customers":["a\"b","\u00e8","é",""]}"#,
    ] {
        assert!(same_customer(text).is_some(), "{text}");
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
        assert!(same_customer(text).is_none(), "{text}");
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
        let general = SegmentRate::from_text_via_json(text);
        let quick = SegmentRate::from_text_fast(text);
        assert_eq!(quick.is_some(), fast, "{text}");
        if let Some(q) = quick {
            assert_eq!(Ok(q), general, "{text}");
        }
        assert_eq!(SegmentRate::from_text(text), general, "{text}");
    }
}
