//! Closed business days, out of sled and into two small compressed files each: the day's
//! record (its tickets as they ended the day, and the tickets refused), which the reports
//! read, and its events, kept whole for `list` of that day and for audit.
//!
//! sled keeps only the open day: its log-structured file costs several kilobytes a
//! ticket once the day's replies and publications have come and gone, while a closed day
//! here costs about 150 bytes a ticket. A day's files are written (to a temporary name,
//! synced, renamed, the folder synced) before its events leave sled, so a crash in
//! between leaves the day in both places, never in neither; archiving again rewrites the
//! same files.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use qms_core::protocol::{Event, Ticket};
use qms_core::report::DayRecord;
use serde::de::DeserializeOwned;
use time::Date;

/// The folder of closed days.
#[derive(Debug, Clone)]
pub struct Archive {
    dir: PathBuf,
}

/// Why a closed day cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive file {path}: {cause}")]
    /// A file cannot be written or read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    #[error("archive file {path} is damaged: {cause}")]
    /// A file does not hold what it should.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What cannot be read.
        cause: String,
    },
}

const RECORD: &str = "day.json.gz";
const EVENTS: &str = "events.json.gz";

impl Archive {
    /// The archive in folder `dir`, made if missing.
    pub fn open(dir: &Path) -> Result<Archive, ArchiveError> {
        std::fs::create_dir_all(dir).map_err(|cause| ArchiveError::Io {
            path: dir.to_path_buf(),
            cause,
        })?;
        Ok(Archive {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, day: Date, kind: &str) -> PathBuf {
        self.dir.join(format!("{day}.{kind}"))
    }

    /// Whether `day` is archived.
    pub fn has(&self, day: Date) -> bool {
        self.path(day, RECORD).exists() && self.path(day, EVENTS).exists()
    }

    /// Writes closed day `day` from its events, durably.
    pub fn write_day(&self, day: Date, events: &[Event]) -> Result<(), ArchiveError> {
        let record = DayRecord::of_events(day, events);
        self.write(&self.path(day, EVENTS), events)?;
        self.write(&self.path(day, RECORD), &record)?;
        let dir = File::open(&self.dir).and_then(|d| d.sync_all());
        dir.map_err(|cause| ArchiveError::Io {
            path: self.dir.clone(),
            cause,
        })
    }

    fn write<T: serde::Serialize + ?Sized>(
        &self,
        path: &Path,
        value: &T,
    ) -> Result<(), ArchiveError> {
        let io = |cause| ArchiveError::Io {
            path: path.to_path_buf(),
            cause,
        };
        let json = serde_json::to_vec(value).expect("archived values serialize");
        let temporary = path.with_extension("tmp");
        let mut gz = GzEncoder::new(
            File::create(&temporary).map_err(io)?,
            flate2::Compression::best(),
        );
        gz.write_all(&json).map_err(io)?;
        gz.finish().and_then(|f| f.sync_all()).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    fn read<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, ArchiveError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(cause) => {
                return Err(ArchiveError::Io {
                    path: path.to_path_buf(),
                    cause,
                })
            }
        };
        let mut json = Vec::new();
        GzDecoder::new(file)
            .read_to_end(&mut json)
            .map_err(|e| ArchiveError::Damaged {
                path: path.to_path_buf(),
                cause: e.to_string(),
            })?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| ArchiveError::Damaged {
                path: path.to_path_buf(),
                cause: e.to_string(),
            })
    }

    /// The record of closed day `day`, if it was archived.
    pub fn record(&self, day: Date) -> Result<Option<DayRecord>, ArchiveError> {
        self.read(&self.path(day, RECORD))
    }

    /// The events of closed day `day`, if it was archived.
    pub fn events(&self, day: Date) -> Result<Option<Vec<Event>>, ArchiveError> {
        self.read(&self.path(day, EVENTS))
    }

    /// The records of the archived days from `from` to `to`, in order.
    pub fn records(&self, from: Date, to: Date) -> Result<Vec<DayRecord>, ArchiveError> {
        let mut records = Vec::new();
        let mut day = from;
        while day <= to {
            records.extend(self.record(day)?);
            let Some(next) = day.next_day() else { break };
            day = next;
        }
        Ok(records)
    }

    /// Every archived day, oldest first.
    pub fn days(&self) -> Result<Vec<Date>, ArchiveError> {
        let io = |cause| ArchiveError::Io {
            path: self.dir.clone(),
            cause,
        };
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let mut days: Vec<Date> = std::fs::read_dir(&self.dir)
            .map_err(io)?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let day = name.strip_suffix(&format!(".{RECORD}"))?;
                Date::parse(day, &format).ok()
            })
            .collect();
        days.sort();
        Ok(days)
    }

    /// The archived tickets with dossier code `dossier`, newest day first, at most `limit`.
    pub fn find_dossier(&self, dossier: &str, limit: usize) -> Result<Vec<Ticket>, ArchiveError> {
        let mut found = Vec::new();
        for day in self.days()?.into_iter().rev() {
            let Some(record) = self.record(day)? else {
                continue;
            };
            let matching = record
                .tickets
                .into_iter()
                .filter(|t| t.dossier.as_deref() == Some(dossier));
            found.extend(matching);
            if found.len() >= limit {
                found.truncate(limit);
                break;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qms_core::protocol::{Command, EventKind};
    use qms_core::{Actor, QueueState, SiteConfig};
    use time::macros::{date, datetime};

    fn a_day() -> Vec<Event> {
        let mut config = SiteConfig::default_site();
        config.hours = qms_core::config::Hours::always();
        let mut state = QueueState::default();
        let mut events = Vec::new();
        let at = datetime!(2026-11-26 08:00 +7);
        let mut run = |device: &str, command: Command| {
            let actor = Actor::of(&config, device).unwrap();
            events.extend(state.execute(&config, &actor, &command, at).events);
        };
        run("kiosk-1", Command::issue("cccd", None));
        run("kiosk-1", Command::issue("cu-tru", None));
        run(
            "counter-1",
            Command::CallNext {
                counter: None,
                dossier: None,
            },
        );
        run(
            "counter-1",
            Command::Complete {
                counter: None,
                dossier: Some("H29-0001".into()),
            },
        );
        events
    }

    #[test]
    fn a_closed_day_reads_back_as_its_record_and_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(&dir.path().join("archive")).unwrap();
        let day = date!(2026 - 11 - 26);
        assert!(!archive.has(day));
        assert_eq!(archive.record(day).unwrap(), None);
        let events = a_day();
        archive.write_day(day, &events).unwrap();
        assert!(archive.has(day));
        assert_eq!(archive.events(day).unwrap().unwrap(), events);
        let record = archive.record(day).unwrap().unwrap();
        assert_eq!(record, DayRecord::of_events(day, &events));
        assert_eq!(record.tickets.len(), 2);
        assert_eq!(archive.days().unwrap(), [day]);
        let found = archive.find_dossier("H29-0001", 10).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].label, "1001");
        let records = archive
            .records(date!(2026 - 11 - 01), date!(2026 - 11 - 30))
            .unwrap();
        assert_eq!(records.len(), 1);
        let names: Vec<String> = std::fs::read_dir(dir.path().join("archive"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
        assert!(matches!(events[0].kind, EventKind::DayOpened { .. }));
    }

    #[test]
    fn a_damaged_archive_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path()).unwrap();
        let day = date!(2026 - 11 - 26);
        std::fs::write(dir.path().join("2026-11-26.day.json.gz"), b"not gzip").unwrap();
        let error = archive.record(day).unwrap_err().to_string();
        assert!(
            error.contains("2026-11-26.day.json.gz") && error.contains("damaged"),
            "{error}"
        );
    }
}
