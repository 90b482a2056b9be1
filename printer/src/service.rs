//! `qms printer`: takes print jobs from the printer's topic and prints them.
//!
//! Jobs come with a persistent session and manual acknowledgement: a job is acknowledged
//! once it is done with (printed, unsure, or dropped after `drop_after`, when the citizen
//! has had the number on the kiosk's screen for minutes). The spool keeps what became of
//! each job, so a job delivered again after a restart is not printed twice, and a ticket
//! whose printing had begun when the driver stopped is reported, never printed again on
//! its own. The printer's status, polled every `poll` and before each job, is published
//! on the device's retained status; a job waits while the printer cannot print, and is
//! tried again once a poll finds it ready. Each change of status is logged once. Asked to
//! stop, the driver sees the ticket on the line out and recorded first (for at most
//! [`STOP_GRACE`]), then says it is offline.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qms_bus::{Bus, BusEvent, BusOptions, Topics};
use qms_core::protocol::{Cover, PrintJob, PrinterFault, PrinterStatus, UnsureTicket, VERSION};
use tokio::sync::mpsc;
use tracing::{error, info, warn, Instrument};

use crate::jobs::{Job, JobQueue, Offered};
use crate::raster::Fonts;
use crate::serial::{describe, PortSettings, PrinterError, SerialPrinter};
use crate::spool::{JobState, Spool};
use crate::status::Status;
use crate::ticket::{ticket_bytes, Paper, TicketText};
use qms_core::config::{PrinterText, Role};
use qms_core::SiteConfig;

pub struct PrinterOptions {
    /// Device id, site, broker; jobs are read from this device's job topic.
    pub bus: BusOptions,
    pub port: PortSettings,
    pub paper: Paper,
    /// How Vietnamese lines are printed.
    pub text: PrinterText,
    pub drop_after: Duration,
    /// File of what became of each job.
    pub spool: PathBuf,
    /// How often the status is read while there is nothing to print, or while a job
    /// waits for the printer.
    pub poll: Duration,
}

impl PrinterOptions {
    /// The options of printer `device` as the site configuration has it (port, paper,
    /// text, when to drop a job), its spool `{device}-printed.txt`; `None` when the site
    /// has no printer of that id with a `port`. A `port` of "virtual" is left for the
    /// caller to replace with the virtual printer's path.
    pub fn for_device(config: &SiteConfig, device: &str, bus: BusOptions) -> Option<Self> {
        let port = config
            .device(device)
            .filter(|d| d.role == Role::Printer)?
            .port
            .as_ref()?;
        Some(PrinterOptions {
            bus,
            port: PortSettings {
                path: port.path.clone(),
                baud: port.baud,
                flow: port.flow,
                timeout: Duration::from_millis(500),
            },
            paper: Paper::of_width(port.paper_mm),
            text: port.text,
            drop_after: Duration::from_secs(port.drop_after_seconds),
            spool: PathBuf::from(format!("{device}-printed.txt")),
            poll: Duration::from_secs(3),
        })
    }
}

/// How long a driver asked to stop waits for the ticket it is printing.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

type SharedSpool = Arc<Mutex<Spool>>;

/// What the serial thread is asked to do.
enum Work {
    Poll,
    Print { job: Started, bytes: Vec<u8> },
}

/// A job about to go to the printer, recorded as started just before its bytes do.
struct Started {
    spool: SharedSpool,
    job: String,
    ticket: String,
    label: String,
}

impl Started {
    fn record(&self) -> std::io::Result<()> {
        let mut spool = self.spool.lock().expect("spool lock");
        spool.record(&self.job, &self.ticket, &self.label, JobState::Started)
    }
}

/// Why the status could not be read, or a job not printed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    faults: Vec<PrinterFault>,
    detail: String,
}

impl Failure {
    fn of(error: &PrinterError) -> Failure {
        Failure {
            faults: error.faults(),
            detail: error.to_string(),
        }
    }
}

/// What the serial thread answers.
enum Report {
    Status(Result<Status, Failure>),
    /// Not started: the printer could not print, the job waits.
    NotStarted(Result<Status, Failure>),
    Printed(Status),
    /// The bytes went out (some or all) but the printer did not then read ready.
    Unsure(Result<Status, Failure>),
}

/// Runs the driver until `shutdown`; its log lines carry the device's id.
pub async fn run(
    options: PrinterOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let span = tracing::info_span!("printer", device = %options.bus.device);
    serve(options, shutdown).instrument(span).await
}

async fn serve(
    mut options: PrinterOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let topics = Topics::new(&options.bus.site);
    let device = options.bus.device.clone();
    options.bus.subscriptions.push(topics.job(&device));
    options.bus.persistent_session = true;
    options.bus.manual_acks = true;
    let spool = Arc::new(Mutex::new(Spool::open(&options.spool)?));
    for unsure in spool.lock().expect("spool lock").unsure() {
        warn!(ticket = %unsure.ticket, "ticket {} may not have been printed: the driver stopped while printing it; reprint it if the citizen has no ticket", unsure.label);
    }
    let (bus, mut events) = Bus::connect(options.bus.clone()).map_err(std::io::Error::other)?;
    let fonts = Fonts::load();
    let (work_tx, work_rx) = std::sync::mpsc::channel::<Work>();
    let (report_tx, mut reports) = mpsc::unbounded_channel::<Report>();
    let port = options.port.clone();
    std::thread::Builder::new()
        .name("printer-serial".into())
        .spawn(move || serial_worker(port, work_rx, report_tx))?;

    let mut jobs = JobQueue::new(options.drop_after);
    // Work sent to the serial thread and not yet answered.
    let mut busy = false;
    let mut status = StatusLog::default();
    let mut dropped = 0u32;
    let mut connected = false;
    let mut poll = tokio::time::interval(options.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    // Once asked to stop, the ticket on the line is seen out, for at most STOP_GRACE.
    let mut stop_by = None;
    loop {
        let mut changed = false;
        tokio::select! {
            _ = &mut shutdown, if stop_by.is_none() => {
                if let Some(job) = jobs.printing() {
                    info!(ticket = %job.ticket, "asked to stop: ticket {} is printing, the driver stops once it is out", job.label);
                }
                stop_by = Some(tokio::time::Instant::now() + STOP_GRACE);
            }
            _ = tokio::time::sleep_until(stop_by.unwrap_or_else(tokio::time::Instant::now)), if stop_by.is_some() => {
                warn!("stopping with a ticket still on the line");
                break;
            }
            event = events.recv() => {
                let Some(event) = event else { break };
                match event {
                    // Published only once subscribed: a status queued while the broker was
                    // away would go out first and promise a printer that takes no job yet.
                    BusEvent::Connected => (connected, changed) = (true, status.known()),
                    BusEvent::Disconnected { .. } => connected = false,
                    BusEvent::Delivery { payload, pkid, .. } => match serde_json::from_slice::<PrintJob>(&payload) {
                        Ok(job) => {
                            let key = job.key().to_string();
                            tracing::debug!(job = %key, "job received");
                            let spooled = spool.lock().expect("spool lock").state(&key);
                            let offered = jobs.offer(Job {
                                pkid,
                                job: key,
                                ticket: job.ticket.id.clone(),
                                label: job.ticket.label.clone(),
                                bytes: ticket_bytes(&TicketText::of(&job), options.paper, &fonts, options.text),
                                received: Instant::now(),
                            }, spooled);
                            match offered {
                                Offered::Queued => {}
                                Offered::AlreadyQueued => bus.ack(pkid),
                                Offered::Spooled(JobState::Printed) => {
                                    info!(ticket = %job.ticket.id, "job already printed: not printed again");
                                    bus.ack(pkid);
                                }
                                Offered::Spooled(_) => {
                                    warn!(ticket = %job.ticket.id, "job not printed again: its printing had begun; reprint it if the citizen has no ticket");
                                    bus.ack(pkid);
                                }
                            }
                        }
                        Err(e) => {
                            error!(cause = %e, "unreadable print job dropped");
                            bus.ack(pkid);
                        }
                    },
                    _ => {}
                }
            }
            report = reports.recv() => {
                let Some(report) = report else { break };
                busy = false;
                let now = match report {
                    Report::Status(now) => now,
                    Report::NotStarted(now) => {
                        jobs.not_started();
                        now
                    }
                    Report::Printed(after) => {
                        let job = jobs.done().expect("a job was printing");
                        let mut spool = spool.lock().expect("spool lock");
                        let unsure = spool.unsure().len();
                        spool.record(&job.job, &job.ticket, &job.label, JobState::Printed)?;
                        bus.ack(job.pkid);
                        info!(ticket = %job.ticket, "ticket printed");
                        // A reprint of an unsure ticket: it is no longer reported.
                        changed = spool.unsure().len() != unsure;
                        Ok(after)
                    }
                    Report::Unsure(after) => {
                        let job = jobs.done().expect("a job was printing");
                        let mut spool = spool.lock().expect("spool lock");
                        spool.record(&job.job, &job.ticket, &job.label, JobState::Unsure)?;
                        bus.ack(job.pkid);
                        let cause = match &after { Ok(s) => describe(s), Err(e) => e.detail.clone() };
                        warn!(ticket = %job.ticket, %cause, "ticket {} may not have come out: not printed again on its own; reprint it if the citizen has no ticket", job.label);
                        changed = true;
                        after
                    }
                };
                changed |= status.update(now);
            }
            _ = poll.tick() => {
                for job in jobs.expired(Instant::now()) {
                    dropped += 1;
                    warn!(ticket = %job.ticket, "ticket dropped: not printed in time");
                    bus.ack(job.pkid);
                    changed = true;
                }
                if !busy && stop_by.is_none() && (jobs.is_empty() || !status.ready()) {
                    busy = work_tx.send(Work::Poll).is_ok();
                }
            }
        }
        if changed && connected {
            if let Some(now) = &status.last {
                let unsure = spool.lock().expect("spool lock").unsure();
                publish_status(&bus, &topics, now, dropped, &unsure);
            }
        }
        if stop_by.is_some() && !busy {
            break;
        }
        // A job goes out while the printer was last seen ready; otherwise the next poll
        // says when it is back.
        if !busy && status.ready() {
            if let Some(job) = jobs.to_print() {
                let started = Started {
                    spool: spool.clone(),
                    job: job.job.clone(),
                    ticket: job.ticket.clone(),
                    label: job.label.clone(),
                };
                let work = Work::Print {
                    job: started,
                    bytes: job.bytes.clone(),
                };
                busy = work_tx.send(work).is_ok();
                if !busy {
                    jobs.not_started();
                }
            }
        }
    }
    bus.close().await;
    Ok(())
}

/// The last status read, and its changes logged once each.
#[derive(Default)]
struct StatusLog {
    last: Option<Result<Status, Failure>>,
}

impl StatusLog {
    fn known(&self) -> bool {
        self.last.is_some()
    }

    /// True until a status says otherwise: the first job tries the printer.
    fn ready(&self) -> bool {
        match &self.last {
            None => true,
            Some(Ok(s)) => s.ready(),
            Some(Err(_)) => false,
        }
    }

    /// Takes a status read; whether it changed.
    fn update(&mut self, now: Result<Status, Failure>) -> bool {
        if self.last.as_ref() == Some(&now) {
            return false;
        }
        let was_ready = self.last.is_some().then(|| self.ready());
        match &now {
            Ok(s) if s.ready() && was_ready == Some(false) => {
                info!(detail = %describe(s), "printer back: it can print")
            }
            Ok(s) if s.ready() => info!(detail = %describe(s), "printer status"),
            Ok(s) => warn!(detail = %describe(s), "printer cannot print; jobs wait"),
            Err(e) => warn!(cause = %e.detail, "printer unreachable; jobs wait"),
        }
        self.last = Some(now);
        true
    }
}

/// Owns the serial port: opens it (again) when needed, answers each piece of work.
/// After an I/O error the port is opened again next time (a USB adapter replugged).
fn serial_worker(
    settings: PortSettings,
    work: std::sync::mpsc::Receiver<Work>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let mut port: Option<SerialPrinter> = None;
    for item in work {
        let opened = match port.take() {
            Some(printer) => Ok(printer),
            None => SerialPrinter::open(&settings),
        };
        let report = match opened {
            Err(e) => match item {
                Work::Poll => Report::Status(Err(Failure::of(&e))),
                Work::Print { .. } => Report::NotStarted(Err(Failure::of(&e))),
            },
            Ok(mut printer) => {
                let (report, broken) = match item {
                    Work::Poll => match printer.status() {
                        Ok(s) => (Report::Status(Ok(s)), false),
                        Err(e) => (Report::Status(Err(Failure::of(&e))), is_io(&e)),
                    },
                    Work::Print { job, bytes } => print(&mut printer, &job, &bytes),
                };
                if !broken {
                    port = Some(printer);
                }
                report
            }
        };
        if reports.send(report).is_err() {
            return;
        }
    }
}

/// One job: the status first, the job recorded as started, its bytes, the status after.
/// Also whether the port broke.
fn print(printer: &mut SerialPrinter, job: &Started, bytes: &[u8]) -> (Report, bool) {
    match printer.ready() {
        Ok(_) => {}
        Err(PrinterError::NotReady { status }) => return (Report::NotStarted(Ok(status)), false),
        Err(e) => return (Report::NotStarted(Err(Failure::of(&e))), is_io(&e)),
    }
    if let Err(e) = job.record() {
        error!(cause = %e, "the spool cannot be written: the job waits");
        return (
            Report::NotStarted(Err(Failure {
                faults: vec![PrinterFault::Spool],
                detail: format!("the spool cannot be written: {e}"),
            })),
            false,
        );
    }
    match printer.write_ticket(bytes) {
        Ok(after) if after.ready() => (Report::Printed(after), false),
        Ok(after) => (Report::Unsure(Ok(after)), false),
        Err(e) => (Report::Unsure(Err(Failure::of(&e))), is_io(&e)),
    }
}

fn is_io(error: &PrinterError) -> bool {
    matches!(error, PrinterError::Io { .. })
}

/// The retained status: `ready` says whether a ticket can be printed now, `unsure` lists
/// the tickets that may not have come out, for staff to reprint.
fn publish_status(
    bus: &Bus,
    topics: &Topics,
    status: &Result<Status, Failure>,
    dropped: u32,
    unsure: &[crate::spool::Unsure],
) {
    let unsure = unsure
        .iter()
        .map(|u| UnsureTicket {
            ticket: u.ticket.clone(),
            label: u.label.clone(),
        })
        .collect();
    let (ready, paper, cover, faults, detail) = match status {
        Ok(s) => (
            s.ready(),
            Some(s.paper_level()),
            Some(if s.cover_open {
                Cover::Open
            } else {
                Cover::Closed
            }),
            s.faults(),
            describe(s),
        ),
        Err(failure) => (
            false,
            None,
            None,
            failure.faults.clone(),
            failure.detail.clone(),
        ),
    };
    let status = PrinterStatus {
        v: VERSION,
        online: true,
        ready,
        paper,
        cover,
        faults,
        detail,
        dropped,
        unsure,
    };
    let topic = topics.status(bus.device());
    let payload = serde_json::to_vec(&status).expect("a status serializes");
    bus.publish(&topic, payload, true, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use qms_core::config::FlowControl;

    #[test]
    fn a_printer_device_of_the_site_gives_its_port_paper_text_and_spool() {
        let mut config = SiteConfig::default_site();
        let bus = |device: &str| BusOptions::new(device, "site", "127.0.0.1:1883");
        let port = config
            .devices
            .iter_mut()
            .find(|d| d.id == "printer-1")
            .unwrap();
        let port = port.port.as_mut().unwrap();
        (port.path, port.paper_mm, port.flow) = ("/dev/ttyUSB0".into(), 58, FlowControl::RtsCts);
        (port.text, port.drop_after_seconds) = (PrinterText::Tcvn3, 90);

        let options = PrinterOptions::for_device(&config, "printer-1", bus("printer-1")).unwrap();
        assert_eq!(options.port.path, "/dev/ttyUSB0");
        assert_eq!(options.port.baud, 38400);
        assert_eq!(options.port.flow, FlowControl::RtsCts);
        assert_eq!(options.paper, Paper::Mm58);
        assert_eq!(options.text, PrinterText::Tcvn3);
        assert_eq!(options.drop_after, Duration::from_secs(90));
        assert_eq!(options.spool, PathBuf::from("printer-1-printed.txt"));
        assert!(PrinterOptions::for_device(&config, "kiosk-1", bus("kiosk-1")).is_none());
        assert!(PrinterOptions::for_device(&config, "printer-9", bus("printer-9")).is_none());
    }
}
