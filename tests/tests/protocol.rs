//! The protocol end to end, over the embedded broker and over Mosquitto.

use std::collections::BTreeSet;
use std::sync::Arc;

use qms_core::protocol::{Board, Command, ErrorCode, PrintJob, Reply};
use qms_queue::SystemClock;
use qms_tests::{client, office, start_broker, Authority, BrokerKind, WAIT};

fn issue(procedure: &str) -> Command {
    Command::issue(procedure, None)
}

async fn issue_gets_a_reply_and_a_board_snapshot_that_includes_it(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let board_topic = qms_bus::Topics::new(&config.site.id).board();
    let mut kiosk = client(&config, addr, "kiosk-1", std::slice::from_ref(&board_topic)).await;

    let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
    assert!(reply.ok, "{reply:?}");
    let ticket = reply.ticket.unwrap();
    assert_eq!(ticket.label, "1001");
    assert_eq!(reply.ahead, Some(0));

    let board = loop {
        let message = kiosk
            .next_message(WAIT)
            .await
            .expect("a board snapshot arrives");
        assert_eq!(message.topic, board_topic);
        let board: Board = serde_json::from_slice(&message.payload).unwrap();
        if board.seq >= ticket.queue_key {
            break board;
        }
    };
    let cccd = board
        .waiting
        .iter()
        .find(|w| w.procedure == "cccd")
        .unwrap();
    assert_eq!((cccd.waiting, cccd.issued), (1, 1));

    // The snapshot is retained: a display that connects later gets it at once.
    let mut display = client(&config, addr, "display-hall", &[board_topic]).await;
    let late: Board =
        serde_json::from_slice(&display.next_message(WAIT).await.unwrap().payload).unwrap();
    assert_eq!(late.seq, board.seq);
    authority.stop().await;
}

async fn two_counters_calling_at_once_never_get_the_same_ticket(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let mut issued = BTreeSet::new();
    for _ in 0..30 {
        issued.insert(
            kiosk
                .send(issue("cccd"), WAIT)
                .await
                .unwrap()
                .ticket
                .unwrap()
                .label,
        );
    }
    // Counters 1 and 2 both serve cccd; they call as fast as they can, at the same time.
    let mut calls = Vec::new();
    for counter in ["counter-1", "counter-2"] {
        let mut officer = client(&config, addr, counter, &[]).await;
        calls.push(tokio::spawn(async move {
            let mut called = Vec::new();
            loop {
                let reply = officer
                    .send(
                        Command::CallNext {
                            counter: None,
                            dossier: None,
                        },
                        WAIT,
                    )
                    .await
                    .unwrap();
                match reply.ticket {
                    Some(t) => called.push(t.label),
                    None => {
                        assert_eq!(reply.error.unwrap().code, ErrorCode::NobodyWaiting);
                        return called;
                    }
                }
            }
        }));
    }
    let first = calls.remove(0).await.unwrap();
    let second = calls.remove(0).await.unwrap();
    assert!(
        !first.is_empty() && !second.is_empty(),
        "both counters called: {first:?} {second:?}"
    );
    let mut all: Vec<String> = first.iter().chain(&second).cloned().collect();
    all.sort();
    let distinct: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(
        all.len(),
        distinct.len(),
        "a ticket was called twice: {first:?} {second:?}"
    );
    assert_eq!(distinct, issued);
    authority.stop().await;
}

async fn a_retried_command_gets_the_same_ticket(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let first = kiosk
        .send_with_id("retry-1", issue("cu-tru"), WAIT)
        .await
        .unwrap();
    let again = kiosk
        .send_with_id("retry-1", issue("cu-tru"), WAIT)
        .await
        .unwrap();
    assert_eq!(first, again);
    // Only one ticket exists: the next one is 2002.
    let next = kiosk.send(issue("cu-tru"), WAIT).await.unwrap();
    assert_eq!(next.ticket.unwrap().label, "2002");
    authority.stop().await;
}

async fn a_bad_payload_gets_an_error_reply_and_the_service_keeps_serving(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let bad: [(&str, &[u8], ErrorCode); 4] = [
        (
            "b1",
            br#"{"v":1,"id":"b1","op":"issue"}"#,
            ErrorCode::BadRequest,
        ),
        (
            "b2",
            br#"{"v":1,"id":"b2","op":"teleport"}"#,
            ErrorCode::BadRequest,
        ),
        (
            "b3",
            br#"{"v":9,"id":"b3","op":"issue","service":"cccd"}"#,
            ErrorCode::UnsupportedVersion,
        ),
        (
            "b4",
            br#"{"v":1,"id":"b4","op":"call_next","counter":1}"#,
            ErrorCode::Forbidden,
        ),
    ];
    for (id, payload, code) in bad {
        let reply: Reply = kiosk.send_raw(Some(id), payload, WAIT).await.unwrap();
        assert!(!reply.ok);
        let error = reply.error.unwrap();
        assert_eq!(error.code, code, "{id}: {error:?}");
        assert!(!error.message.is_empty() && !error.message_en.is_empty());
    }
    let garbage = kiosk.send_raw(None, b"\xff not json", WAIT).await.unwrap();
    assert_eq!(
        (garbage.id, garbage.error.unwrap().code),
        (None, ErrorCode::BadRequest)
    );
    // Still serving.
    let reply = kiosk.send(issue("cccd"), WAIT).await.unwrap();
    assert_eq!(reply.ticket.unwrap().label, "1001");
    authority.stop().await;
}

async fn a_list_too_large_for_one_message_is_refused_and_the_service_keeps_serving(
    kind: BrokerKind,
) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    // A small limit stands for the 1 MiB one, which only thousands of tickets reach.
    let limit = 6 * 1024;
    let clock = Arc::new(SystemClock);
    let authority = Authority::start_with(&config, addr, store.path(), clock, |options| {
        options.bus.max_packet = limit;
    })
    .await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    // About 350 bytes a ticket: 30 tickets are twice the limit, 10 are about half.
    for procedure in ["cccd"; 10].into_iter().chain(["cu-tru"; 20]) {
        let reply = kiosk.send(issue(procedure), WAIT).await.unwrap();
        assert!(reply.ok, "{reply:?}");
    }
    let list = |procedure: Option<&str>| Command::List {
        procedure: procedure.map(str::to_string),
        state: None,
        counter: None,
        day: None,
    };
    let mut admin = client(&config, addr, "admin", &[]).await;
    let whole = admin.send(list(None), WAIT).await.unwrap();
    let error = whole.error.expect("the whole day is refused");
    assert_eq!(error.code, ErrorCode::TooLarge);
    assert!(error.message.contains("hãy lọc theo thủ tục"), "{error:?}");
    let cccd = admin.send(list(Some("cccd")), WAIT).await.unwrap();
    assert_eq!(cccd.tickets.expect("one procedure fits").len(), 10);
    // The connection survived: the next ticket is issued and answered.
    let next = kiosk.send(issue("cu-tru"), WAIT).await.unwrap();
    assert_eq!(next.ticket.unwrap().label, "2021");
    authority.stop().await;
}

async fn next_job(printer: &mut qms::device::DeviceClient) -> PrintJob {
    let message = printer.next_message(WAIT).await.expect("a print job");
    serde_json::from_slice(&message.payload).unwrap()
}

/// The defects: a reprint was dropped by the printer as the ticket already printed, and
/// the command line's tickets were never printed.
async fn reprint_never_prints_and_the_command_line_never_prints(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let topics = qms_bus::Topics::new(&config.site.id);
    let mut printer = client(&config, addr, "printer-1", &[topics.job("printer-1")]).await;
    let mut kiosk = client(&config, addr, "kiosk-1", &[]).await;
    let ticket = kiosk
        .send(issue("cccd"), WAIT)
        .await
        .unwrap()
        .ticket
        .unwrap();
    let first = next_job(&mut printer).await;
    assert_eq!(
        (first.ticket.id.as_str(), first.key()),
        (ticket.id.as_str(), ticket.id.as_str())
    );

    // An officer reprints it on the kiosk's printer: a job of its own.
    let mut officer = client(&config, addr, "counter-1", &[]).await;
    let reprint = Command::Reprint {
        ticket: ticket.label.clone(),
        printer: None,
    };
    assert!(officer.send(reprint, WAIT).await.unwrap().ok);
    let again = next_job(&mut printer).await;
    assert_eq!(again.ticket.id, ticket.id);
    assert_ne!(again.key(), first.key(), "a reprint is a new job");

    // The command line names a printer; an unknown one is refused.
    let mut admin = client(&config, addr, "admin", &[]).await;
    let printed = Command::Issue {
        procedure: "cu-tru".into(),
        priority: None,
        english: true,
        printer: Some("printer-1".into()),
    };
    let reply = admin.send(printed, WAIT).await.unwrap();
    let cli = next_job(&mut printer).await;
    assert_eq!(cli.ticket.id, reply.ticket.unwrap().id);
    assert!(cli.english);
    let nowhere = Command::Issue {
        procedure: "cu-tru".into(),
        priority: None,
        english: false,
        printer: Some("printer-9".into()),
    };
    let refused = admin.send(nowhere, WAIT).await.unwrap();
    assert_eq!(refused.error.unwrap().code, ErrorCode::UnknownDevice);
    authority.stop().await;
}

/// The defect: counters with no console connected counted as open, so the kiosk showed
/// "khoảng 6 phút" for procedures nobody served.
async fn wait_estimates_count_counters_with_no_console_connected_as_open(kind: BrokerKind) {
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let authority = Authority::start(&config, addr, store.path(), Arc::new(SystemClock)).await;
    let board_topic = qms_bus::Topics::new(&config.site.id).board();
    let mut kiosk = client(&config, addr, "kiosk-1", std::slice::from_ref(&board_topic)).await;
    assert!(kiosk.send(issue("cu-tru"), WAIT).await.unwrap().ok);
    // The residence procedure as the board says it, once the board shows `wanted`.
    async fn residence(
        kiosk: &mut qms::device::DeviceClient,
        wanted: impl Fn(u32) -> bool,
    ) -> (u32, Option<u32>) {
        loop {
            let message = kiosk.next_message(WAIT).await.expect("a board snapshot");
            let board: Board = serde_json::from_slice(&message.payload).unwrap();
            let w = board
                .waiting
                .iter()
                .find(|w| w.procedure == "cu-tru")
                .unwrap();
            if w.waiting == 1 && wanted(w.open_counters) {
                return (w.open_counters, w.wait_minutes);
            }
        }
    }
    let nobody = residence(&mut kiosk, |_| true).await;
    assert_eq!(nobody, (0, None), "nobody at counters 3 and 4");
    // Counter 3's console comes online: its retained status says so.
    let mut options = qms_tests::options_for(&config, addr, "counter-3");
    options.announce = true;
    let console = qms::device::DeviceClient::connect(options, &[], WAIT)
        .await
        .unwrap();
    let (open, minutes) = residence(&mut kiosk, |open| open == 1).await;
    assert_eq!(open, 1);
    assert!(minutes.is_some_and(|m| m > 0), "{minutes:?}");
    // The officer closes the console: closed again.
    console.close().await;
    assert_eq!(residence(&mut kiosk, |open| open == 0).await, (0, None));
    authority.stop().await;
}

/// A counter paused past the limit: the alert reaches the consoles retained on `…/alerts`
/// and goes on the event stream once, however often the list is published again.
async fn a_counter_paused_too_long_alerts_staff_once_on_the_event_stream(kind: BrokerKind) {
    use qms_core::alerts::{QueueAlert, QueueAlerts};
    use qms_core::protocol::{Event, EventKind};
    let (addr, _broker) = start_broker(kind);
    let config = office();
    let store = tempfile::tempdir().unwrap();
    let clock = qms_queue::ManualClock::new(time::macros::datetime!(2026-11-26 08:00 +7));
    let authority = Authority::start(&config, addr, store.path(), clock.clone()).await;
    let topics = qms_bus::Topics::new(&config.site.id);
    let mut counter = client(&config, addr, "counter-5", &[topics.alerts()]).await;
    let mut admin = client(&config, addr, "admin", &[topics.events()]).await;
    let paused = counter
        .send(Command::Pause { counter: None }, WAIT)
        .await
        .unwrap();
    assert!(paused.ok, "{paused:?}");
    async fn alerts_now(counter: &mut qms::device::DeviceClient) -> QueueAlerts {
        loop {
            let message = counter.next_message(WAIT).await.expect("the alerts");
            let published: QueueAlerts = serde_json::from_slice(&message.payload).unwrap();
            if !published.alerts.is_empty() {
                return published;
            }
        }
    }
    clock.set(time::macros::datetime!(2026-11-26 08:31 +7));
    let published = alerts_now(&mut counter).await;
    assert_eq!(
        published.alerts[0].alert,
        QueueAlert::LongPause {
            counter: 5,
            minutes: 31
        }
    );
    assert_eq!(published.alerts[0].text, "Quầy 5 tạm dừng đã 31 phút");
    clock.set(time::macros::datetime!(2026-11-26 08:35 +7));
    let later = alerts_now(&mut counter).await;
    assert_eq!(later.alerts[0].text, "Quầy 5 tạm dừng đã 35 phút");
    let resumed = counter
        .send(Command::Resume { counter: None }, WAIT)
        .await
        .unwrap();
    assert!(resumed.ok);
    let mut raised = 0;
    while let Some(message) = admin
        .next_message(std::time::Duration::from_millis(500))
        .await
    {
        let event: Event = serde_json::from_slice(&message.payload).unwrap();
        if let EventKind::Alert { alert } = &event.kind {
            assert!(matches!(alert, QueueAlert::LongPause { counter: 5, .. }));
            raised += 1;
        }
        if matches!(event.kind, EventKind::CounterResumed { .. }) {
            break;
        }
    }
    assert_eq!(raised, 1, "raised once, not each minute");
    authority.stop().await;
}

qms_tests::over_brokers!(
    a_counter_paused_too_long_alerts_staff_once_on_the_event_stream,
    wait_estimates_count_counters_with_no_console_connected_as_open,
    reprint_never_prints_and_the_command_line_never_prints,
    issue_gets_a_reply_and_a_board_snapshot_that_includes_it,
    two_counters_calling_at_once_never_get_the_same_ticket,
    a_retried_command_gets_the_same_ticket,
    a_bad_payload_gets_an_error_reply_and_the_service_keeps_serving,
    a_list_too_large_for_one_message_is_refused_and_the_service_keeps_serving,
);
