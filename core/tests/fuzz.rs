//! Fuzzing of every parser in `core` that reads outside input: command payloads, the
//! site configuration, and the board and status payloads the screens read. Each property
//! holds for every input; `PROPTEST_CASES` sets how many are tried (CI runs the default
//! 256 per property, BENCHMARKS.md has a long run).

use proptest::prelude::*;
use qms_core::alerts::StaffAlerts;
use qms_core::config::DEFAULT_CONFIG;
use qms_core::protocol::{Board, CommandEnvelope, DeviceStatus, MAX_ID_CHARS, OPS};
use qms_core::SiteConfig;

/// A JSON value of any shape, a few levels deep.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        proptest::sample::select(OPS.to_vec()).prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The protocol's field names, and others.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "v",
            "id",
            "op",
            "service",
            "priority",
            "counter",
            "ticket",
            "to_service",
            "to_counter",
            "rating",
            "state",
            "day",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
    ]
}

/// A command-shaped object: the envelope's fields mostly right, the rest anything.
fn command_like() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(serde_json::json!(1)), json()],
        prop_oneof![".{1,20}".prop_map(serde_json::Value::from), json()],
        prop_oneof![
            proptest::sample::select(OPS.to_vec()).prop_map(serde_json::Value::from),
            json()
        ],
        prop::collection::btree_map(field_name(), json(), 0..6),
    )
        .prop_map(|(v, id, op, rest)| {
            let mut object: serde_json::Map<String, serde_json::Value> = rest.into_iter().collect();
            object.insert("v".into(), v);
            object.insert("id".into(), id);
            object.insert("op".into(), op);
            serde_json::to_vec(&object).unwrap()
        })
}

fn check_command(payload: &[u8]) {
    match CommandEnvelope::parse(payload) {
        Ok(envelope) => {
            assert!((1..=MAX_ID_CHARS).contains(&envelope.id.chars().count()));
            // What parses serializes and parses back to the same command.
            let again = serde_json::to_vec(&envelope).unwrap();
            assert_eq!(CommandEnvelope::parse(&again).unwrap(), envelope);
        }
        Err((id, error)) => {
            assert!(id.is_none_or(|id| id.chars().count() <= MAX_ID_CHARS));
            // A refusal never echoes much of the input.
            assert!(error.message.len() < 600, "{error:?}");
            assert!(error.message_en.len() < 600, "{error:?}");
        }
    }
}

/// The byte range of the line around `at`.
fn line_around(text: &str, at: usize) -> std::ops::Range<usize> {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    start..end
}

proptest! {
    #[test]
    fn any_bytes_as_a_command_get_an_answer_never_a_panic(
        payload in prop::collection::vec(any::<u8>(), 0..512)
    ) {
        check_command(&payload);
    }

    #[test]
    fn any_command_shaped_json_gets_a_bounded_answer(payload in command_like()) {
        check_command(&payload);
    }

    #[test]
    fn a_damaged_configuration_is_refused_with_a_field_never_a_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, ".{0,8}"), 1..6)
    ) {
        let mut text = DEFAULT_CONFIG.to_string();
        for (at, kind, insert) in edits {
            let mut at = at.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match kind {
                0 => text.replace_range(line_around(&text, at), ""),
                1 => text.insert_str(at, &insert),
                2 => {
                    let line = text[line_around(&text, at)].to_string();
                    text.insert_str(line_around(&text, at).start, &line);
                }
                _ => {
                    if let Some(i) = text[at..].find(|c: char| c.is_ascii_digit()) {
                        text.replace_range(at + i..at + i + 1, "9");
                    }
                }
            }
        }
        if let Err(e) = SiteConfig::parse(&text) {
            prop_assert!(!e.problems.is_empty());
            for problem in &e.problems {
                prop_assert!(!problem.field.is_empty());
                prop_assert!(!problem.message.is_empty());
            }
        }
    }

    #[test]
    fn any_status_payload_is_read_or_ignored(payload in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
    ]) {
        let mut alerts = StaffAlerts::default();
        alerts.printer_status("printer-1", &payload);
        alerts.device_status("kiosk-1", &payload);
        alerts.queue_alerts(&payload);
        for alert in alerts.alerts(&qms_core::SiteConfig::default_site()) {
            prop_assert!(alert.starts_with("printer-1: ") || alert.starts_with("kiosk-1: "));
        }
        let _ = qms_core::protocol::PrinterStatus::parse(&payload);
        let _ = serde_json::from_slice::<DeviceStatus>(&payload);
    }

    #[test]
    fn a_damaged_board_is_read_or_refused(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8)
    ) {
        let config = SiteConfig::default_site();
        let board = qms_core::QueueState::default()
            .board(&config, time::macros::datetime!(2026-12-01 08:00 +7));
        let mut bytes = serde_json::to_vec(&board).unwrap();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(read) = serde_json::from_slice::<Board>(&bytes) {
            // What a screen accepts is a whole board again.
            let again = serde_json::to_vec(&read).unwrap();
            prop_assert_eq!(serde_json::from_slice::<Board>(&again).unwrap(), read);
        }
    }
}
