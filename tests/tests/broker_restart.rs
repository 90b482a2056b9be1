//! A broker restart loses nothing: what the authority publishes while the broker is down
//! arrives, in order, once it is back.

use std::collections::BTreeSet;

use qms_core::protocol::{Command, Event, EventKind};
use qms_queue::ManualClock;
use qms_tests::{client, office, Authority, BrokerKind, BrokerProcess, Gate, WAIT};
use time::macros::datetime;

/// Event sequence numbers received until `last`, first arrivals only, in arrival order.
async fn events_until(watcher: &mut qms::device::DeviceClient, seen: &mut Vec<Event>, last: u64) {
    let mut have: BTreeSet<u64> = seen.iter().map(|e| e.seq).collect();
    while !have.contains(&last) {
        let message = watcher.next_message(WAIT).await.expect("the events arrive");
        let event: Event = serde_json::from_slice(&message.payload).unwrap();
        if have.insert(event.seq) {
            seen.push(event);
        }
    }
}

async fn events_published_while_the_broker_is_down_arrive_in_order_after_it_is_back(
    kind: BrokerKind,
) {
    let mut broker = BrokerProcess::start(kind);
    // The authority reaches the broker through a gate, so the test decides when it may
    // reconnect: after the watcher has subscribed again.
    let gate = Gate::start(broker.addr).await;
    let config = office();
    let events = qms_bus::Topics::new(&config.site.id).events();
    let mut watcher = client(&config, broker.addr, "watch-restart", &[events]).await;
    let clock = ManualClock::new(datetime!(2026-11-26 08:00 +7));
    let store = tempfile::tempdir().unwrap();
    let mut authority = Authority::start(&config, gate.addr, store.path(), clock.clone()).await;
    let mut kiosk = client(&config, broker.addr, "kiosk-1", &[]).await;
    for _ in 0..3 {
        let issue = Command::issue("cccd", None);
        assert!(kiosk.send(issue, WAIT).await.unwrap().ok);
    }
    let mut seen = Vec::new();
    events_until(&mut watcher, &mut seen, 4).await;

    gate.close();
    broker.kill();
    // The business day ends while the broker is down: the three tickets expire.
    clock.set(datetime!(2026-11-27 08:00 +7));
    authority.durable(6).await;

    broker.restart();
    assert!(watcher.connected(WAIT).await, "the watcher reconnects");
    gate.open();
    events_until(&mut watcher, &mut seen, 6).await;

    let seqs: Vec<u64> = seen.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert!(matches!(&seen[4].kind, EventKind::DayClosed { expired, .. } if expired.len() == 3));
    assert!(matches!(seen[5].kind, EventKind::DayOpened { .. }));
    authority.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_broker_restart() {
    events_published_while_the_broker_is_down_arrive_in_order_after_it_is_back(BrokerKind::Embedded)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_restart() {
    if qms_tests::mosquitto_available() {
        events_published_while_the_broker_is_down_arrive_in_order_after_it_is_back(
            BrokerKind::Mosquitto,
        )
        .await
    }
}
