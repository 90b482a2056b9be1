//! The city tier, on existing engines: every office's events, bridged into the city's
//! NATS JetStream cluster, stored in PostgreSQL exactly once by `qms city` ([`run`]), and
//! what the city's pages read back ([`store`], [`live`]).
//!
//! Exactly once: each batch of events is stored in one transaction keyed by (site, seq)
//! and acknowledged to JetStream only after the commit. A `qms city` killed before its
//! acknowledgement gets the batch again (or another replica does) and stores nothing
//! twice; one killed before its commit stored nothing. Replicas share one durable
//! consumer, so they split the stream between them.

pub mod live;
pub mod schema;
pub mod store;
pub mod streams;

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use time::UtcOffset;
use tracing::{info, warn};

use crate::store::Incoming;

/// What can go wrong in the city tier.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    /// PostgreSQL refused or went away.
    #[error("PostgreSQL: {}", postgres_words(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// The database's schema.
    #[error("{0}")]
    Schema(String),
    /// The cluster.
    #[error("NATS: {0}")]
    Nats(String),
    /// The city's pages could not be served.
    #[error("the city's pages: {0}")]
    Serve(#[from] std::io::Error),
}

/// What PostgreSQL said: its own message ("database \"x\" does not exist"), not only
/// "db error".
pub fn postgres_words(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// Where `qms city` finds the cluster and the database.
#[derive(Debug, Clone)]
pub struct CityOptions {
    /// The cluster's client addresses: "nats://10.0.0.1:4222", … (any node will do).
    pub nats: Vec<String>,
    /// The city's user and password on the cluster.
    pub user: String,
    /// Its password.
    pub password: String,
    /// The database: "host=… dbname=… user=…" or a postgresql:// URL.
    pub postgres: String,
    /// On how many nodes the streams are kept (3 on a three-node cluster).
    pub replicas: usize,
    /// The city's time zone: the business day of an event.
    pub utc_offset: UtcOffset,
    /// An event not acknowledged within this goes to another replica.
    pub ack_wait: Duration,
}

/// The most events stored in one transaction.
pub const BATCH: usize = 2000;

/// How often the gaps are looked for and reported.
const GAP_CHECK: Duration = Duration::from_secs(30);

/// Connects to PostgreSQL, again and again until it answers.
pub async fn connect_postgres(conninfo: &str) -> tokio_postgres::Client {
    let mut delay = Duration::from_millis(200);
    loop {
        match tokio_postgres::connect(conninfo, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        warn!("PostgreSQL connection ended: {}", postgres_words(&e));
                    }
                });
                return client;
            }
            Err(e) => {
                warn!(
                    "PostgreSQL does not answer ({}); again in {delay:?}",
                    postgres_words(&e)
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Connects to the cluster as the city.
pub async fn connect_nats(options: &CityOptions) -> Result<async_nats::Client, CityError> {
    let servers = options
        .nats
        .iter()
        .map(|s| s.parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CityError::Nats(format!("a cluster address: {e}")))?;
    async_nats::ConnectOptions::with_user_and_password(
        options.user.clone(),
        options.password.clone(),
    )
    .name("qms city")
    .retry_on_initial_connect()
    .connect(servers)
    .await
    .map_err(|e| CityError::Nats(e.to_string()))
}

/// Stores every office's events until `shutdown`.
pub async fn run(
    options: CityOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), CityError> {
    let mut db = connect_postgres(&options.postgres).await;
    let applied = schema::migrate(&mut db).await?;
    if !applied.is_empty() {
        info!("database schema migrated: versions {applied:?}");
    }
    let nats = connect_nats(&options).await?;
    let js = async_nats::jetstream::new(nats);
    tokio::pin!(shutdown);
    let consumer = tokio::select! {
        _ = &mut shutdown => return Ok(()),
        consumer = until_ready(|| async {
            streams::ensure(&js, options.replicas).await?;
            streams::storer(&js, options.ack_wait).await
        }) => consumer,
    };
    info!("storing the offices' events from {}", streams::EVENTS);
    let mut gap_check = tokio::time::interval(GAP_CHECK);
    loop {
        let messages = match consumer
            .stream()
            .max_messages_per_batch(BATCH)
            .messages()
            .await
        {
            Ok(messages) => messages,
            Err(e) => {
                warn!("cannot read {}: {e}; again in 1 s", streams::EVENTS);
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let mut chunks = messages.ready_chunks(BATCH);
        loop {
            let chunk = tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = gap_check.tick() => {
                    report_gaps(&db).await;
                    continue;
                }
                chunk = chunks.next() => chunk,
            };
            let Some(chunk) = chunk else { break };
            let mut batch = Vec::with_capacity(chunk.len());
            let mut received = Vec::with_capacity(chunk.len());
            for message in chunk {
                match message {
                    Ok(message) => match message.info() {
                        Ok(info) => {
                            batch.push(Incoming::read(
                                message.subject.as_str(),
                                &message.payload,
                                info.stream_sequence,
                                options.utc_offset,
                            ));
                            received.push(message);
                        }
                        Err(e) => warn!("a message without its stream position: {e}"),
                    },
                    Err(e) => warn!("reading {}: {e}", streams::EVENTS),
                }
            }
            store_until_stored(&mut db, &options.postgres, &batch).await;
            for message in received {
                if let Err(e) = message.ack().await {
                    // Stored already: when it comes again it is stored once still.
                    warn!("acknowledging an event: {e}");
                }
            }
        }
        warn!("{} ended; reading it again", streams::EVENTS);
    }
}

/// What `attempt` makes, tried again every second or so until it works: a cluster that
/// has just started takes a few seconds to elect who keeps the streams.
pub async fn until_ready<T, F: std::future::Future<Output = Result<T, CityError>>>(
    mut attempt: impl FnMut() -> F,
) -> T {
    let mut delay = Duration::from_millis(250);
    loop {
        match attempt().await {
            Ok(made) => return made,
            Err(e) => {
                warn!("{e}; again in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Stores `batch`, reconnecting to PostgreSQL until it is in.
async fn store_until_stored(db: &mut tokio_postgres::Client, conninfo: &str, batch: &[Incoming]) {
    loop {
        match store::store(db, batch).await {
            Ok(stored) => {
                if stored.conflicts > 0 {
                    warn!(
                        "{} events came under a seq already stored with another content \
                         (kept in the conflicts table)",
                        stored.conflicts
                    );
                }
                if stored.rejected > 0 {
                    warn!(
                        "{} messages were no event (kept in the rejected table)",
                        stored.rejected
                    );
                }
                return;
            }
            Err(e) => {
                warn!("storing {} events failed ({e}); again", batch.len());
                if db.is_closed() {
                    *db = connect_postgres(conninfo).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

async fn report_gaps(db: &tokio_postgres::Client) {
    match store::gaps(db).await {
        Ok(gaps) => {
            for gap in gaps {
                warn!(
                    "office {}: events {}–{} have not reached the city",
                    gap.site, gap.first, gap.last
                );
            }
        }
        Err(e) => warn!("looking for missing events: {e}"),
    }
}
