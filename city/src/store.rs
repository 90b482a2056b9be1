//! The events in PostgreSQL: a batch stored in one transaction, once each by (site, seq),
//! and what the city's pages and `qms city gaps` read back.

use std::collections::{BTreeMap, BTreeSet};

use qms_core::protocol::Event;
use serde_json::Value;
use time::{Date, OffsetDateTime, UtcOffset};
use tokio_postgres::Client;

use crate::CityError;

/// The largest message kept whole in `rejected`; past it only its start is kept.
pub const REJECTED_KEPT: usize = 64 * 1024;

/// One message from the stream, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// An office's event.
    Event(StoredEvent),
    /// Not an event: kept in `rejected`, with why.
    Rejected {
        /// Its subject.
        subject: String,
        /// Its place in the stream.
        stream_seq: u64,
        /// What was wrong.
        reason: String,
        /// Its bytes (at most [`REJECTED_KEPT`]).
        payload: Vec<u8>,
    },
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The office.
    pub site: String,
    /// Its `seq` at the office.
    pub seq: i64,
    /// When it happened.
    pub at: OffsetDateTime,
    /// Its business day in the city's time zone.
    pub day: Date,
    /// Its `type`.
    pub kind: String,
    /// The ticket it is about.
    pub ticket: Option<String>,
    /// An issued ticket's page key.
    pub page: Option<String>,
    /// The event as the office sent it.
    pub body: String,
    /// Its place in the stream.
    pub stream_seq: i64,
}

impl Incoming {
    /// Reads message `stream_seq` on `subject`. The event's own fields are checked, not
    /// its kind: an office on a newer version sends kinds this one does not know, and the
    /// city keeps them all.
    pub fn read(subject: &str, payload: &[u8], stream_seq: u64, offset: UtcOffset) -> Incoming {
        let rejected = |reason: String| Incoming::Rejected {
            subject: subject.to_string(),
            stream_seq,
            reason,
            payload: payload[..payload.len().min(REJECTED_KEPT)].to_vec(),
        };
        let Some(site) = crate::streams::site_of(subject) else {
            return rejected(format!("{subject} is no office's subject"));
        };
        let body: Value = match serde_json::from_slice(payload) {
            Ok(body) => body,
            Err(e) => return rejected(format!("not JSON: {e}")),
        };
        let Some(seq) = body
            .get("seq")
            .and_then(Value::as_u64)
            .filter(|s| (1..=i64::MAX as u64).contains(s))
        else {
            return rejected("no seq, or not a whole number from 1".into());
        };
        let Some(at) = body.get("at").and_then(Value::as_str).and_then(|at| {
            OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
        }) else {
            return rejected("no at, or not an RFC 3339 time".into());
        };
        let Some(kind) = body.get("type").and_then(Value::as_str) else {
            return rejected("no type".into());
        };
        let ticket = match body.get("ticket") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Object(ticket)) => {
                ticket.get("id").and_then(Value::as_str).map(str::to_string)
            }
            _ => None,
        };
        let page = body.get("page").and_then(Value::as_str).map(str::to_string);
        Incoming::Event(StoredEvent {
            site: site.to_string(),
            seq: seq as i64,
            at,
            day: at.to_offset(offset).date(),
            kind: kind.to_string(),
            ticket,
            page,
            body: String::from_utf8_lossy(payload).into_owned(),
            stream_seq: stream_seq as i64,
        })
    }
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// Events stored for the first time.
    pub new: usize,
    /// Events already stored, the same (sent again by a bridge, or a replica's redelivery).
    pub again: usize,
    /// Events under a seq already stored with another body: kept in `conflicts`.
    pub conflicts: usize,
    /// Messages that were no event.
    pub rejected: usize,
}

/// Stores `batch` in one transaction: every event once, by (site, seq).
pub async fn store(db: &mut Client, batch: &[Incoming]) -> Result<Stored, CityError> {
    let mut outcome = Stored::default();
    let events: Vec<&StoredEvent> = batch
        .iter()
        .filter_map(|m| match m {
            Incoming::Event(e) => Some(e),
            Incoming::Rejected { .. } => None,
        })
        .collect();
    let tx = db.transaction().await?;
    // The offices first, in one order for every replica (no deadlock between two
    // batches of the same offices).
    let mut offices: BTreeMap<&str, (i64, OffsetDateTime)> = BTreeMap::new();
    for e in &events {
        let office = offices.entry(&e.site).or_insert((e.seq, e.at));
        office.0 = office.0.max(e.seq);
        office.1 = office.1.max(e.at);
    }
    let sites: Vec<&str> = offices.keys().copied().collect();
    let last_seqs: Vec<i64> = offices.values().map(|o| o.0).collect();
    let last_ats: Vec<OffsetDateTime> = offices.values().map(|o| o.1).collect();
    tx.execute(
        "INSERT INTO offices (site, last_seq, last_event_at)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::timestamptz[])
         ON CONFLICT (site) DO UPDATE SET
             last_seq = greatest(offices.last_seq, excluded.last_seq),
             last_event_at = greatest(offices.last_event_at, excluded.last_event_at)",
        &[&sites, &last_seqs, &last_ats],
    )
    .await?;
    let inserted = tx
        .query(
            "INSERT INTO events (site, seq, at, day, kind, ticket, page, body, stream_seq)
             SELECT s, q, a, d, k, t, p, b::jsonb, ss FROM unnest(
                 $1::text[], $2::int8[], $3::timestamptz[], $4::date[], $5::text[],
                 $6::text[], $7::text[], $8::text[], $9::int8[]) AS u(s, q, a, d, k, t, p, b, ss)
             ON CONFLICT (site, seq) DO NOTHING
             RETURNING site, seq",
            &[
                &events.iter().map(|e| e.site.as_str()).collect::<Vec<_>>(),
                &events.iter().map(|e| e.seq).collect::<Vec<_>>(),
                &events.iter().map(|e| e.at).collect::<Vec<_>>(),
                &events.iter().map(|e| e.day).collect::<Vec<_>>(),
                &events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
                &events
                    .iter()
                    .map(|e| e.ticket.as_deref())
                    .collect::<Vec<_>>(),
                &events.iter().map(|e| e.page.as_deref()).collect::<Vec<_>>(),
                &events.iter().map(|e| e.body.as_str()).collect::<Vec<_>>(),
                &events.iter().map(|e| e.stream_seq).collect::<Vec<_>>(),
            ],
        )
        .await?;
    let mut new: BTreeSet<(String, i64)> = inserted
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    outcome.new = new.len();
    let mut per_site: BTreeMap<&str, i64> = BTreeMap::new();
    for (site, _) in &new {
        *per_site.entry(site).or_default() += 1;
    }
    let (counted, counts): (Vec<&str>, Vec<i64>) = per_site.into_iter().unzip();
    tx.execute(
        "UPDATE offices o SET stored = o.stored + u.n
         FROM unnest($1::text[], $2::int8[]) AS u(s, n) WHERE o.site = u.s",
        &[&counted, &counts],
    )
    .await?;
    // The rest were there already: the same event again, or a conflict.
    for e in &events {
        if new.remove(&(e.site.clone(), e.seq)) {
            continue;
        }
        let row = tx
            .query_one(
                "SELECT body = $3::text::jsonb FROM events WHERE site = $1 AND seq = $2",
                &[&e.site, &e.seq, &e.body],
            )
            .await?;
        if row.get::<_, bool>(0) {
            outcome.again += 1;
        } else {
            outcome.conflicts += 1;
            tx.execute(
                "INSERT INTO conflicts (site, seq, stream_seq, body) VALUES ($1, $2, $3, $4::text::jsonb)
                 ON CONFLICT DO NOTHING",
                &[&e.site, &e.seq, &e.stream_seq, &e.body],
            )
            .await?;
        }
    }
    for message in batch {
        if let Incoming::Rejected {
            subject,
            stream_seq,
            reason,
            payload,
        } = message
        {
            outcome.rejected += 1;
            tx.execute(
                "INSERT INTO rejected (subject, stream_seq, reason, payload) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (stream_seq) DO NOTHING",
                &[subject, &(*stream_seq as i64), reason, payload],
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Events an office sent that the city does not have: `first..=last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The office.
    pub site: String,
    /// The first seq missing.
    pub first: i64,
    /// The last.
    pub last: i64,
}

/// Every office's missing events, below the newest seq stored for it. Only offices whose
/// count falls short of their newest seq are looked at.
pub async fn gaps(db: &Client) -> Result<Vec<Gap>, CityError> {
    let rows = db
        .query(
            "WITH short AS (SELECT site FROM offices WHERE stored < last_seq),
                  seqs AS (
                      SELECT site, seq, lag(seq, 1, 0::int8) OVER (PARTITION BY site ORDER BY seq) AS before
                      FROM events WHERE site IN (SELECT site FROM short))
             SELECT site, before + 1, seq - 1 FROM seqs WHERE seq > before + 1
             ORDER BY site, seq",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Gap {
            site: row.get(0),
            first: row.get(1),
            last: row.get(2),
        })
        .collect())
}

/// The events of office `site` on `day`, in order, as the authority made them; ones of a
/// kind this version does not know are left out.
pub async fn day_events(db: &Client, site: &str, day: Date) -> Result<Vec<Event>, CityError> {
    let rows = db
        .query(
            "SELECT body::text FROM events WHERE day = $2 AND site = $1 ORDER BY seq",
            &[&site, &day],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| serde_json::from_str(row.get::<_, &str>(0)).ok())
        .collect())
}

/// The ticket of office `site` whose page key is `page`: its id and business day.
pub async fn ticket_of_page(
    db: &Client,
    site: &str,
    page: &str,
) -> Result<Option<(String, Date)>, CityError> {
    let row = db
        .query_opt(
            "SELECT ticket, day FROM events WHERE page = $2 AND site = $1 AND kind = 'issued'",
            &[&site, &page],
        )
        .await?;
    Ok(row.map(|row| (row.get(0), row.get(1))))
}

/// One office's figures over some days, as the dashboard, the transparency page and the
/// report across offices show them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct OfficeFigures {
    /// The office.
    pub site: String,
    /// Tickets issued.
    pub issued: i64,
    /// Citizens served.
    pub served: i64,
    /// Called and did not come.
    pub no_shows: i64,
    /// Ratings given.
    pub rated: i64,
    /// Of the ratings, the satisfied ones.
    pub satisfied: i64,
    /// The average wait from ticket to first call, in minutes, of those called.
    pub average_wait_minutes: Option<f64>,
    /// Events the city is missing below the newest one it has.
    pub missing_events: i64,
    /// When its newest event happened.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_event_at: Option<OffsetDateTime>,
}

/// Every office the city has heard of, with its figures of the days `from` to `to`.
pub async fn office_figures(
    db: &Client,
    from: Date,
    to: Date,
) -> Result<Vec<OfficeFigures>, CityError> {
    let rows = db
        .query(
            "WITH today AS (
                 SELECT site,
                        count(*) FILTER (WHERE kind = 'issued') AS issued,
                        count(*) FILTER (WHERE kind = 'completed') AS served,
                        count(*) FILTER (WHERE kind = 'no_show') AS no_shows,
                        count(*) FILTER (WHERE kind = 'rated') AS rated,
                        count(*) FILTER (WHERE kind = 'rated' AND body->>'rating' <> 'unsatisfied') AS satisfied
                 FROM events WHERE day BETWEEN $1 AND $2 GROUP BY site),
             -- Each ticket's issue and first call in one pass (a join of the two was
             -- planned as a nested loop over a freshly filled table: a minute at 168k rows).
             tickets AS (
                 SELECT site,
                        min(at) FILTER (WHERE kind = 'issued') AS issued,
                        min(at) FILTER (WHERE kind = 'called') AS called
                 FROM events WHERE day BETWEEN $1 AND $2 AND kind IN ('issued', 'called')
                 GROUP BY site, ticket),
             waits AS (
                 SELECT site, avg(extract(epoch FROM called - issued))::float8 / 60 AS minutes
                 FROM tickets WHERE called IS NOT NULL AND issued IS NOT NULL GROUP BY site)
             SELECT o.site, coalesce(t.issued, 0), coalesce(t.served, 0), coalesce(t.no_shows, 0),
                    coalesce(t.rated, 0),
                    coalesce(t.satisfied, 0), w.minutes, o.last_seq - o.stored, o.last_event_at
             FROM offices o LEFT JOIN today t ON t.site = o.site LEFT JOIN waits w ON w.site = o.site
             ORDER BY o.site",
            &[&from, &to],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| OfficeFigures {
            site: row.get(0),
            issued: row.get(1),
            served: row.get(2),
            no_shows: row.get(3),
            rated: row.get(4),
            satisfied: row.get(5),
            average_wait_minutes: row.get(6),
            missing_events: row.get(7),
            last_event_at: row.get(8),
        })
        .collect())
}

/// The business days office `site` has events of, from `from` to `to`, each as its
/// events replayed.
pub async fn days_of(
    db: &Client,
    site: &str,
    from: Date,
    to: Date,
) -> Result<Vec<qms_core::report::DayRecord>, CityError> {
    let rows = db
        .query(
            "SELECT day, body::text FROM events WHERE site = $1 AND day BETWEEN $2 AND $3
             ORDER BY seq",
            &[&site, &from, &to],
        )
        .await?;
    let mut days: BTreeMap<Date, Vec<Event>> = BTreeMap::new();
    for row in &rows {
        if let Ok(event) = serde_json::from_str(row.get::<_, &str>(1)) {
            days.entry(row.get(0)).or_default().push(event);
        }
    }
    Ok(days
        .into_iter()
        .map(|(day, events)| qms_core::report::DayRecord::of_events(day, &events))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HCM: UtcOffset = time::macros::offset!(+7);

    #[test]
    fn an_event_is_read_with_its_ticket_and_its_day_in_the_citys_time() {
        let payload = br#"{"v":1,"seq":7,"at":"2026-12-01T18:30:00Z","type":"issued",
            "ticket":{"id":"20261202-1001","label":"1001"},"page":"ab12"}"#;
        let Incoming::Event(e) = Incoming::read("qms.v1.p-1.events", payload, 42, HCM) else {
            panic!("an event")
        };
        assert_eq!((e.site.as_str(), e.seq, e.stream_seq), ("p-1", 7, 42));
        assert_eq!(
            e.day,
            time::macros::date!(2026 - 12 - 02),
            "01:30 in +07:00"
        );
        assert_eq!(e.ticket.as_deref(), Some("20261202-1001"));
        assert_eq!(e.page.as_deref(), Some("ab12"));
        let called = br#"{"v":1,"seq":8,"at":"2026-12-02T01:00:00Z","type":"called","ticket":"t-1","counter":2}"#;
        let Incoming::Event(e) = Incoming::read("qms.v1.p-1.events", called, 43, HCM) else {
            panic!("an event")
        };
        assert_eq!(e.ticket.as_deref(), Some("t-1"));
    }

    #[test]
    fn what_is_no_event_is_rejected_with_why() {
        let reason = |payload: &[u8]| match Incoming::read("qms.v1.p-1.events", payload, 1, HCM) {
            Incoming::Rejected { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason(b"\xff\x00").starts_with("not JSON"));
        assert!(reason(br#"{"seq":0,"at":"2026-12-01T00:00:00Z","type":"x"}"#).contains("seq"));
        assert!(reason(br#"{"seq":-3,"at":"2026-12-01T00:00:00Z","type":"x"}"#).contains("seq"));
        assert!(reason(br#"{"seq":3,"at":"yesterday","type":"x"}"#).contains("at"));
        assert!(reason(br#"{"seq":3,"at":"2026-12-01T00:00:00Z"}"#).contains("type"));
        let big = vec![b'x'; REJECTED_KEPT * 2];
        match Incoming::read("qms.v1.p-1.events", &big, 1, HCM) {
            Incoming::Rejected { payload, .. } => assert_eq!(payload.len(), REJECTED_KEPT),
            other => panic!("{other:?}"),
        }
    }
}
