//! The city's two JetStream streams, in the city's account, over what the offices'
//! accounts export to it:
//!
//! - `QMS_EVENTS`: every office's events (`qms.v1.*.events`), kept until stored and then
//!   some: `qms city` reads it with one durable consumer that its replicas share.
//! - `QMS_LIVE`: the newest board, link state (`…bridge`), counter display and device
//!   status of every office, one message per subject: the city's retained messages.
//!
//! Either is made, or checked, by whoever starts first; an office's message published
//! before the stream exists is not kept, so `qms city` runs before offices bridge.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

use crate::CityError;

/// The events' stream.
pub const EVENTS: &str = "QMS_EVENTS";
/// The live stream.
pub const LIVE: &str = "QMS_LIVE";
/// The durable consumer every `qms city` replica reads `QMS_EVENTS` through.
pub const STORER: &str = "qms-city";

/// How long the cluster keeps events after they arrived, stored or not: the longest
/// PostgreSQL may be down without losing one.
pub const EVENTS_KEPT: Duration = Duration::from_secs(14 * 24 * 3600);

/// The site an office subject is about and the rest: `qms.v1.{site}.{rest}`.
pub fn office_subject(subject: &str) -> Option<(&str, &str)> {
    let mut parts = subject.splitn(4, '.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("qms"), Some("v1"), Some(site), Some(rest)) if !site.is_empty() => Some((site, rest)),
        _ => None,
    }
}

/// The site an office subject is about: `qms.v1.{site}.…`.
pub fn site_of(subject: &str) -> Option<&str> {
    office_subject(subject).map(|(site, _)| site)
}

/// Makes the streams (each on `replicas` nodes) if they are not there.
pub async fn ensure(js: &jetstream::Context, replicas: usize) -> Result<(), CityError> {
    js.get_or_create_stream(stream::Config {
        name: EVENTS.into(),
        subjects: vec!["qms.v1.*.events".into()],
        storage: stream::StorageType::File,
        num_replicas: replicas,
        max_age: EVENTS_KEPT,
        ..Default::default()
    })
    .await
    .map_err(|e| CityError::Nats(format!("the stream {EVENTS}: {e}")))?;
    js.get_or_create_stream(stream::Config {
        name: LIVE.into(),
        subjects: vec![
            "qms.v1.*.board".into(),
            "qms.v1.*.bridge".into(),
            "qms.v1.*.counter.*".into(),
            "qms.v1.*.dev.*.status".into(),
        ],
        storage: stream::StorageType::File,
        num_replicas: replicas,
        max_messages_per_subject: 1,
        ..Default::default()
    })
    .await
    .map_err(|e| CityError::Nats(format!("the stream {LIVE}: {e}")))?;
    Ok(())
}

/// The consumer the replicas share: each event goes to one of them, and comes again
/// when it was not acknowledged within `ack_wait` (a replica killed before it stored it).
pub async fn storer(
    js: &jetstream::Context,
    ack_wait: Duration,
) -> Result<consumer::PullConsumer, CityError> {
    let stream = js
        .get_stream(EVENTS)
        .await
        .map_err(|e| CityError::Nats(format!("the stream {EVENTS}: {e}")))?;
    stream
        .get_or_create_consumer(
            STORER,
            consumer::pull::Config {
                durable_name: Some(STORER.into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait,
                max_ack_pending: 50_000,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| CityError::Nats(format!("the consumer {STORER}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_is_the_third_part_of_the_subject() {
        assert_eq!(site_of("qms.v1.p-ben-thanh.events"), Some("p-ben-thanh"));
        assert_eq!(site_of("qms.v1.x.dev.queue.status"), Some("x"));
        assert_eq!(site_of("qms.v1.x"), None);
        assert_eq!(site_of("qms.v2.x.events"), None);
        assert_eq!(site_of("qms.v1..events"), None);
    }
}
