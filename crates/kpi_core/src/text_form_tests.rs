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

#[test]
fn packed_keys_round_trip_at_the_edges() {
    use crate::keys::Keys;
    use crate::text_form::{pack, unpack};
    for keys in [
        vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX],
        vec![i64::MIN, i64::MAX],
        (0..1000).collect(),
        (0..1000).map(|k| k * 1_000_003 - 7).collect(),
        vec![],
    ] {
        let packed = pack(&Keys::Int(keys.clone())).unwrap();
        assert_eq!(
            unpack(KeyType::Int, &packed),
            Ok(Keys::Int(keys)),
            "{packed}"
        );
    }
    // consecutive ids: a byte a key, so 1,000 ids take 1,336 characters (JSON: 3,890)
    assert_eq!(pack(&Keys::Int((1..=1000).collect())).unwrap().len(), 1336);
    let uuids: Vec<[u8; 16]> = (0..70u128).map(|i| (i * 977).to_be_bytes()).collect();
    let packed = pack(&Keys::Uuid(uuids.clone())).unwrap();
    assert_eq!(unpack(KeyType::Uuid, &packed), Ok(Keys::Uuid(uuids)));
    assert_eq!(pack(&Keys::Text(vec![b"a".to_vec()])), None);
}

#[test]
fn packed_keys_refuse_what_no_writer_writes() {
    use crate::text_form::unpack;
    for (kt, packed, says) in [
        (KeyType::Int, "AQ", "not base64"),                // no padding
        (KeyType::Int, "AB==", "not base64"),              // unused bits set
        (KeyType::Int, "A=A=", "not base64"),              // padding inside
        (KeyType::Int, "gA==", "ends inside"),             // a varint cut short
        (KeyType::Int, "gAA=", "ends inside"),             // 0x80 0x00: a redundant zero byte
        (KeyType::Int, "/v///////////wE=", "ends inside"), // a varint of over 64 bits
        (KeyType::Uuid, "AAAA", "16 bytes"),
        (KeyType::Text, "", "not packed"),
    ] {
        let err = unpack(kt, packed).unwrap_err();
        assert!(err.contains(says), "{packed}: {err}");
    }
    // i64::MAX, then one more: past the largest bigint
    let mut b = Vec::new();
    for w in [(i64::MAX as u64) << 1, 0] {
        let mut v = w;
        while v >= 0x80 {
            b.push((v as u8) | 0x80);
            v >>= 7;
        }
        b.push(v as u8);
    }
    let packed = crate::text_form::tests_base64(&b);
    assert!(unpack(KeyType::Int, &packed)
        .unwrap_err()
        .contains("largest bigint"));
    // uuids out of order
    let mut b = [1u8; 16].to_vec();
    b.extend_from_slice(&[0u8; 16]);
    let err = unpack(KeyType::Uuid, &crate::text_form::tests_base64(&b)).unwrap_err();
    assert!(err.contains("sorted and distinct"), "{err}");
}

#[test]
fn a_large_state_prints_packed_and_reads_back_either_way() {
    for kt in [KeyType::Int, KeyType::Uuid, KeyType::Text] {
        let mut c = OwnedState::customer(kt);
        let mut s = OwnedState::segment(kt);
        for i in 0..65i64 {
            let text = format!("t{i}");
            let key = match kt {
                KeyType::Int => Key::Int(i * 3 - 90),
                KeyType::Uuid => Key::Uuid((i as u128 * 31).to_be_bytes()),
                KeyType::Text => Key::Text(text.as_bytes()),
            };
            c.insert_customer(key).unwrap();
            s.insert_segment_row(b"north", key, 1).unwrap();
        }
        c.add_events(7).unwrap();
        let compact = customer::to_text(&c.view(), &as_is, &mut || {}).unwrap();
        let listed = customer::to_listed_text(&c.view(), &as_is, &mut || {}).unwrap();
        assert_eq!(
            compact.contains("\"packed\":\""),
            kt != KeyType::Text,
            "{compact}"
        );
        assert!(listed.contains("\"customers\":["));
        assert_eq!(
            Ok(compact.clone()),
            customer::to_text_via_json(&c.view(), &as_is).map_err(|e| e.message)
        );
        for text in [&compact, &listed] {
            assert!(same_customer(text) || kt == KeyType::Text, "{text}");
            let back = customer::from_text(text, &as_is).unwrap();
            assert_eq!(text_of(&Ok(back)), Ok(compact.clone()));
        }
        let seg = segment::to_text(&s.view(), &as_is, &mut || {}).unwrap();
        assert_eq!(seg.contains("\"packed\""), kt != KeyType::Text);
        let back = segment::from_text(&seg, &as_is).unwrap();
        assert_eq!(segment_text_of(&Ok(back)), Ok(seg.clone()));
        let listed = segment::to_listed_text(&s.view(), &as_is, &mut || {}).unwrap();
        assert_eq!(
            segment_text_of(&segment::from_text(&listed, &as_is)),
            Ok(seg)
        );
    }
    // both fields, or packed text keys: refused with the reason
    for (text, says) in [
        (
            r#"{"key_type":"bigint","events":0,"customers":[1],"packed":"AA=="}"#,
            "not both",
        ),
        (
            r#"{"key_type":"text","events":0,"packed":"AA=="}"#,
            "not packed",
        ),
        (
            r#"{"key_type":"bigint","events":0,"packed":7}"#,
            "must be a string",
        ),
    ] {
        let err = customer::from_text(text, &as_is).unwrap_err();
        assert!(err.message.contains(says), "{}", err.message);
    }
}
