//! The live picture of every office, from `QMS_LIVE`: its newest board, whether its
//! bridge is linked (Mosquitto's bridge notification, `…/bridge`: "1" or "0", with "0" as
//! the bridge's last will at the city) and whether its authority is online (its retained
//! status, `…/dev/queue/status`). Read with an ordered consumer from the last message of
//! each subject, so a page server that starts has the whole picture at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;
use qms_core::protocol::{Board, DeviceStatus};
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::warn;

use crate::{streams, CityError};

/// What the city knows of one office now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfficeLive {
    /// Its newest board.
    pub board: Option<Board>,
    /// Its bridge's link to the city; None before the bridge said.
    pub linked: Option<bool>,
    /// Its authority's own status; None before it said.
    pub authority_online: Option<bool>,
    /// When the city last heard from it.
    pub heard_at: Option<OffsetDateTime>,
}

/// Every office by site.
pub type Offices = Arc<BTreeMap<String, OfficeLive>>;

/// Applies one message of `QMS_LIVE` to `offices`; false when it changed nothing.
pub fn apply(offices: &mut BTreeMap<String, OfficeLive>, subject: &str, payload: &[u8]) -> bool {
    let Some((site, leaf)) = streams::office_subject(subject) else {
        return false;
    };
    let office = offices.entry(site.to_string()).or_default();
    match leaf {
        "board" => match serde_json::from_slice::<Board>(payload) {
            Ok(board) if office.board.as_ref().is_none_or(|b| b.seq <= board.seq) => {
                office.board = Some(board);
            }
            _ => return false,
        },
        "bridge" => office.linked = Some(payload.first() == Some(&b'1')),
        "dev.queue.status" => office.authority_online = Some(DeviceStatus::says_online(payload)),
        _ => return false,
    }
    office.heard_at = Some(OffsetDateTime::now_utc());
    true
}

/// Follows `QMS_LIVE` into `offices` for as long as the receiver is kept.
pub async fn follow(
    js: jetstream::Context,
    offices: watch::Sender<Offices>,
) -> Result<(), CityError> {
    let mut known: BTreeMap<String, OfficeLive> = BTreeMap::new();
    loop {
        let consumer = async {
            let stream = js
                .get_stream(streams::LIVE)
                .await
                .map_err(|e| CityError::Nats(format!("the stream {}: {e}", streams::LIVE)))?;
            stream
                .create_consumer(consumer::pull::OrderedConfig {
                    deliver_policy: consumer::DeliverPolicy::LastPerSubject,
                    // NATS 2.9 takes the last per subject only with a filter.
                    filter_subject: "qms.v1.>".into(),
                    ..Default::default()
                })
                .await
                .map_err(|e| CityError::Nats(e.to_string()))
        }
        .await;
        let messages = match consumer {
            Ok(consumer) => consumer
                .messages()
                .await
                .map_err(|e| CityError::Nats(e.to_string())),
            Err(e) => Err(e),
        };
        match messages {
            Ok(mut messages) => {
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(message) => {
                            if apply(&mut known, message.subject.as_str(), &message.payload) {
                                offices.send_replace(Arc::new(known.clone()));
                            }
                        }
                        Err(e) => warn!("reading {}: {e}", streams::LIVE),
                    }
                    if offices.is_closed() {
                        return Ok(());
                    }
                }
            }
            Err(e) => warn!("cannot read {}: {e}; again in 1 s", streams::LIVE),
        }
        if offices.is_closed() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_board_never_replaces_a_newer_one_and_the_link_and_authority_are_read() {
        let mut offices = BTreeMap::new();
        let board = |seq: u64| {
            let config = qms_core::SiteConfig::default_site();
            let mut board =
                qms_core::QueueState::default().board(&config, OffsetDateTime::now_utc());
            board.seq = seq;
            serde_json::to_vec(&board).unwrap()
        };
        assert!(apply(&mut offices, "qms.v1.p-1.board", &board(5)));
        assert!(!apply(&mut offices, "qms.v1.p-1.board", &board(4)));
        assert_eq!(offices["p-1"].board.as_ref().unwrap().seq, 5);
        assert!(!apply(&mut offices, "qms.v1.p-1.board", b"not a board"));
        assert!(apply(&mut offices, "qms.v1.p-1.bridge", b"0"));
        assert_eq!(offices["p-1"].linked, Some(false));
        assert!(apply(
            &mut offices,
            "qms.v1.p-1.dev.queue.status",
            br#"{"online":false}"#
        ));
        assert_eq!(offices["p-1"].authority_online, Some(false));
        assert!(!apply(
            &mut offices,
            "qms.v1.p-1.dev.kiosk-1.status",
            br#"{"online":true}"#
        ));
    }
}
