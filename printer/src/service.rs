//! `qms printer`: takes print jobs from the printer's topic and prints them.
//!
//! Jobs come with a persistent session and manual acknowledgement: a job is acknowledged
//! only once its bytes went out and the printer's status read back fine (or once it is
//! dropped after `drop_after`, when the citizen has had the number on the kiosk's screen
//! for minutes). The spool keeps printed ticket ids, so a job delivered again after a
//! restart is not printed twice. The printer's status, polled every few seconds and
//! before each job, is published on the device's retained status for the kiosk and staff.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use qms_bus::{Bus, BusEvent, BusOptions, Topics};
use qms_core::protocol::PrintJob;
use serde_json::json;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::raster::Fonts;
use crate::serial::{describe, PortSettings, PrinterError, SerialPrinter, Spool};
use crate::status::{Paper as PaperState, Status};
use crate::ticket::{ticket_bytes, Paper, TicketText};
use qms_core::config::PrinterText;

pub struct PrinterOptions {
    /// Device id, site, broker; jobs are read from this device's job topic.
    pub bus: BusOptions,
    pub port: PortSettings,
    pub paper: Paper,
    /// How Vietnamese lines are printed.
    pub text: PrinterText,
    pub drop_after: Duration,
    /// File of printed ticket ids.
    pub spool: PathBuf,
    /// How often the status is read when there is nothing to print.
    pub poll: Duration,
}

/// What the serial thread is asked to do.
enum Work {
    Poll,
    Print { bytes: Vec<u8> },
}

/// What the serial thread answers.
enum Report {
    Status(Result<Status, String>),
    Printed(Status),
    NotPrinted(PrinterError),
}

struct Job {
    pkid: u16,
    ticket: String,
    bytes: Vec<u8>,
    received: Instant,
}

pub async fn run(
    mut options: PrinterOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let topics = Topics::new(&options.bus.site);
    let device = options.bus.device.clone();
    options.bus.subscriptions.push(topics.job(&device));
    options.bus.persistent_session = true;
    options.bus.manual_acks = true;
    let (bus, mut events) = Bus::connect(options.bus.clone()).map_err(std::io::Error::other)?;
    let mut spool = Spool::open(&options.spool)?;
    let fonts = Fonts::load();
    let (work_tx, work_rx) = std::sync::mpsc::channel::<Work>();
    let (report_tx, mut reports) = mpsc::unbounded_channel::<Report>();
    let port = options.port.clone();
    std::thread::Builder::new()
        .name("printer-serial".into())
        .spawn(move || serial_worker(port, work_rx, report_tx))?;

    let mut jobs: VecDeque<Job> = VecDeque::new();
    let mut busy = false;
    let mut last_status: Option<Result<Status, String>> = None;
    let mut dropped = 0u32;
    let mut poll = tokio::time::interval(options.poll);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            event = events.recv() => {
                let Some(event) = event else { break };
                match event {
                    BusEvent::Connected => {
                        if let Some(status) = &last_status {
                            publish_status(&bus, &topics, status, dropped);
                        }
                    }
                    BusEvent::Delivery { payload, pkid, .. } => match serde_json::from_slice::<PrintJob>(&payload) {
                        Ok(job) if spool.contains(&job.ticket.id) => {
                            info!(ticket = %job.ticket.id, "job already printed: not printed again");
                            bus.ack(pkid);
                        }
                        Ok(job) if jobs.iter().any(|j| j.ticket == job.ticket.id) => bus.ack(pkid),
                        Ok(job) => jobs.push_back(Job {
                            pkid,
                            ticket: job.ticket.id.clone(),
                            bytes: ticket_bytes(&TicketText::of(&job), options.paper, &fonts, options.text),
                            received: Instant::now(),
                        }),
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
                let status = match report {
                    Report::Status(status) => status,
                    Report::Printed(status) => {
                        if let Some(job) = jobs.pop_front() {
                            spool.record(&job.ticket)?;
                            bus.ack(job.pkid);
                            info!(ticket = %job.ticket, "ticket printed");
                        }
                        Ok(status)
                    }
                    Report::NotPrinted(e) => {
                        warn!(cause = %e, "ticket not printed yet");
                        match e {
                            PrinterError::NotReady { status } => Ok(status),
                            other => Err(other.to_string()),
                        }
                    }
                };
                if last_status.as_ref() != Some(&status) {
                    publish_status(&bus, &topics, &status, dropped);
                    last_status = Some(status);
                }
            }
            _ = poll.tick() => {
                while jobs.front().is_some_and(|j| j.received.elapsed() >= options.drop_after) {
                    let job = jobs.pop_front().expect("checked");
                    dropped += 1;
                    warn!(ticket = %job.ticket, "ticket dropped: not printed in time");
                    bus.ack(job.pkid);
                    if let Some(status) = &last_status {
                        publish_status(&bus, &topics, status, dropped);
                    }
                }
                if !busy && jobs.is_empty() {
                    busy = work_tx.send(Work::Poll).is_ok();
                }
            }
        }
        if !busy {
            if let Some(job) = jobs.front() {
                busy = work_tx
                    .send(Work::Print {
                        bytes: job.bytes.clone(),
                    })
                    .is_ok();
            }
        }
    }
    bus.close().await;
    Ok(())
}

/// Owns the serial port: opens it (again) when needed, answers each piece of work.
fn serial_worker(
    settings: PortSettings,
    work: std::sync::mpsc::Receiver<Work>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let mut port: Option<SerialPrinter> = None;
    for item in work {
        if port.is_none() {
            match SerialPrinter::open(&settings) {
                Ok(opened) => port = Some(opened),
                Err(e) => {
                    let report = match item {
                        Work::Poll => Report::Status(Err(e.to_string())),
                        Work::Print { .. } => Report::NotPrinted(e),
                    };
                    if reports.send(report).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            }
        }
        let printer = port.as_mut().expect("opened above");
        let report = match item {
            Work::Poll => Report::Status(printer.status().map_err(|e| e.to_string())),
            Work::Print { bytes } => match printer.print(&bytes) {
                Ok(status) => Report::Printed(status),
                Err(e) => Report::NotPrinted(e),
            },
        };
        // After an I/O error the port is opened again next time (a USB adapter replugged).
        if matches!(report, Report::NotPrinted(PrinterError::Io { .. })) {
            port = None;
        }
        if reports.send(report).is_err() {
            return;
        }
    }
}

/// The retained status: `ready` says whether a ticket can be printed now.
fn publish_status(bus: &Bus, topics: &Topics, status: &Result<Status, String>, dropped: u32) {
    let payload = match status {
        Ok(s) => json!({
            "v": 1,
            "online": true,
            "ready": s.ready(),
            "paper": match s.paper { PaperState::Ok => "ok", PaperState::NearEnd => "near_end", PaperState::Out => "out" },
            "cover": if s.cover_open { "open" } else { "closed" },
            "detail": describe(s),
            "dropped": dropped,
        }),
        Err(detail) => json!({
            "v": 1,
            "online": true,
            "ready": false,
            "detail": detail,
            "dropped": dropped,
        }),
    };
    let topic = topics.status(bus.device());
    bus.publish(&topic, payload.to_string().into_bytes(), true, None);
}
