//! A counter keypad and an LED number display as their firmware would be: plain MQTT
//! clients that know nothing of this project's code, sending exactly the payloads
//! written in firmware-notes/counter-keypad.md.

use std::net::SocketAddr;
use std::sync::Arc;

use qms_core::config::{Hours, DEFAULT_CONFIG};
use qms_core::protocol::Command;
use qms_core::SiteConfig;
use qms_queue::SystemClock;
use qms_tests::plain::{PlainClient, PlainOptions};
use qms_tests::{client, start_broker, Authority, BrokerKind, WAIT};
use serde_json::Value;

const NOTES: &str = include_str!("../../firmware-notes/counter-keypad.md");

/// The `mosquitto_pub … -m '…'` payload of the notes' worked example for `op`.
fn documented(op: &str) -> Value {
    NOTES
        .lines()
        .filter_map(|line| line.split_once("-m '").map(|(_, rest)| rest))
        .filter_map(|rest| rest.strip_suffix('\''))
        .map(|json| serde_json::from_str::<Value>(json).expect("the notes' payloads are JSON"))
        .find(|payload| payload["op"] == op)
        .unwrap_or_else(|| panic!("the notes show no payload for {op}"))
}

/// The topic the notes' worked example subscribes the LED display `led-3` to.
fn documented_led_topic(root: &str) -> String {
    NOTES
        .lines()
        .filter(|line| line.starts_with("mosquitto_sub") && line.contains("-i led-3 "))
        .filter_map(|line| line.split_once("-t \"$SITE").map(|(_, rest)| rest))
        .filter_map(|rest| {
            rest.split_once('"')
                .map(|(topic, _)| format!("{root}{topic}"))
        })
        .next()
        .expect("the notes subscribe led-3 to a topic")
}

/// Connects as the notes say: client id = username = device id, clean session, a
/// retained last will on its status topic, then `online` and its subscription.
async fn device(addr: SocketAddr, root: &str, id: &str, subscribe: &str) -> PlainClient {
    let status = format!("{root}/dev/{id}/status");
    let how = PlainOptions {
        credentials: Some((id, "not-checked-by-this-broker")),
        last_will: Some((status.clone(), r#"{"v":1,"online":false}"#)),
    };
    let mut plain = PlainClient::connect(addr, id, how)
        .await
        .expect("connected");
    plain
        .publish(&status, &serde_json::json!({"v": 1, "online": true}), true)
        .await;
    assert!(plain.subscribe(subscribe).await);
    plain
}

fn office_with_keypad() -> SiteConfig {
    let extra = "\n[[device]]\nid = \"keypad-3\"\nrole = \"counter\"\ncounter = 3\n\
                 \n[[device]]\nid = \"led-3\"\nrole = \"display\"\n";
    let mut config = SiteConfig::parse(&format!("{DEFAULT_CONFIG}{extra}")).unwrap();
    config.hours = Hours::always();
    config
}

async fn a_scripted_keypad_calls_and_completes_and_the_led_follows(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office_with_keypad();
    let site = config.site.id.clone();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut admin = client(&config, addr, "admin", &[]).await;
    let mut labels = Vec::new();
    for _ in 0..2 {
        let issue = Command::issue("cu-tru", None);
        labels.push(admin.send(issue, WAIT).await.unwrap().ticket.unwrap().label);
    }

    let root = format!("qms/v1/{site}");
    let shows = documented_led_topic(&root);
    let mut led = device(addr, &root, "led-3", &shows).await;
    // Retained: on connecting, the display learns the counter is idle.
    let idle = led.next(&shows, |c| c["status"] == "idle").await;
    assert_eq!(
        (idle["number"].as_u64(), &idle["label"]),
        (Some(3), &Value::Null)
    );
    let reply = format!("{root}/dev/keypad-3/reply");
    let cmd = format!("{root}/dev/keypad-3/cmd");
    let mut keypad = device(addr, &root, "keypad-3", &reply).await;

    let call = documented("call_next");
    keypad.publish(&cmd, &call, false).await;
    let answer = keypad.next(&reply, |r| r["id"] == call["id"]).await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["ticket"]["label"], labels[0].as_str());
    let shown = led.next(&shows, |c| c["status"] == "serving").await;
    assert_eq!(shown["label"], labels[0].as_str(), "{shown}");
    assert!(shown["seq"].as_u64() > idle["seq"].as_u64());
    let bytes = shows.len() + serde_json::to_vec(&shown).unwrap().len();
    assert!(
        bytes < 200,
        "{bytes} bytes do not fit a small MQTT client's buffer"
    );

    // A resend after a lost reply (same id) is answered again, never a second call.
    keypad.publish(&cmd, &call, false).await;
    let again = keypad.next(&reply, |r| r["id"] == call["id"]).await;
    assert_eq!(again["ticket"]["label"], labels[0].as_str());

    let complete = documented("complete");
    keypad.publish(&cmd, &complete, false).await;
    let done = keypad.next(&reply, |r| r["id"] == complete["id"]).await;
    assert_eq!(done["ok"], true, "{done}");
    let blank = led.next(&shows, |c| c["status"] == "idle").await;
    assert_eq!(blank["label"], Value::Null, "the LED blanks");

    // Nothing is served twice: the second ticket still waits.
    let waiting = admin
        .send(
            Command::List {
                procedure: Some("cu-tru".into()),
                state: Some(qms_core::protocol::TicketState::Waiting),
                counter: None,
                day: None,
            },
            WAIT,
        )
        .await
        .unwrap()
        .tickets
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].label, labels[1]);

    // The LED may not call: its role only reads.
    assert!(led.subscribe(&format!("{root}/dev/led-3/reply")).await);
    let mut forbidden = call.clone();
    forbidden["id"] = "led-try".into();
    led.publish(&format!("{root}/dev/led-3/cmd"), &forbidden, false)
        .await;
    let refusal = led
        .next(&format!("{root}/dev/led-3/reply"), |r| r["id"] == "led-try")
        .await;
    assert_eq!(refusal["error"]["code"], "forbidden", "{refusal}");

    // A keypad that loses power: its last will says so, retained.
    keypad.pull_the_plug();
    let status = format!("{root}/dev/keypad-3/status");
    let mut watcher = device(addr, &root, "watch-keypad", &status).await;
    let last = watcher.next(&status, |s| s["online"] == false).await;
    assert_eq!(last["v"], 1);
    authority.stop().await;
}

qms_tests::over_brokers!(a_scripted_keypad_calls_and_completes_and_the_led_follows);
