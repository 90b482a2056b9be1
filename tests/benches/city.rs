//! The city tier under a city's day: 42, 84, 168 and 336 offices, each a busy day of
//! 1,000 tickets (issued, called, completed, rated: 4,001 events), published straight into
//! a three-node NATS JetStream cluster on loopback and stored in PostgreSQL by one
//! `qms city store` process. Then every office at a live rate while the time from event
//! to row is measured. `cargo bench -p qms-tests --bench city [-- 42 168]`; the figures
//! are in BENCHMARKS.md.

use std::time::{Duration, Instant};

use qms_core::protocol::{Event, EventKind, Rating, TicketState, VERSION};
use qms_tests::city::{postgres_available, CityProcess, TestDatabase};
use qms_tests::nats::NatsCluster;
use time::OffsetDateTime;

const TICKETS: u32 = 1000;

/// Office `site`'s busy day: the day opened, then each ticket issued, called, served and
/// rated, timed from `start` on.
fn busy_day(start: OffsetDateTime) -> Vec<Event> {
    let mut events = Vec::with_capacity(TICKETS as usize * 4 + 1);
    let mut seq = 0;
    let mut push = |at: OffsetDateTime, kind: EventKind| {
        seq += 1;
        events.push(Event {
            v: VERSION,
            seq,
            at,
            kind,
        });
    };
    push(start, EventKind::DayOpened { day: start.date() });
    for n in 0..TICKETS {
        let label = format!("{}", 1001 + n);
        let at = start + Duration::from_secs(n as u64 * 28);
        let mut ticket = qms_core::sample::print_job(&label).ticket;
        ticket.id = format!("{}-{label}", start.date());
        ticket.issued_at = at;
        ticket.state = TicketState::Waiting;
        let id = ticket.id.clone();
        let page = Some(qms_core::citizen::page_key(&id));
        push(at, EventKind::Issued { ticket, page });
        let counter = (n % 5 + 1) as u16;
        push(
            at + Duration::from_secs(600),
            EventKind::Called {
                ticket: id.clone(),
                label,
                counter,
                officer: Some(format!("cb-{counter}")),
            },
        );
        push(
            at + Duration::from_secs(900),
            EventKind::Completed {
                ticket: id.clone(),
                counter,
                service_seconds: 300,
                officer: Some(format!("cb-{counter}")),
                dossier: Some(format!("000.00.14.H29-{n:06}")),
            },
        );
        push(
            at + Duration::from_secs(930),
            EventKind::Rated {
                ticket: id,
                rating: Rating::VerySatisfied,
                officer: Some(format!("cb-{counter}")),
                dossier: None,
            },
        );
    }
    events
}

fn percentile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}

async fn stored(db: &tokio_postgres::Client) -> i64 {
    db.query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
}

async fn run(offices: usize) {
    let sites: Vec<String> = (1..=offices).map(|i| format!("office-{i:03}")).collect();
    let names: Vec<&str> = sites.iter().map(String::as_str).collect();
    let cluster = NatsCluster::start(&names).await.expect("nats-server");
    let db = TestDatabase::create().await;
    let city = CityProcess::start(&cluster, &db);
    let options = cluster.city_options(&db.conninfo());
    let nats = qms_city::connect_nats(&options).await.unwrap();
    let js = async_nats::jetstream::new(nats);
    qms_city::until_ready(|| qms_city::streams::ensure(&js, 3)).await;
    let client = db.client().await;
    // Until qms city has made its schema.
    while client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A whole city day, as fast as the cluster takes it.
    let today = OffsetDateTime::now_utc().to_offset(time::macros::offset!(+7));
    let start = today.replace_time(time::macros::time!(07:30));
    let day = busy_day(start);
    let total = (day.len() * offices) as i64;
    let bytes: usize = day
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap().len())
        .sum();
    let began = Instant::now();
    let mut acks = Vec::with_capacity(4096);
    // Offices send side by side: the n-th event of every office, then the next.
    for event in &day {
        let payload = serde_json::to_vec(event).unwrap();
        for site in &sites {
            let ack = js
                .publish(format!("qms.v1.{site}.events"), payload.clone().into())
                .await
                .unwrap();
            acks.push(ack);
            if acks.len() == 4096 {
                for ack in acks.drain(..) {
                    ack.await.unwrap();
                }
            }
        }
    }
    for ack in acks.drain(..) {
        ack.await.unwrap();
    }
    let published = began.elapsed();
    while stored(&client).await < total {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let day_stored = began.elapsed();

    // The dashboard's query on that day.
    let mut query_ms = Vec::new();
    for _ in 0..5 {
        let asked = Instant::now();
        let figures = qms_city::store::office_figures(&client, today.date(), today.date())
            .await
            .unwrap();
        assert_eq!(figures.len(), offices);
        query_ms.push(asked.elapsed().as_secs_f64() * 1e3);
    }
    let gaps = qms_city::store::gaps(&client).await.unwrap();
    assert!(gaps.is_empty(), "{gaps:?}");

    // Live: every office at ten times a busy day's peak hour (about 2.8 events a second
    // each), for 20 s; each event's `at` is when it was sent.
    let per_office = Duration::from_millis(360);
    let live_until = Instant::now() + Duration::from_secs(20);
    let mut seq = day.len() as u64;
    let mut tick = tokio::time::interval(per_office / offices as u32);
    let mut sent = 0i64;
    let mut office = 0;
    while Instant::now() < live_until {
        tick.tick().await;
        if office == 0 {
            seq += 1;
        }
        let event = Event {
            v: VERSION,
            seq,
            at: OffsetDateTime::now_utc(),
            kind: EventKind::CounterPaused { counter: 1 },
        };
        let payload = serde_json::to_vec(&event).unwrap();
        let _ = js
            .publish(format!("qms.v1.{}.events", sites[office]), payload.into())
            .await
            .unwrap();
        sent += 1;
        office = (office + 1) % offices;
    }
    while stored(&client).await < total + sent {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut latency_ms: Vec<f64> = client
        .query(
            "SELECT (extract(epoch FROM stored_at - at) * 1000)::float8 FROM events
             WHERE kind = 'counter_paused'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let rss = city.peak_rss_mib().unwrap_or(f64::NAN);
    println!(
        "{offices:>4} offices: {total} events ({:.0} MB) published in {:.1} s, stored in {:.1} s = {:.0} events/s; \
         dashboard query p50 {:.0} ms; live {} events at {:.0}/s: event → row p50 {:.0} ms, p99 {:.0} ms; \
         qms city peak RSS {rss:.0} MiB",
        (bytes * offices) as f64 / 1e6,
        published.as_secs_f64(),
        day_stored.as_secs_f64(),
        total as f64 / day_stored.as_secs_f64(),
        percentile(&mut query_ms, 0.5),
        latency_ms.len(),
        offices as f64 / per_office.as_secs_f64(),
        percentile(&mut latency_ms, 0.5),
        percentile(&mut latency_ms, 0.99),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if !qms_tests::nats_available() || !postgres_available().await {
        return;
    }
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![42, 84, 168, 336]
    } else {
        sizes
    };
    for offices in sizes {
        run(offices).await;
    }
}
