//! The soak: the authority, the printer driver on the virtual printer and a broker
//! process, driven for many tickets with random calls, recalls, transfers, no-shows,
//! completions and ratings; the authority, the printer driver and the broker restarted on
//! the way, the clock moved across midnight and back, junk injected. Then: no number
//! twice in a business day, every answered ticket in the store, the retained board equal
//! to the store, every ticket printed once, the broker's memory bounded.
//!
//! `QMS_SOAK_TICKETS` sets the length (CI: the default 300; BENCHMARKS.md has a long run),
//! `QMS_SOAK_BROKER=mosquitto` runs it over Mosquitto instead of the embedded broker.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use qms::device::DeviceClient;
use qms_core::protocol::{Board, Command, Rating, Reply, Ticket, TicketState};
use qms_printer::serial::PortSettings;
use qms_printer::service::PrinterOptions;
use qms_printer::ticket::Paper;
use qms_printer::virtual_printer::{Element, VirtualPrinter};
use qms_queue::ManualClock;
use qms_tests::{client, office, options_for, Authority, BrokerKind, BrokerProcess, Random, WAIT};
use time::macros::datetime;
use time::{Date, OffsetDateTime};
use tokio::sync::oneshot;

/// The printer driver of `printer-1` on `printer`, until the returned sender is used.
/// The log on stderr, shown for a failed run.
fn log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
}

fn start_printer(
    config: &qms_core::SiteConfig,
    broker: std::net::SocketAddr,
    printer: &VirtualPrinter,
    spool: &std::path::Path,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let options = PrinterOptions {
        bus: options_for(config, broker, "printer-1"),
        port: PortSettings {
            path: printer.path.clone(),
            baud: 115_200,
            flow: qms_core::config::FlowControl::None,
            timeout: Duration::from_secs(1),
        },
        paper: Paper::Mm80,
        text: qms_core::config::PrinterText::Raster,
        drop_after: Duration::from_secs(3600),
        spool: spool.to_path_buf(),
        poll: Duration::from_millis(200),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = qms_printer::service::run(options, async {
            let _ = stopped.await;
        })
        .await;
    });
    (stop, task)
}

/// The ticket ids printed so far, in order, from the QR on each.
fn printed_ids(printer: &VirtualPrinter, into: &mut Vec<String>) {
    while let Ok(ticket) = printer.printed.try_recv() {
        let qr = ticket.elements.iter().find_map(|e| match e {
            Element::Qr { payload, .. } => Some(payload.clone()),
            _ => None,
        });
        into.push(qr.expect("every ticket carries its QR"));
    }
}

/// Waits until `count` tickets have been printed, as long as printing goes on.
async fn printed_up_to(printer: &VirtualPrinter, printed: &mut Vec<String>, count: usize) {
    let idle = WAIT * 3;
    let mut deadline = tokio::time::Instant::now() + idle;
    while printed.len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {count} tickets printed, and no more for {idle:?}",
            printed.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let before = printed.len();
        printed_ids(printer, printed);
        if printed.len() > before {
            deadline = tokio::time::Instant::now() + idle;
        }
    }
}

/// Waits for a status of the printer saying ready that arrived after `since`.
async fn printer_ready(kiosk: &mut DeviceClient, since: tokio::time::Instant) {
    loop {
        let message = kiosk
            .next_message(WAIT)
            .await
            .expect("the printer says it is ready");
        let status: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        if message.at >= since && status["ready"] == true {
            return;
        }
    }
}

fn list(day: Option<Date>) -> Command {
    Command::List {
        procedure: None,
        state: None,
        counter: None,
        day,
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn send(device: &mut DeviceClient, command: Command) -> Reply {
    device
        .send(command, WAIT * 3)
        .await
        .expect("every command is answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_thousands_of_tickets_with_restarts_clock_jumps_and_junk() {
    log();
    let tickets: usize = std::env::var("QMS_SOAK_TICKETS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let steps = tickets * 5 / 2;
    let mut random = Random::new();
    let kind = match std::env::var("QMS_SOAK_BROKER").as_deref() {
        Ok("mosquitto") => BrokerKind::Mosquitto,
        _ => BrokerKind::Embedded,
    };
    let mut broker = BrokerProcess::start(kind);
    let addr = broker.addr;
    let config = office();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");
    let spool = dir.path().join("printed.txt");
    let mut now = datetime!(2026-12-02 08:00 +7);
    let clock = ManualClock::new(now);
    let mut authority = Authority::start(&config, addr, &store, clock.clone()).await;
    let printer = VirtualPrinter::start(None, Paper::Mm80.dots()).unwrap();
    let mut driver = start_printer(&config, addr, &printer, &spool);

    // The printer's driver is connected and subscribed (its retained status says ready):
    // a job published before its first subscription would find nobody to take it.
    let printer_status = qms_bus::Topics::new(&config.site.id).status("printer-1");
    let mut kiosk = client(&config, addr, "kiosk-1", &[printer_status]).await;
    printer_ready(&mut kiosk, tokio::time::Instant::now() - WAIT).await;
    let mut counters = Vec::new();
    for n in 1..=3u16 {
        counters.push(client(&config, addr, &format!("counter-{n}"), &[]).await);
    }
    let mut rating = client(&config, addr, "rating-1", &[]).await;
    let mut admin = client(&config, addr, "admin", &[]).await;
    let junk = client(&config, addr, "junk", &[]).await;
    let topics = qms_bus::Topics::new(&config.site.id);
    let procedures: Vec<String> = config.procedures.iter().map(|p| p.id.clone()).collect();

    let mut issued: BTreeMap<Date, BTreeSet<String>> = BTreeMap::new();
    let mut printed = Vec::new();
    let mut completed_at_1: Vec<String> = Vec::new();
    let mut broker_rss = Vec::new();
    let mut issued_count = 0;
    let (midnight, back, forward) = (steps * 3 / 5, steps * 3 / 5 + 20, steps * 3 / 5 + 60);
    for step in 0..steps {
        now += time::Duration::seconds(20);
        if step == midnight {
            now = datetime!(2026-12-03 00:05 +7);
        } else if step == back {
            // NTP corrects a clock that ran ahead: back across midnight.
            now = datetime!(2026-12-02 23:40 +7);
        } else if step == forward {
            now = datetime!(2026-12-03 07:30 +7);
        }
        clock.set(now);
        if step == steps / 4 {
            authority.stop().await;
            authority = Authority::start(&config, addr, &store, clock.clone()).await;
        }
        if step == steps / 2 || step == steps * 4 / 5 {
            // The embedded broker keeps nothing across a restart, print jobs it has taken
            // from the authority included: restart it once the printer has caught up.
            printed_up_to(&printer, &mut printed, issued_count).await;
            broker_rss.push(rss_kib(broker.pid()));
            broker.kill();
            broker.restart();
            // A fresh embedded broker has no sessions: until the printer has subscribed
            // again (its status says so), a job would find nobody to take it. A kiosk
            // waits for that status too before it promises a printed ticket.
            let restarted = tokio::time::Instant::now();
            printer_ready(&mut kiosk, restarted).await;
        }
        if step == steps * 2 / 3 {
            // Between tickets: one stopped while printing may come out twice (the rule
            // for that belongs to the printer driver and has its own tests).
            printed_up_to(&printer, &mut printed, issued_count).await;
            let (stop, task) = driver;
            let _ = stop.send(());
            task.await.unwrap();
            driver = start_printer(&config, addr, &printer, &spool);
        }
        if step % 40 == 7 {
            let garbage: [&[u8]; 4] = [
                b"\xff\xfe not json",
                br#"{"v":1,"id":7,"op":"issue"}"#,
                br#"{"v":1,"id":"j","op":0,"service":"cccd"}"#,
                br#"{"v":1,"id":"k","op":"call_next","counter":1}"#,
            ];
            for payload in garbage {
                junk.bus()
                    .publish(&topics.command("kiosk-1"), payload.to_vec(), false, None);
            }
            let ghost = br#"{"v":1,"id":"ghost","op":"issue","service":"cccd"}"#;
            junk.bus()
                .publish(&topics.command("junk"), ghost.to_vec(), true, None);
        }
        let counter = random.below(3) as usize;
        let roll = random.below(100);
        if roll < 40 || issued_count < 3 {
            let procedure = procedures[random.below(procedures.len() as u64) as usize].clone();
            let reply = send(&mut kiosk, Command::issue(procedure, None)).await;
            if let Some(ticket) = reply.ticket {
                let day = day_of(&ticket);
                assert!(
                    issued.entry(day).or_default().insert(ticket.id.clone()),
                    "{} issued twice",
                    ticket.id
                );
                issued_count += 1;
            }
        } else if roll < 60 {
            send(
                &mut counters[counter],
                Command::CallNext {
                    counter: None,
                    dossier: None,
                },
            )
            .await;
        } else if roll < 67 {
            send(&mut counters[counter], Command::Recall { counter: None }).await;
        } else if roll < 73 {
            send(&mut counters[counter], Command::NoShow { counter: None }).await;
        } else if roll < 78 {
            let to = procedures[random.below(procedures.len() as u64) as usize].clone();
            let transfer = Command::Transfer {
                counter: None,
                to_procedure: Some(to),
                to_counter: None,
            };
            send(&mut counters[counter], transfer).await;
        } else if roll < 95 {
            let serving = send(&mut counters[counter], list_serving(counter)).await;
            let reply = send(
                &mut counters[counter],
                Command::Complete {
                    counter: None,
                    dossier: None,
                },
            )
            .await;
            if reply.ok && counter == 0 {
                if let Some(t) = serving.tickets.and_then(|t| t.into_iter().next()) {
                    completed_at_1.push(t.id);
                }
            }
        } else if let Some(ticket) = completed_at_1.pop() {
            let rate = Command::Rate {
                ticket,
                rating: Rating::Satisfied,
            };
            send(&mut rating, rate).await;
        }
    }

    // Every answered ticket is in the store, once, on its own day.
    let today = config.site.business_day(clock_now(&clock));
    for (day, ids) in &issued {
        let asked = if *day == today { None } else { Some(*day) };
        let stored = send(&mut admin, list(asked)).await.tickets.expect("a list");
        let stored_ids: Vec<&str> = stored.iter().map(|t| t.id.as_str()).collect();
        let unique: BTreeSet<&str> = stored_ids.iter().copied().collect();
        assert_eq!(unique.len(), stored_ids.len(), "a number twice on {day}");
        for id in ids {
            assert!(unique.contains(id.as_str()), "{id} answered but not stored");
        }
    }
    // The retained board is the store's state.
    let seq = *authority.progress.borrow();
    let mut display = client(&config, addr, "display-hall", &[topics.board()]).await;
    let board: Board = loop {
        let message = display.next_message(WAIT).await.expect("a retained board");
        let board: Board = serde_json::from_slice(&message.payload).unwrap();
        if board.seq >= seq {
            break board;
        }
    };
    let todays = send(&mut admin, list(None)).await.tickets.unwrap();
    for waiting in &board.waiting {
        let stored = todays
            .iter()
            .filter(|t| t.procedure == waiting.procedure && t.state == TicketState::Waiting)
            .count();
        assert_eq!(waiting.waiting as usize, stored, "{}", waiting.procedure);
    }
    // Every ticket printed, once.
    printed_up_to(&printer, &mut printed, issued_count).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    printed_ids(&printer, &mut printed);
    let printed_set: BTreeSet<&String> = printed.iter().collect();
    assert_eq!(printed_set.len(), printed.len(), "a ticket printed twice");
    let all_issued: BTreeSet<&String> = issued.values().flatten().collect();
    assert_eq!(printed_set, all_issued);
    // The broker's memory stays bounded.
    broker_rss.push(rss_kib(broker.pid()));
    assert!(
        broker_rss.iter().all(|&kib| kib < 200 * 1024),
        "broker RSS {broker_rss:?} KiB"
    );
    eprintln!(
        "soak: {issued_count} tickets over {} days in {steps} steps, {} printed; broker RSS {broker_rss:?} KiB",
        issued.len(),
        printed.len()
    );
    authority.stop().await;
}

fn day_of(ticket: &Ticket) -> Date {
    let digits = &ticket.id[..8];
    let format = time::macros::format_description!("[year][month][day]");
    Date::parse(digits, &format).expect("ticket ids start with their day")
}

fn clock_now(clock: &Arc<ManualClock>) -> OffsetDateTime {
    use qms_queue::Clock;
    clock.now()
}

/// What a counter is serving now.
fn list_serving(counter: usize) -> Command {
    Command::List {
        procedure: None,
        state: Some(TicketState::Called),
        counter: Some(counter as u16 + 1),
        day: None,
    }
}
