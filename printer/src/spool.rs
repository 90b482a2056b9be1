//! What the driver did with each print job, kept in a file that outlives it.
//!
//! A job is recorded as started, durably, just before its bytes go to the printer, and as
//! printed once the printer's status after them reads fine. A job found started when the
//! driver opens the spool again may have come out or not: it becomes unsure. A started
//! or unsure job is never printed again on its own (a ticket must not come out twice);
//! the unsure ones are reported so that staff can reprint them with one press.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Started,
    Printed,
    /// Printing began but the driver cannot know whether the ticket came out.
    Unsure,
}

/// One line of the spool file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub state: JobState,
    pub job: String,
    pub ticket: String,
    pub label: String,
}

/// A ticket that may not have been printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsure {
    pub ticket: String,
    pub label: String,
}

pub struct Spool {
    path: PathBuf,
    jobs: HashMap<String, Record>,
    /// In the order they became unsure; a later printed job of the same ticket clears it.
    unsure: Vec<Unsure>,
    /// The latest business day of any job, as its ticket ids begin (`20261126`).
    latest_day: String,
}

/// A ticket id starts with its business day: `20261126-1023`.
fn day_of(ticket: &str) -> &str {
    ticket.split('-').next().unwrap_or("")
}

impl Spool {
    /// Reads the spool; jobs it finds started become unsure, and are recorded so.
    /// A line of a bare ticket id (the older format) is a printed ticket.
    pub fn open(path: &Path) -> std::io::Result<Spool> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut spool = Spool {
            path: path.to_path_buf(),
            jobs: HashMap::new(),
            unsure: Vec::new(),
            latest_day: String::new(),
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let record = serde_json::from_str(line).unwrap_or_else(|_| Record {
                state: JobState::Printed,
                job: line.to_string(),
                ticket: line.to_string(),
                label: line.rsplit('-').next().unwrap_or(line).to_string(),
            });
            spool.remember(record);
        }
        let started: Vec<Record> = spool
            .jobs
            .values()
            .filter(|r| r.state == JobState::Started)
            .cloned()
            .collect();
        for record in started {
            spool.record(&record.job, &record.ticket, &record.label, JobState::Unsure)?;
        }
        Ok(spool)
    }

    pub fn state(&self, job: &str) -> Option<JobState> {
        self.jobs.get(job).map(|r| r.state)
    }

    /// Records a job's new state durably before it is acted on.
    pub fn record(
        &mut self,
        job: &str,
        ticket: &str,
        label: &str,
        state: JobState,
    ) -> std::io::Result<()> {
        let record = Record {
            state,
            job: job.into(),
            ticket: ticket.into(),
            label: label.into(),
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let line = serde_json::to_string(&record).expect("records serialize");
        writeln!(file, "{line}")?;
        file.sync_data()?;
        self.remember(record);
        Ok(())
    }

    fn remember(&mut self, record: Record) {
        if day_of(&record.ticket) > self.latest_day.as_str() {
            self.latest_day = day_of(&record.ticket).to_string();
        }
        match record.state {
            JobState::Unsure => {
                if !self.unsure.iter().any(|u| u.ticket == record.ticket) {
                    self.unsure.push(Unsure {
                        ticket: record.ticket.clone(),
                        label: record.label.clone(),
                    });
                }
            }
            JobState::Printed => self.unsure.retain(|u| u.ticket != record.ticket),
            JobState::Started => {}
        }
        self.jobs.insert(record.job.clone(), record);
    }

    /// The tickets of the latest business day that may not have been printed, oldest
    /// first.
    pub fn unsure(&self) -> Vec<Unsure> {
        self.unsure
            .iter()
            .filter(|u| day_of(&u.ticket) == self.latest_day)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_jobs_are_remembered_across_restarts_and_older_spools_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("printed.txt");
        std::fs::write(&path, "20261126-1001\n").unwrap();
        let mut spool = Spool::open(&path).unwrap();
        assert_eq!(spool.state("20261126-1001"), Some(JobState::Printed));
        spool
            .record("20261126-1023", "20261126-1023", "1023", JobState::Printed)
            .unwrap();
        drop(spool);
        let spool = Spool::open(&path).unwrap();
        assert_eq!(spool.state("20261126-1023"), Some(JobState::Printed));
        assert_eq!(spool.state("20261126-1024"), None);
        assert!(spool.unsure().is_empty());
    }

    #[test]
    fn a_job_started_when_the_driver_stopped_is_unsure_until_a_reprint_prints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("printed.txt");
        let mut spool = Spool::open(&path).unwrap();
        spool
            .record("20261126-1023", "20261126-1023", "1023", JobState::Started)
            .unwrap();
        drop(spool);
        let spool = Spool::open(&path).unwrap();
        assert_eq!(spool.state("20261126-1023"), Some(JobState::Unsure));
        let unsure = vec![Unsure {
            ticket: "20261126-1023".into(),
            label: "1023".into(),
        }];
        assert_eq!(spool.unsure(), unsure);
        // Still unsure after another restart: it was recorded as such.
        drop(spool);
        let mut spool = Spool::open(&path).unwrap();
        assert_eq!(spool.unsure(), unsure);
        spool
            .record("reprint-1", "20261126-1023", "1023", JobState::Printed)
            .unwrap();
        assert!(spool.unsure().is_empty());
        drop(spool);
        assert!(Spool::open(&path).unwrap().unsure().is_empty());
    }

    #[test]
    fn unsure_tickets_of_an_earlier_day_are_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(&dir.path().join("printed.txt")).unwrap();
        spool
            .record("20261125-1009", "20261125-1009", "1009", JobState::Unsure)
            .unwrap();
        assert_eq!(spool.unsure().len(), 1);
        spool
            .record("20261126-1001", "20261126-1001", "1001", JobState::Printed)
            .unwrap();
        assert!(spool.unsure().is_empty());
    }
}
