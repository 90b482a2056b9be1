//! The durable store: sled behind a small interface, in this module only.
//!
//! One sled tree with key prefixes:
//! - `e` + seq: the events, in order;
//! - `o` + key: the outbox, publications not yet acknowledged by the broker;
//! - `r` + device + 0 + command id: the reply of a write command, for idempotency;
//! - `m/day`: the seq of the event that opened the current business day;
//! - `m/follow`: the secret the citizens' page tokens are made with;
//! - `d` + date ("2026-11-25"): the seq of the event that opened that business day, so
//!   that a closed day's events can be read back for its report.
//!
//! The writes of the commands that arrive together form one [`Group`], applied as one
//! atomic `apply_batch` by [`Store::commit`], which also makes it survive a power cut:
//! sled's `flush` writes its log with `sync_file_range` only, which neither flushes the
//! drive's cache nor covers file metadata, so it is followed by `fdatasync` of the log
//! file. Each sled batch costs a log write and a `sync_file_range` of its own, so one
//! batch per group, not per command.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use qms_core::protocol::{Event, EventKind};
use time::Date;

#[derive(Debug, thiserror::Error)]
/// Why the store cannot be read or written.
pub enum StoreError {
    #[error("the database at {path} cannot be opened: {cause}")]
    /// The database cannot be opened.
    Open {
        /// The database folder.
        path: PathBuf,
        /// Why.
        cause: sled::Error,
    },
    #[error("database: {0}")]
    /// sled failed.
    Sled(#[from] sled::Error),
    #[error("making the database durable: {0}")]
    /// Syncing the write-ahead log failed.
    Sync(#[from] std::io::Error),
    #[error(transparent)]
    /// A closed day cannot be archived or read back.
    Archive(#[from] crate::archive::ArchiveError),
    #[error("the system's random source failed")]
    /// No random secret can be made.
    Random,
    #[error("stored record {key:?} is damaged: {cause}")]
    /// A record cannot be read back.
    Damaged {
        /// The record's key.
        key: Vec<u8>,
        /// What cannot be read.
        cause: String,
    },
}

/// Something to publish once the write that made it is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// Whether the broker keeps it for new subscribers.
    pub retain: bool,
}

impl Publication {
    fn encode(&self) -> Vec<u8> {
        let topic = self.topic.as_bytes();
        let mut out = Vec::with_capacity(3 + topic.len() + self.payload.len());
        out.push(u8::from(self.retain));
        out.extend_from_slice(&(topic.len() as u16).to_be_bytes());
        out.extend_from_slice(topic);
        out.extend_from_slice(&self.payload);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Publication> {
        let (&retain, rest) = bytes.split_first()?;
        let len = u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize;
        let topic = std::str::from_utf8(rest.get(2..2 + len)?).ok()?.to_string();
        Some(Publication {
            topic,
            payload: rest[2 + len..].to_vec(),
            retain: retain == 1,
        })
    }
}

/// What one command writes.
#[derive(Debug, Default)]
pub struct Write<'a> {
    /// The events it made.
    pub events: &'a [Event],
    /// What to publish once it is durable, by outbox key.
    pub outbox: Vec<(u64, Publication)>,
    /// (device, command id, reply payload)
    pub reply: Option<(&'a str, &'a str, &'a [u8])>,
}

/// What the store holds at start-up.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The events of the current business day, in order.
    pub events: Vec<Event>,
    /// What was not yet acknowledged by the broker, by outbox key.
    pub outbox: Vec<(u64, Publication)>,
}

/// The authority's database: the day's events, the outbox and the replies, each write made
/// durable before it is published.
pub struct Store {
    db: sled::Db,
    log: File,
    /// sled writes a page too large for its log (over a quarter of a segment) to a file of
    /// its own here, without syncing it.
    blobs: PathBuf,
    synced_blobs: HashSet<std::ffi::OsString>,
}

const DAY_KEY: &[u8] = b"m/day";
const FOLLOW_KEY: &[u8] = b"m/follow";

fn key(prefix: u8, n: u64) -> [u8; 9] {
    let mut k = [prefix; 9];
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

fn reply_key(device: &str, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + device.len() + id.len());
    k.push(b'r');
    k.extend_from_slice(device.as_bytes());
    k.push(0);
    k.extend_from_slice(id.as_bytes());
    k
}

fn day_key(day: Date) -> Vec<u8> {
    let mut k = vec![b'd'];
    k.extend_from_slice(day.to_string().as_bytes());
    k
}

fn seq_of(k: &[u8]) -> u64 {
    u64::from_be_bytes(k[1..9].try_into().expect("keys are 9 bytes"))
}

impl Store {
    /// Opens or creates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(8 * 1024 * 1024)
            .flush_every_ms(None)
            .open()
            .map_err(open_err)?;
        let log = File::options()
            .read(true)
            .write(true)
            .open(path.join("db"))
            .map_err(|e| open_err(e.into()))?;
        // The directory entries of a new database must survive a power cut too.
        File::open(path)?.sync_all()?;
        Ok(Store {
            db,
            log,
            blobs: path.join("blobs"),
            synced_blobs: HashSet::new(),
        })
    }

    /// The secret of the citizens' page tokens, made (256 random bits) and kept the first
    /// time; written durably before any token made with it is given out.
    pub fn follow_secret(&self) -> Result<Vec<u8>, StoreError> {
        if let Some(secret) = self.db.get(FOLLOW_KEY)? {
            return Ok(secret.to_vec());
        }
        let mut secret = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
            .map_err(|_| StoreError::Random)?;
        self.db.insert(FOLLOW_KEY, secret.as_slice())?;
        self.db.flush()?;
        self.log.sync_data()?;
        Ok(secret)
    }

    /// What the database holds.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let day_start = match self.db.get(DAY_KEY)? {
            Some(v) => stored_seq(DAY_KEY, &v)?,
            None => 0,
        };
        let mut outbox = Vec::new();
        for item in self.db.scan_prefix([b'o']) {
            let (k, v) = item?;
            let publication =
                Publication::decode(&v).ok_or_else(|| damaged(&k, "bad publication"))?;
            outbox.push((seq_of(&k), publication));
        }
        Ok(Loaded {
            events: self.events(day_start..u64::MAX)?,
            outbox,
        })
    }

    /// The events of business day `day`, from the one that opened it to the last before
    /// the next day opened; none for a day the authority never opened, or archived.
    pub fn day_events(&self, day: Date) -> Result<Vec<Event>, StoreError> {
        match self.day_seqs(day)? {
            Some(seqs) => self.events(seqs),
            None => Ok(Vec::new()),
        }
    }

    /// The seqs of day `day`'s events: from the event that opened it to the one that
    /// opened the next day (open-ended for the open day).
    fn day_seqs(&self, day: Date) -> Result<Option<std::ops::Range<u64>>, StoreError> {
        let start_key = day_key(day);
        let Some(start) = self.db.get(&start_key)? else {
            return Ok(None);
        };
        let start = stored_seq(&start_key, &start)?;
        // The next key in order is the next day's, if the authority opened one since.
        let end = match self.db.range(start_key.as_slice()..).nth(1) {
            Some(item) => {
                let (k, v) = item?;
                if k.first() == Some(&b'd') {
                    stored_seq(&k, &v)?
                } else {
                    u64::MAX
                }
            }
            None => u64::MAX,
        };
        Ok(Some(start..end))
    }

    /// The closed business days (before `today`) whose events are still here, oldest
    /// first: the days to archive.
    pub fn closed_days(&self, today: Date) -> Result<Vec<Date>, StoreError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let mut days = Vec::new();
        for item in self.db.scan_prefix([b'd']) {
            let (k, _) = item?;
            let text = std::str::from_utf8(&k[1..]).map_err(|_| damaged(&k, "not a day"))?;
            let day = Date::parse(text, &format).map_err(|_| damaged(&k, "not a day"))?;
            if day >= today {
                continue;
            }
            let Some(seqs) = self.day_seqs(day)? else {
                continue;
            };
            if self
                .db
                .range(key(b'e', seqs.start)..key(b'e', seqs.end))
                .next()
                .is_some()
            {
                days.push(day);
            }
        }
        Ok(days)
    }

    /// Removes closed day `day`'s events, once they are archived. Its start stays, so the
    /// next day's events still begin where they did; the open day is never removed.
    pub fn forget_day(&mut self, day: Date) -> Result<(), StoreError> {
        let Some(seqs) = self.day_seqs(day)?.filter(|s| s.end != u64::MAX) else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        for item in self.db.range(key(b'e', seqs.start)..key(b'e', seqs.end)) {
            batch.remove(item?.0);
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        self.log.sync_data()?;
        Ok(())
    }

    fn events(&self, seqs: std::ops::Range<u64>) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        for item in self.db.range(key(b'e', seqs.start)..key(b'e', seqs.end)) {
            let (k, v) = item?;
            events.push(serde_json::from_slice(&v).map_err(|e| damaged(&k, &e.to_string()))?);
        }
        Ok(events)
    }

    /// Adds one command's writes to a group.
    pub fn add(&self, group: &mut Group, write: Write<'_>) -> Result<(), StoreError> {
        let batch = &mut group.batch;
        for event in write.events {
            if let EventKind::DayOpened { day } = event.kind {
                batch.insert(DAY_KEY, &event.seq.to_be_bytes());
                batch.insert(day_key(day), &event.seq.to_be_bytes());
                // Idempotency is per business day: yesterday's replies go.
                for item in self.db.scan_prefix([b'r']) {
                    batch.remove(item?.0);
                }
            }
            let json = serde_json::to_vec(event).expect("events serialize");
            batch.insert(&key(b'e', event.seq), json);
        }
        for (k, publication) in &write.outbox {
            batch.insert(&key(b'o', *k), publication.encode());
        }
        if let Some((device, id, reply)) = write.reply {
            batch.insert(reply_key(device, id), reply);
            group
                .replies
                .insert((device.to_string(), id.to_string()), reply.to_vec());
        }
        group.writes += 1;
        Ok(())
    }

    /// Forgets acknowledged publications as part of a group.
    pub fn remove_outbox_in(&self, group: &mut Group, keys: &[u64]) {
        for k in keys {
            group.batch.remove(&key(b'o', *k));
        }
    }

    /// The reply of a command already executed, in the store or earlier in `group`.
    pub fn reply(
        &self,
        group: &Group,
        device: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(reply) = group.replies.get(&(device.to_string(), id.to_string())) {
            return Ok(Some(reply.clone()));
        }
        Ok(self.db.get(reply_key(device, id))?.map(|v| v.to_vec()))
    }

    /// Applies a group atomically and makes it durable.
    pub fn commit(&mut self, group: Group) -> Result<(), StoreError> {
        self.db.apply_batch(group.batch)?;
        self.db.flush()?;
        self.sync_new_blobs()?;
        self.log.sync_data()?;
        Ok(())
    }

    /// Syncs blob files sled wrote since the last commit, and their folder.
    fn sync_new_blobs(&mut self) -> Result<(), StoreError> {
        let mut present = HashSet::new();
        for entry in std::fs::read_dir(&self.blobs)? {
            let entry = entry?;
            if !self.synced_blobs.contains(&entry.file_name()) {
                File::open(entry.path())?.sync_data()?;
            }
            present.insert(entry.file_name());
        }
        if !present.is_subset(&self.synced_blobs) {
            File::open(&self.blobs)?.sync_all()?;
        }
        self.synced_blobs = present;
        Ok(())
    }

    /// Forgets publications the broker acknowledged, outside any group. Neither atomic nor
    /// synced (an atomic batch costs a log write of its own): after a crash they are
    /// merely sent again, and subscribers ignore what they have seen.
    pub fn remove_outbox(&self, keys: &[u64]) -> Result<(), StoreError> {
        for k in keys {
            self.db.remove(key(b'o', *k))?;
        }
        Ok(())
    }
}

/// The writes of commands made durable together.
#[derive(Default)]
pub struct Group {
    batch: sled::Batch,
    /// Replies added to this group, for a command repeated within it.
    replies: std::collections::HashMap<(String, String), Vec<u8>>,
    writes: usize,
}

impl Group {
    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.writes == 0
    }
}

/// A sequence number stored as a value.
fn stored_seq(key: &[u8], value: &[u8]) -> Result<u64, StoreError> {
    let bytes = value.try_into().map_err(|_| damaged(key, "not 8 bytes"))?;
    Ok(u64::from_be_bytes(bytes))
}

fn damaged(key: &[u8], cause: &str) -> StoreError {
    StoreError::Damaged {
        key: key.to_vec(),
        cause: cause.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qms_core::protocol::VERSION;

    /// Opens the store again in this process: sled's threads may hold the previous
    /// handle's file lock for a moment after it is dropped (a new process never waits).
    fn reopen(path: &Path) -> Store {
        for _ in 0..200 {
            if let Ok(store) = Store::open(path) {
                return store;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Store::open(path).expect("the store opens again")
    }

    fn event(seq: u64, kind: EventKind) -> Event {
        Event {
            v: VERSION,
            seq,
            at: time::macros::datetime!(2026-11-26 08:00 +7),
            kind,
        }
    }

    fn publication(topic: &str) -> Publication {
        Publication {
            topic: topic.into(),
            payload: b"{}".to_vec(),
            retain: false,
        }
    }

    #[test]
    fn a_reopened_store_has_each_days_events_the_outbox_and_replies() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = Store::open(dir.path()).unwrap();
            let day1 = [event(
                1,
                EventKind::DayOpened {
                    day: time::macros::date!(2026 - 11 - 25),
                },
            )];
            let mut group = Group::default();
            let write = Write {
                events: &day1,
                reply: Some(("kiosk-1", "old", b"old reply")),
                ..Write::default()
            };
            store.add(&mut group, write).unwrap();
            store.commit(group).unwrap();
            let day2 = [
                event(
                    2,
                    EventKind::DayOpened {
                        day: time::macros::date!(2026 - 11 - 26),
                    },
                ),
                event(3, EventKind::CounterPaused { counter: 1 }),
            ];
            let mut group = Group::default();
            store
                .add(
                    &mut group,
                    Write {
                        events: &day2,
                        outbox: vec![(7, publication("a")), (8, publication("b"))],
                        reply: Some(("kiosk-1", "c1", b"reply")),
                    },
                )
                .unwrap();
            assert_eq!(
                store.reply(&group, "kiosk-1", "c1").unwrap().as_deref(),
                Some(&b"reply"[..]),
                "a repeated command sees the reply earlier in its group"
            );
            store.commit(group).unwrap();
            store.remove_outbox(&[7]).unwrap();
        }
        let store = reopen(dir.path());
        let loaded = store.load().unwrap();
        let seqs: Vec<u64> = loaded.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2, 3], "only the current day is replayed");
        let day_seqs = |day| -> Vec<u64> {
            let events = store.day_events(day).unwrap();
            events.iter().map(|e| e.seq).collect()
        };
        assert_eq!(day_seqs(time::macros::date!(2026 - 11 - 25)), [1]);
        assert_eq!(day_seqs(time::macros::date!(2026 - 11 - 26)), [2, 3]);
        assert!(day_seqs(time::macros::date!(2026 - 11 - 24)).is_empty());
        assert_eq!(loaded.outbox, vec![(8, publication("b"))]);
        let none = Group::default();
        assert_eq!(
            store.reply(&none, "kiosk-1", "c1").unwrap().as_deref(),
            Some(&b"reply"[..])
        );
        assert_eq!(
            store.reply(&none, "kiosk-1", "old").unwrap(),
            None,
            "a new day forgets replies"
        );
        assert_eq!(store.reply(&none, "kiosk-2", "c1").unwrap(), None);
    }

    #[test]
    fn a_value_too_large_for_the_log_is_synced_in_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut group = Group::default();
        let big = Publication {
            topic: "t".into(),
            payload: vec![7; 300 * 1024],
            retain: false,
        };
        let write = Write {
            outbox: vec![(1, big.clone())],
            ..Write::default()
        };
        store.add(&mut group, write).unwrap();
        store.commit(group).unwrap();
        assert!(
            !store.synced_blobs.is_empty(),
            "sled wrote a blob and it was synced"
        );
        drop(store);
        let store = reopen(dir.path());
        assert_eq!(store.load().unwrap().outbox, vec![(1, big)]);
    }

    #[test]
    fn publications_round_trip_through_their_encoding() {
        let p = Publication {
            topic: "qms/v1/x/board".into(),
            payload: "Quầy 3".as_bytes().to_vec(),
            retain: true,
        };
        assert_eq!(Publication::decode(&p.encode()), Some(p));
        assert_eq!(Publication::decode(&[1, 0]), None);
    }
}
