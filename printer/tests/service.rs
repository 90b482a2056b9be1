//! `qms printer` end to end: jobs over the embedded broker, printed on the virtual
//! printer through a pseudo-terminal.

use std::time::Duration;

use qms_bus::{Bus, BusEvent, BusOptions, Topics};
use qms_core::sample::print_job;
use qms_printer::serial::{Flow, PortSettings};
use qms_printer::service::{run, PrinterOptions};
use qms_printer::ticket::Paper;
use qms_printer::virtual_printer::{Element, Faults, VirtualPrinter};
use tokio::time::timeout;

const SITE: &str = "test-site";
const WAIT: Duration = Duration::from_secs(10);

fn job(label: &str) -> Vec<u8> {
    let mut job = print_job(label);
    (job.ahead, job.wait_minutes) = (0, Some(0));
    serde_json::to_vec(&job).unwrap()
}

fn number(printed: &qms_printer::virtual_printer::Printed) -> String {
    printed
        .elements
        .iter()
        .find_map(|e| match e {
            Element::Text { text, height, .. } if *height > 1 => Some(text.clone()),
            _ => None,
        })
        .expect("the number is printed")
}

/// Waits for a retained status of the printer with `ready` as given.
async fn status(
    events: &mut tokio::sync::mpsc::Receiver<BusEvent>,
    ready: bool,
) -> serde_json::Value {
    timeout(WAIT, async {
        loop {
            if let Some(BusEvent::Message { payload, .. }) = events.recv().await {
                let status: serde_json::Value = serde_json::from_slice(&payload).unwrap();
                if status["ready"] == ready {
                    return status;
                }
            }
        }
    })
    .await
    .expect("the status arrives")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_print_once_and_wait_for_paper() {
    let broker = qms_bus::start_embedded_on_free_port().unwrap();
    let printer = VirtualPrinter::start(None, Paper::Mm58.dots()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = PrinterOptions {
        bus: BusOptions::new("printer-1", SITE, &broker.to_string()),
        port: PortSettings {
            path: printer.path.clone(),
            baud: 38400,
            flow: Flow::None,
            timeout: Duration::from_secs(1),
        },
        paper: Paper::Mm58,
        text: qms_core::config::PrinterText::Raster,
        drop_after: Duration::from_secs(60),
        spool: dir.path().join("printed.txt"),
        poll: Duration::from_millis(50),
    };
    tokio::spawn(run(options, std::future::pending()));

    let topics = Topics::new(SITE);
    let mut watch = BusOptions::new("watcher", SITE, &broker.to_string());
    watch.subscriptions = vec![topics.status("printer-1")];
    watch.announce = false;
    let (_watcher, mut statuses) = Bus::connect(watch).unwrap();
    let mut queue_options = BusOptions::new("queue", SITE, &broker.to_string());
    queue_options.announce = false;
    let (queue, mut queue_events) = Bus::connect(queue_options).unwrap();
    while timeout(WAIT, queue_events.recv()).await.unwrap() != Some(BusEvent::Connected) {}
    let send =
        |label: &str| assert!(queue.publish(&topics.job("printer-1"), job(label), false, None));

    assert_eq!(status(&mut statuses, true).await["paper"], "ok");
    send("1001");
    let first = tokio::task::block_in_place(|| printer.printed.recv_timeout(WAIT)).unwrap();
    assert_eq!(number(&first), "1001");
    // The same ticket again (a redelivery) is not printed twice.
    send("1001");
    send("1002");
    let second = tokio::task::block_in_place(|| printer.printed.recv_timeout(WAIT)).unwrap();
    assert_eq!(number(&second), "1002");
    // The status after the ticket must read fine before it counts as printed: wait for
    // that before the paper runs out, or 1002 would rightly be printed again.
    let spool = dir.path().join("printed.txt");
    timeout(WAIT, async {
        while !std::fs::read_to_string(&spool)
            .unwrap_or_default()
            .contains("20261126-1002")
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("1002 recorded as printed");

    printer.set_faults(Faults {
        paper_out: true,
        ..Faults::default()
    });
    let out = status(&mut statuses, false).await;
    assert_eq!(out["paper"], "out");
    assert!(
        out["detail"].as_str().unwrap().starts_with("out of paper"),
        "{out}"
    );
    send("1003");
    let nothing =
        tokio::task::block_in_place(|| printer.printed.recv_timeout(Duration::from_millis(300)));
    assert!(nothing.is_err(), "nothing printed without paper");
    printer.set_faults(Faults::default());
    status(&mut statuses, true).await;
    let third = tokio::task::block_in_place(|| printer.printed.recv_timeout(WAIT)).unwrap();
    assert_eq!(number(&third), "1003", "printed once the paper is back");
}
