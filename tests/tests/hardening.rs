//! The authority under hostile and unlucky conditions, over the embedded broker and over
//! Mosquitto: each test is named after a defect it pins.

use std::sync::Arc;
use std::time::Duration;

use qms_core::protocol::{Board, Command, DeviceStatus, ErrorCode, Reply};
use qms_queue::{ManualClock, QueueError, QueueOptions, SystemClock};
use qms_tests::{client, office, options_for, start_broker, Authority, BrokerKind, WAIT};
use time::macros::datetime;

fn issue(procedure: &str) -> Command {
    Command::issue(procedure, None)
}

async fn regression_a_refusal_larger_than_one_message_never_jams_the_outbox(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let topics = qms_bus::Topics::new(&config.site.id);
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    // A huge id, then a huge unknown op, from the kiosk and from a device nobody knows.
    let huge_id = format!(r#"{{"v":1,"id":"{}","op":"issue"}}"#, "x".repeat(1_048_400));
    let huge_op = format!(r#"{{"v":1,"id":"a","op":"{}"}}"#, "y".repeat(600_000));
    for device in ["kiosk-1", "stranger"] {
        for junk in [&huge_id, &huge_op] {
            let sent = kiosk.bus().publish(
                &topics.command(device),
                junk.as_bytes().to_vec(),
                false,
                None,
            );
            assert!(sent);
        }
    }
    let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
    assert_eq!(reply.ticket.unwrap().label, "1001");
    authority.stop().await;
    // Nothing unsendable was kept: a restart serves at once.
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
    assert_eq!(reply.ticket.unwrap().label, "1002");
    authority.stop().await;
}

async fn regression_a_retained_command_is_never_executed_and_is_cleared(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let topics = qms_bus::Topics::new(&config.site.id);
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    // Published retained while the authority is away, and a large retained one (over a
    // command's size, under the broker's limit) beside it.
    let ghost = br#"{"v":1,"id":"ghost","op":"issue","service":"cccd"}"#.to_vec();
    assert!(kiosk
        .bus()
        .publish(&topics.command("kiosk-1"), ghost, true, None));
    let large = format!(
        r#"{{"v":1,"id":"big","op":"issue","x":"{}"}}"#,
        "z".repeat(600_000)
    );
    assert!(kiosk
        .bus()
        .publish(&topics.command("kiosk-2"), large.into_bytes(), true, None));
    tokio::time::sleep(Duration::from_millis(200)).await;
    for round in 0..2 {
        let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
        let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
        let expected = ["1001", "1002"][round];
        assert_eq!(reply.ticket.unwrap().label, expected, "round {round}");
        authority.stop().await;
    }
    // Cleared: a new subscriber gets no retained command.
    let mut watcher = client(&config, addr, "admin", &[topics.all_commands()]).await;
    if let Some(message) = watcher.next_message(Duration::from_millis(500)).await {
        assert!(
            message.payload.is_empty(),
            "a retained command is left on {}",
            message.topic
        );
    }
}

async fn regression_the_clock_stepping_back_across_midnight_keeps_the_business_day(
    kind: BrokerKind,
) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(datetime!(2026-12-03 00:10 +7));
    let authority = Authority::start(&config, addr, store.path(), clock.clone()).await;
    let status_topic = qms_bus::Topics::new(&config.site.id).status("queue");
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let first = kiosk
        .send(issue("cccd"), WAIT)
        .await
        .unwrap()
        .ticket
        .unwrap();
    assert_eq!(first.id, "20261203-1001");
    clock.set(datetime!(2026-12-02 23:10 +7));
    let second = kiosk
        .send(issue("cccd"), WAIT)
        .await
        .unwrap()
        .ticket
        .unwrap();
    assert_eq!(second.id, "20261203-1002");
    assert!(second.issued_at >= first.issued_at);
    // The retained status says the clock is behind.
    let mut watcher = client(&config, addr, "admin", &[status_topic]).await;
    loop {
        let message = watcher.next_message(WAIT).await.expect("a status");
        let status: DeviceStatus = serde_json::from_slice(&message.payload).unwrap();
        if status.clock_behind_seconds == Some(3600) {
            break;
        }
    }
    clock.set(datetime!(2026-12-03 00:20 +7));
    let third = kiosk
        .send(issue("cccd"), WAIT)
        .await
        .unwrap()
        .ticket
        .unwrap();
    assert_eq!(third.id, "20261203-1003");
    authority.stop().await;
}

async fn regression_acknowledged_commands_wait_for_a_restarting_authority(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    assert!(kiosk.send(issue("cccd"), WAIT).await.unwrap().ok);
    authority.stop().await;
    // Sent while no authority runs, never sent again: it waits at the broker.
    kiosk.set_attempt_timeout(Duration::from_secs(60));
    let waiting = tokio::spawn(async move {
        let reply = kiosk.send(issue("cccd"), WAIT).await;
        (kiosk, reply)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let (_kiosk, reply) = waiting.await.unwrap();
    assert_eq!(reply.unwrap().ticket.unwrap().label, "1002");
    authority.stop().await;
}

async fn regression_a_burst_is_answered_whole_while_the_authority_falls_behind(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let topics = qms_bus::Topics::new(&config.site.id);
    let mut counter = client(&config, addr, "counter-1", &[]).await;
    authority.stop().await;
    // 2,000 commands while the authority is away: more than rumqttd's default logs hold.
    let count = 2000;
    for n in 0..count {
        let payload = format!(r#"{{"v":1,"id":"burst-{n}","op":"list","service":"cccd"}}"#);
        while !counter.bus().publish(
            &topics.command("counter-1"),
            payload.clone().into_bytes(),
            false,
            None,
        ) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let reply_topic = topics.reply("counter-1");
    let mut answered = std::collections::BTreeSet::new();
    while answered.len() < count {
        let Some(message) = counter.next_message(WAIT).await else {
            panic!("{} of {count} commands answered", answered.len());
        };
        if message.topic == reply_topic {
            let reply: Reply = serde_json::from_slice(&message.payload).unwrap();
            answered.insert(reply.id.unwrap());
        }
    }
    authority.stop().await;
}

async fn regression_a_second_authority_refuses_to_start(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    assert!(kiosk.send(issue("cccd"), WAIT).await.unwrap().ok);

    let other_store = tempfile::tempdir().unwrap();
    let mut options = QueueOptions::new(Arc::new(config.clone()), &addr.to_string());
    options.bus = options_for(&config, addr, "queue");
    options.store_path = other_store.path().join("db");
    let refused = tokio::time::timeout(WAIT, qms_queue::run(options, std::future::pending()))
        .await
        .expect("the second authority gives up in time");
    match refused {
        Err(e @ QueueError::AnotherAuthority(_)) => {
            assert!(e.to_string().contains("another queue authority"), "{e}")
        }
        other => panic!("a second authority started: {other:?}"),
    }
    // The first one serves on, and the second wrote nothing.
    let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
    assert_eq!(reply.ticket.unwrap().label, "1002");
    authority.stop().await;
}

async fn an_authority_alone_on_its_broker_starts(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let clock = Arc::new(SystemClock);
    let authority = Authority::start_with(&config, addr, store.path(), clock, |options| {
        options.alone_check = qms_queue::ALONE_CHECK;
    })
    .await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    assert!(kiosk.send(issue("cccd"), WAIT).await.unwrap().ok);
    authority.stop().await;
}

async fn regression_a_client_acts_only_on_the_reply_to_its_own_command(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let topics = qms_bus::Topics::new(&config.site.id);
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let junk = client(&config, addr, "junk", &[]).await;
    // Garbage on the kiosk's own command topic: refusals without an id on its replies.
    let flood = tokio::spawn(async move {
        for _ in 0..400 {
            junk.bus()
                .publish(&topics.command("kiosk-1"), b"garbage".to_vec(), false, None);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    for _ in 0..5 {
        let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
        assert!(reply.ok, "took someone's refusal as its answer: {reply:?}");
    }
    flood.await.unwrap();
    authority.stop().await;
}

async fn regression_a_bad_payload_refusal_names_what_is_wrong_without_echoing_it(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let op = format!(r#"{{"v":1,"id":"o","op":"{}"}}"#, "q".repeat(3000));
    let reply = kiosk
        .send_raw(Some("o"), op.as_bytes(), WAIT)
        .await
        .unwrap();
    let error = reply.error.unwrap();
    assert_eq!(error.code, ErrorCode::BadRequest, "{error:?}");
    assert!(error.message_en.len() < 600, "{error:?}");
    let huge = format!(
        r#"{{"v":1,"id":"h","op":"issue","x":"{}"}}"#,
        "q".repeat(9000)
    );
    let reply = kiosk.send_raw(None, huge.as_bytes(), WAIT).await.unwrap();
    assert_eq!(reply.error.unwrap().code, ErrorCode::TooLarge);
    let op = br#"{"v":1,"id":"n","op":0,"service":"cccd"}"#;
    let reply = kiosk.send_raw(Some("n"), op, WAIT).await.unwrap();
    assert_eq!(reply.error.unwrap().code, ErrorCode::BadRequest);
    authority.stop().await;
}

async fn regression_the_board_is_published_again_after_a_broker_restart(kind: BrokerKind) {
    let mut broker = qms_tests::BrokerProcess::start(kind);
    let addr = broker.addr;
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let board_topic = qms_bus::Topics::new(&config.site.id).board();
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let ticket = kiosk
        .send(issue("cccd"), WAIT)
        .await
        .unwrap()
        .ticket
        .unwrap();
    // A broker without persistence forgets every retained message.
    broker.kill();
    broker.restart();
    let mut display = client(&config, addr, "display-hall", &[board_topic]).await;
    let board: Board = serde_json::from_slice(
        &display
            .next_message(WAIT)
            .await
            .expect("the board is retained again without a new command")
            .payload,
    )
    .unwrap();
    assert!(
        board.seq >= ticket.queue_key,
        "{} < {}",
        board.seq,
        ticket.queue_key
    );
    authority.stop().await;
}

/// A client that sends whatever it is given, up to 4 MiB.
async fn raw_client(addr: std::net::SocketAddr, id: &str) -> rumqttc::AsyncClient {
    let mut options = rumqttc::MqttOptions::new(id, addr.ip().to_string(), addr.port());
    options.set_max_packet_size(4 << 20, 4 << 20);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 16);
    tokio::spawn(async move {
        // Once the broker drops it for the oversized packet, it stays away.
        while eventloop.poll().await.is_ok() {}
    });
    client
}

async fn regression_a_message_over_the_limit_is_refused_by_the_broker(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let topics = qms_bus::Topics::new(&config.site.id);
    let sender = raw_client(addr, "oversize").await;
    let huge = vec![b'x'; 2 << 20];
    sender
        .publish(
            topics.command("kiosk-1"),
            rumqttc::QoS::AtLeastOnce,
            true,
            huge,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Nothing was kept, and the authority serves.
    let mut watcher = client(&config, addr, "admin", &[topics.all_commands()]).await;
    assert!(
        watcher
            .next_message(Duration::from_millis(300))
            .await
            .is_none(),
        "the broker kept an oversized message"
    );
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    assert!(kiosk.send(issue("cccd"), WAIT).await.unwrap().ok);
    authority.stop().await;
}

/// A Mosquitto set up without a size limit lets a 2 MiB retained command through: the
/// authority reads it, never executes it, clears it, and serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_an_oversized_retained_command_that_got_through_is_survived() {
    if !qms_tests::mosquitto_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let addr = qms_bus::free_loopback_addr();
    let conf = dir.path().join("unlimited.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence false\n",
            addr.port()
        ),
    )
    .unwrap();
    let _broker = qms_tests::BrokerProcess::mosquitto_with(&conf, addr);
    let config = office();
    let topics = qms_bus::Topics::new(&config.site.id);
    let sender = raw_client(addr, "oversize").await;
    let mut huge = br#"{"v":1,"id":"huge","op":"issue","service":"cccd","x":""#.to_vec();
    huge.extend(vec![b'x'; 2 << 20]);
    huge.extend(br#""}"#);
    sender
        .publish(
            topics.command("kiosk-1"),
            rumqttc::QoS::AtLeastOnce,
            true,
            huge,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
    assert_eq!(
        reply.ticket.unwrap().label,
        "1001",
        "the huge command was not executed"
    );
    authority.stop().await;
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
    assert_eq!(reply.ticket.unwrap().label, "1002");
    authority.stop().await;
}

qms_tests::over_brokers!(
    regression_a_message_over_the_limit_is_refused_by_the_broker,
    regression_a_refusal_larger_than_one_message_never_jams_the_outbox,
    regression_a_retained_command_is_never_executed_and_is_cleared,
    regression_the_clock_stepping_back_across_midnight_keeps_the_business_day,
    regression_acknowledged_commands_wait_for_a_restarting_authority,
    regression_a_burst_is_answered_whole_while_the_authority_falls_behind,
    regression_a_second_authority_refuses_to_start,
    an_authority_alone_on_its_broker_starts,
    regression_a_client_acts_only_on_the_reply_to_its_own_command,
    regression_a_bad_payload_refusal_names_what_is_wrong_without_echoing_it,
    regression_the_board_is_published_again_after_a_broker_restart,
);
