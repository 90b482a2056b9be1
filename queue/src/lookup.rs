//! What is answered from the archive: reports and dossier searches, on a thread of their
//! own so that a year's report never holds up a citizen's ticket. One lookup at a time,
//! in the order asked; today's part is a copy of the state taken when it was asked.

use std::sync::Arc;

use qms_core::protocol::{CommandError, ErrorCode, Reply, Ticket};
use qms_core::report::{DayRecord, Report};
use qms_core::SiteConfig;
use time::Date;
use tracing::warn;

use crate::archive::Archive;

/// The most tickets one dossier search answers.
pub const MAX_FOUND: usize = 100;

/// A question for the archive, from device `device`'s command `id`.
pub struct Lookup {
    /// Who asked.
    pub device: String,
    /// The command's id.
    pub id: String,
    /// What was asked.
    pub ask: Ask,
}

/// What a lookup asks.
pub enum Ask {
    /// The report of days `from` to `to`, with today's record when today is among them.
    Report {
        /// The first day.
        from: Date,
        /// The last day.
        to: Date,
        /// Today, as the state holds it.
        today: Option<DayRecord>,
    },
    /// The tickets with a dossier code: today's found already, the archive's to add.
    Dossier {
        /// The code.
        dossier: String,
        /// Today's tickets with it.
        today: Vec<Ticket>,
    },
}

/// Starts the lookup thread; each answer goes to `answered` as (device, reply).
pub fn start(
    config: Arc<SiteConfig>,
    archive: Archive,
    answered: tokio::sync::mpsc::UnboundedSender<(String, Reply)>,
) -> std::sync::mpsc::Sender<Lookup> {
    let (asks, questions) = std::sync::mpsc::channel::<Lookup>();
    std::thread::Builder::new()
        .name("qms-lookup".into())
        .spawn(move || {
            for lookup in questions {
                let reply = answer(&config, &archive, lookup.id, lookup.ask);
                if answered.send((lookup.device, reply)).is_err() {
                    return;
                }
            }
        })
        .expect("the lookup thread starts");
    asks
}

fn answer(config: &SiteConfig, archive: &Archive, id: String, ask: Ask) -> Reply {
    let unreadable = |error: crate::archive::ArchiveError| {
        warn!(cause = %error, "the archive cannot be read");
        CommandError::new(
            ErrorCode::Internal,
            "Không đọc được dữ liệu lưu trữ",
            format!("the archive cannot be read: {error}"),
        )
    };
    match ask {
        Ask::Report { from, to, today } => match archive.records(from, to) {
            Ok(mut records) => {
                records.extend(today);
                let mut reply = Reply::ok(id);
                reply.report = Some(Box::new(Report::of(config, from, to, &records)));
                reply
            }
            Err(error) => Reply::error(Some(id), unreadable(error)),
        },
        Ask::Dossier { dossier, mut today } => {
            match archive.find_dossier(&dossier, MAX_FOUND.saturating_sub(today.len())) {
                Ok(found) => {
                    today.extend(found);
                    let mut reply = Reply::ok(id);
                    reply.tickets = Some(today);
                    reply
                }
                Err(error) => Reply::error(Some(id), unreadable(error)),
            }
        }
    }
}
