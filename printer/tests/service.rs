//! `qms printer` end to end: jobs over the embedded broker, printed on the virtual
//! printer through a pseudo-terminal, with the driver's log read back.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use qms_bus::{Bus, BusEvent, BusOptions, Topics};
use qms_core::protocol::PrintJob;
use qms_core::sample::print_job;
use qms_printer::serial::PortSettings;
use qms_printer::service::{run, PrinterOptions};
use qms_printer::ticket::Paper;
use qms_printer::virtual_printer::{Element, Faults, Printed, VirtualPrinter};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

const SITE: &str = "test-site";
const WAIT: Duration = Duration::from_secs(10);

/// Every log line of this test binary; each test reads its own printer's lines.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = log.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_env_filter("info")
            .with_writer(move || LogWriter(shared.clone()))
            .init();
        log
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        std::io::stderr().write_all(bytes)?;
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log lines of one printer device.
fn lines_of(device: &str) -> Vec<String> {
    let tag = format!("device={device}");
    String::from_utf8_lossy(&log().lock().unwrap())
        .lines()
        .filter(|l| l.contains(&tag))
        .map(str::to_string)
        .collect()
}

fn job(label: &str) -> PrintJob {
    let mut job = print_job(label);
    (job.ahead, job.wait_minutes) = (0, Some(0));
    job
}

fn number(printed: &Printed) -> String {
    printed
        .elements
        .iter()
        .find_map(|e| match e {
            Element::Text { text, height, .. } if *height > 1 => Some(text.clone()),
            _ => None,
        })
        .expect("the number is printed")
}

/// A broker, a virtual printer, the authority's side of the job topic and a watcher of
/// the printer's retained status.
struct Rig {
    device: String,
    broker: SocketAddr,
    printer: VirtualPrinter,
    dir: tempfile::TempDir,
    topics: Topics,
    queue: Bus,
    statuses: mpsc::Receiver<BusEvent>,
    poll: Duration,
}

/// A driver running until its shutdown is sent.
struct Driver {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Driver {
    async fn stop(self) {
        let _ = self.stop.send(());
        timeout(WAIT, self.task)
            .await
            .expect("the driver stops")
            .unwrap()
            .unwrap();
    }
}

impl Rig {
    /// `linked`: the printer behind a link that can be unplugged.
    async fn start(device: &str, poll: Duration, linked: bool) -> Rig {
        log();
        let broker = qms_bus::start_embedded_on_free_port().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let printer = if linked {
            VirtualPrinter::start_at(&dir.path().join("ttyUSB0"), None, Paper::Mm58.dots())
        } else {
            VirtualPrinter::start(None, Paper::Mm58.dots())
        }
        .unwrap();
        let topics = Topics::new(SITE);
        let mut watch = BusOptions::new("watcher", SITE, &broker.to_string());
        watch.subscriptions = vec![topics.status(device)];
        watch.announce = false;
        let (watcher, statuses) = Bus::connect(watch).unwrap();
        std::mem::forget(watcher);
        let mut queue_options = BusOptions::new("queue", SITE, &broker.to_string());
        queue_options.announce = false;
        let (queue, mut queue_events) = Bus::connect(queue_options).unwrap();
        while timeout(WAIT, queue_events.recv()).await.unwrap() != Some(BusEvent::Connected) {}
        Rig {
            device: device.into(),
            broker,
            printer,
            dir,
            topics,
            queue,
            statuses,
            poll,
        }
    }

    fn spool(&self) -> std::path::PathBuf {
        self.dir.path().join("printed.txt")
    }

    fn driver(&self) -> Driver {
        let options = PrinterOptions {
            bus: BusOptions::new(&self.device, SITE, &self.broker.to_string()),
            port: PortSettings {
                path: self.printer.path.clone(),
                baud: 38400,
                flow: qms_core::config::FlowControl::None,
                timeout: Duration::from_secs(2),
            },
            paper: Paper::Mm58,
            text: qms_core::config::PrinterText::Raster,
            drop_after: Duration::from_secs(120),
            spool: self.spool(),
            poll: self.poll,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(options, async {
            let _ = stopped.await;
        }));
        Driver { stop, task }
    }

    fn send(&self, job: &PrintJob) {
        let payload = serde_json::to_vec(job).unwrap();
        assert!(self
            .queue
            .publish(&self.topics.job(&self.device), payload, false, None));
    }

    /// The next retained status for which `wanted` holds.
    async fn status(&mut self, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        timeout(WAIT, async {
            loop {
                if let Some(BusEvent::Message { payload, .. }) = self.statuses.recv().await {
                    let status: serde_json::Value = serde_json::from_slice(&payload).unwrap();
                    if wanted(&status) {
                        return status;
                    }
                }
            }
        })
        .await
        .expect("the status arrives")
    }

    async fn ready(&mut self) -> serde_json::Value {
        self.status(|s| s["ready"] == true).await
    }

    fn printed(&self, wait: Duration) -> Option<Printed> {
        tokio::task::block_in_place(|| self.printer.printed.recv_timeout(wait).ok())
    }

    /// Waits until the spool records `what` for job `job`.
    async fn spooled(&self, job: &str, what: &str) {
        let line = format!(r#""state":"{what}","job":"{job}""#);
        timeout(WAIT, async {
            while !std::fs::read_to_string(self.spool())
                .unwrap_or_default()
                .contains(&line)
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{job} recorded as {what}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_print_once_and_wait_for_paper() {
    let mut rig = Rig::start("printer-1", Duration::from_millis(50), false).await;
    let _driver = rig.driver();
    assert_eq!(rig.ready().await["paper"], "ok");
    rig.send(&job("1001"));
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "1001");
    // The same job again (a redelivery) is not printed twice.
    rig.send(&job("1001"));
    rig.send(&job("1002"));
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "1002");
    // Printed only once the status after it reads fine: wait for that before the paper
    // runs out, or 1002 would be unsure.
    rig.spooled("20261126-1002", "printed").await;

    rig.printer.set_faults(Faults {
        paper_out: true,
        ..Faults::default()
    });
    let out = rig.status(|s| s["ready"] == false).await;
    assert_eq!(out["paper"], "out");
    assert!(
        out["detail"].as_str().unwrap().starts_with("out of paper"),
        "{out}"
    );
    rig.send(&job("1003"));
    assert!(
        rig.printed(Duration::from_millis(300)).is_none(),
        "nothing printed without paper"
    );
    rig.printer.set_faults(Faults::default());
    rig.ready().await;
    let third = rig.printed(WAIT).unwrap();
    assert_eq!(number(&third), "1003", "printed once the paper is back");
    assert!(rig.printed(Duration::from_millis(300)).is_none());
}

/// The defect: while the printer could not print, the driver retried at once, thousands
/// of status queries and WARN lines a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_storm_while_the_printer_is_not_ready() {
    const FAULT: Duration = Duration::from_secs(10);
    let mut rig = Rig::start("printer-storm", Duration::from_secs(1), false).await;
    let _driver = rig.driver();
    rig.ready().await;
    for (faults, name) in [
        (
            Faults {
                paper_out: true,
                ..Faults::default()
            },
            "paper out",
        ),
        (
            Faults {
                cover_open: true,
                ..Faults::default()
            },
            "cover open",
        ),
    ] {
        rig.printer.set_faults(faults);
        rig.status(|s| s["ready"] == false).await;
        let (queries, lines) = (
            rig.printer.status_requests.load(Ordering::Relaxed),
            lines_of("printer-storm").len(),
        );
        let label = if name == "paper out" { "2001" } else { "2002" };
        rig.send(&job(label));
        let started = Instant::now();
        tokio::time::sleep(FAULT).await;
        let seconds = started.elapsed().as_secs_f64();
        let queries = rig.printer.status_requests.load(Ordering::Relaxed) - queries;
        let new_lines = lines_of("printer-storm").len() - lines;
        // A poll a second is three status requests (DLE EOT 1, 2 and 4).
        assert!(
            queries as f64 <= 4.0 * seconds,
            "{name}: {queries} status requests in {seconds:.1} s"
        );
        assert!(
            new_lines <= 3,
            "{name}: {new_lines} log lines in {seconds:.1} s:\n{}",
            lines_of("printer-storm")[lines..].join("\n")
        );
        rig.printer.set_faults(Faults::default());
        rig.ready().await;
        assert!(
            rig.printed(WAIT).is_some(),
            "{name}: printed once it is over"
        );
        rig.spooled(&format!("20261126-{label}"), "printed").await;
    }
    let log = lines_of("printer-storm").join("\n");
    assert_eq!(log.matches("printer cannot print").count(), 2, "{log}");
    assert_eq!(log.matches("printer back").count(), 2, "{log}");
}

/// The defect: a failed status poll did not reopen the port, so an idle driver said
/// "Broken pipe" until a ticket was tried, and logged nothing when the printer went.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_recovers_after_an_unplug_with_the_driver_idle() {
    let mut rig = Rig::start("printer-unplug", Duration::from_millis(200), true).await;
    let _driver = rig.driver();
    rig.ready().await;
    rig.printer.unplug();
    let gone = rig.status(|s| s["ready"] == false).await;
    assert!(gone["online"] == true, "the driver is there: {gone}");
    rig.printer.plug().unwrap();
    let back = rig.ready().await;
    assert_eq!(back["detail"], "ready");
    let log = lines_of("printer-unplug").join("\n");
    assert!(
        log.contains("printer unreachable"),
        "the loss is logged:\n{log}"
    );
    assert!(log.contains("printer back"), "the return is logged:\n{log}");
    // And it prints on the new port.
    rig.send(&job("3001"));
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "3001");
}

/// The defect: a reprint was dropped as a duplicate of the ticket already printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reprint_never_prints() {
    let mut rig = Rig::start("printer-reprint", Duration::from_millis(50), false).await;
    let _driver = rig.driver();
    rig.ready().await;
    let first = job("4001");
    rig.send(&first);
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "4001");
    let mut reprint = first.clone();
    reprint.job = "20261126-4001/reprint/kiosk-1/7".into();
    rig.send(&reprint);
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "4001", "the reprint");
    // The reprint delivered again is not a third ticket.
    rig.send(&reprint);
    assert!(rig.printed(Duration::from_millis(500)).is_none());
}

/// The defect: a driver stopped between the printer receiving a ticket and the driver
/// recording it printed the ticket again when it came back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_prints_twice_if_the_driver_stops_mid_ticket() {
    let mut rig = Rig::start("printer-stop", Duration::from_millis(100), false).await;
    let driver = rig.driver();
    rig.ready().await;
    // A printer slow to take the bytes holds the driver inside the write.
    rig.printer.set_faults(Faults {
        stalled: true,
        ..Faults::default()
    });
    rig.send(&job("5001"));
    rig.spooled("20261126-5001", "started").await;
    driver.stop().await;
    rig.printer.set_faults(Faults::default());
    // The bytes already on the line come out once.
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "5001");

    // The job was never acknowledged: the broker delivers it again to the new driver.
    let _again = rig.driver();
    let status = rig
        .status(|s| s["unsure"].as_array().is_some_and(|u| !u.is_empty()))
        .await;
    assert_eq!(status["unsure"][0]["label"], "5001", "{status}");
    assert_eq!(status["unsure"][0]["ticket"], "20261126-5001");
    assert!(
        rig.printed(Duration::from_secs(2)).is_none(),
        "printed a second time"
    );
    let log = lines_of("printer-stop").join("\n");
    assert!(
        log.contains("ticket 5001 may not have been printed"),
        "{log}"
    );

    // One press: a reprint prints it, and it is no longer reported.
    let mut reprint = job("5001");
    reprint.job = "20261126-5001/reprint/counter-1/1".into();
    rig.send(&reprint);
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "5001");
    rig.status(|s| s["unsure"].as_array().is_some_and(|u| u.is_empty()))
        .await;
}

/// The defect: the demo's driver was dropped with the office, never stopped; stopped, a
/// driver now sees the ticket on the line out and recorded before it says it is offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_asked_to_stop_finishes_the_ticket_it_is_printing() {
    let mut rig = Rig::start("printer-graceful", Duration::from_millis(100), false).await;
    let driver = rig.driver();
    rig.ready().await;
    rig.printer.set_faults(Faults {
        stalled: true,
        ..Faults::default()
    });
    rig.send(&job("5101"));
    rig.spooled("20261126-5101", "started").await;
    let stopping = tokio::spawn(driver.stop());
    timeout(WAIT, async {
        while !lines_of("printer-graceful")
            .iter()
            .any(|l| l.contains("asked to stop: ticket 5101 is printing"))
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the driver says it sees the ticket out");
    rig.printer.set_faults(Faults::default());
    timeout(WAIT, stopping).await.unwrap().unwrap();
    assert_eq!(number(&rig.printed(WAIT).unwrap()), "5101");
    rig.spooled("20261126-5101", "printed").await;
    rig.status(|s| s["online"] == false).await;

    // Nothing is left unsure, and the job is not delivered and printed again.
    let _again = rig.driver();
    let status = rig.ready().await;
    assert_eq!(status["unsure"], serde_json::json!([]), "{status}");
    assert!(
        rig.printed(Duration::from_secs(1)).is_none(),
        "printed twice"
    );
}
