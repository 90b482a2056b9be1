//! A counter keypad and an LED number display as their firmware would be: plain MQTT
//! clients that know nothing of this project's code, sending exactly the payloads
//! written in firmware-notes/counter-keypad.md.

use std::sync::Arc;
use std::time::Duration;

use qms_core::config::{Hours, DEFAULT_CONFIG};
use qms_core::protocol::Command;
use qms_core::SiteConfig;
use qms_queue::SystemClock;
use qms_tests::{client, start_broker, Authority, BrokerKind, WAIT};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::timeout;

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

/// A plain MQTT device: what it receives comes out of the channel.
struct Plain {
    client: AsyncClient,
    received: mpsc::UnboundedReceiver<(String, Value)>,
    task: tokio::task::JoinHandle<()>,
}

impl Plain {
    /// Connects as the notes say: client id = username = device id, clean session, a
    /// retained last will on its status topic, then `online` and its subscriptions.
    async fn connect(
        addr: std::net::SocketAddr,
        site: &str,
        device: &str,
        subscribe: &[String],
    ) -> Plain {
        let status = format!("qms/v1/{site}/dev/{device}/status");
        let mut options = MqttOptions::new(device, addr.ip().to_string(), addr.port());
        options.set_credentials(device, "not-checked-by-this-broker");
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(true);
        options.set_last_will(LastWill::new(
            &status,
            r#"{"v":1,"online":false}"#,
            QoS::AtLeastOnce,
            true,
        ));
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        let (tx, received) = mpsc::unbounded_channel();
        let (subscribed_tx, mut subscribed) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let payload = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        let _ = tx.send((p.topic, payload));
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed_tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        client
            .publish(&status, QoS::AtLeastOnce, true, r#"{"v":1,"online":true}"#)
            .await
            .unwrap();
        for topic in subscribe {
            client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
            timeout(WAIT, subscribed.recv()).await.expect("subscribed");
        }
        Plain {
            client,
            received,
            task,
        }
    }

    async fn publish(&self, topic: &str, payload: &Value) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_string())
            .await
            .unwrap();
    }

    /// The next message on `topic` that `accept` takes.
    async fn next(&mut self, topic: &str, accept: impl Fn(&Value) -> bool) -> Value {
        timeout(WAIT, async {
            loop {
                let (t, payload) = self.received.recv().await.expect("connected");
                if t == topic && accept(&payload) {
                    return payload;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("nothing expected arrived on {topic}"))
    }

    /// Goes away without saying goodbye, as a keypad that loses power.
    fn pull_the_plug(self) {
        self.task.abort();
    }
}

fn office_with_keypad() -> SiteConfig {
    let extra = "\n[[device]]\nid = \"keypad-3\"\nrole = \"counter\"\ncounter = 3\n\
                 \n[[device]]\nid = \"led-3\"\nrole = \"display\"\n";
    let mut config = SiteConfig::parse(&format!("{DEFAULT_CONFIG}{extra}")).unwrap();
    config.hours = Hours::always();
    config
}

/// Counter 3's entry of a board snapshot.
fn counter_3(board: &Value) -> Value {
    board["counters"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["number"] == 3))
        .cloned()
        .unwrap_or(Value::Null)
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
        let issue = Command::Issue {
            service: "cu-tru".into(),
            priority: None,
        };
        labels.push(admin.send(issue, WAIT).await.unwrap().ticket.unwrap().label);
    }

    let root = format!("qms/v1/{site}");
    let board = format!("{root}/board");
    let mut led = Plain::connect(addr, &site, "led-3", std::slice::from_ref(&board)).await;
    let reply = format!("{root}/dev/keypad-3/reply");
    let cmd = format!("{root}/dev/keypad-3/cmd");
    let mut keypad = Plain::connect(addr, &site, "keypad-3", std::slice::from_ref(&reply)).await;

    let call = documented("call_next");
    keypad.publish(&cmd, &call).await;
    let answer = keypad.next(&reply, |r| r["id"] == call["id"]).await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["ticket"]["label"], labels[0].as_str());
    let shown = led
        .next(&board, |b| counter_3(b)["label"] == labels[0].as_str())
        .await;
    assert_eq!(counter_3(&shown)["status"], "serving");

    // A resend after a lost reply (same id) is answered again, never a second call.
    keypad.publish(&cmd, &call).await;
    let again = keypad.next(&reply, |r| r["id"] == call["id"]).await;
    assert_eq!(again["ticket"]["label"], labels[0].as_str());

    let complete = documented("complete");
    keypad.publish(&cmd, &complete).await;
    let done = keypad.next(&reply, |r| r["id"] == complete["id"]).await;
    assert_eq!(done["ok"], true, "{done}");
    let idle = led.next(&board, |b| counter_3(b)["status"] == "idle").await;
    assert_eq!(counter_3(&idle)["label"], Value::Null, "the LED blanks");

    // Nothing is served twice: the second ticket still waits.
    let waiting = admin
        .send(
            Command::List {
                service: Some("cu-tru".into()),
                state: Some(qms_core::protocol::TicketState::Waiting),
                counter: None,
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
    let led_cmd = format!("{root}/dev/led-3/cmd");
    let led_reply = format!("{root}/dev/led-3/reply");
    led.client
        .subscribe(&led_reply, QoS::AtLeastOnce)
        .await
        .unwrap();
    let mut forbidden = call.clone();
    forbidden["id"] = "led-try".into();
    // Subscribing is asynchronous: send until the refusal comes back.
    let refusal = timeout(WAIT, async {
        loop {
            led.publish(&led_cmd, &forbidden).await;
            if let Ok(Some((t, r))) = timeout(Duration::from_millis(300), led.received.recv()).await
            {
                if t == led_reply {
                    return r;
                }
            }
        }
    })
    .await
    .expect("the display's command is answered");
    assert_eq!(refusal["error"]["code"], "forbidden", "{refusal}");

    // A keypad that loses power: its last will says so, retained.
    keypad.pull_the_plug();
    let status = format!("{root}/dev/keypad-3/status");
    let mut watcher =
        Plain::connect(addr, &site, "watch-keypad", std::slice::from_ref(&status)).await;
    let last = watcher.next(&status, |s| s["online"] == false).await;
    assert_eq!(last["v"], 1);
    authority.stop().await;
}

qms_tests::over_brokers!(a_scripted_keypad_calls_and_completes_and_the_led_follows);
