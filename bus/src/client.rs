//! A reconnecting MQTT client with retained availability, a last will, and a report of
//! which publications the broker acknowledged.
//!
//! rumqttc drops its unacknowledged publications when it reconnects into a new session,
//! so delivery is tracked here instead: every publication is QoS 1, may carry a tag, and
//! [`BusEvent::Acked`] reports the tag once the broker's PUBACK for it arrived. After a
//! reconnect nothing from the old connection is resent by rumqttc; the owner resends what
//! was not acknowledged (the queue does so from its outbox).

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qms_core::protocol::DeviceStatus;
use rumqttc::{
    AsyncClient, Event, EventLoop, LastWill, MqttOptions, NetworkOptions, Outgoing, Packet, QoS,
    TlsConfiguration, Transport,
};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::{TlsFiles, Topics};

/// Publications the broker may hold unacknowledged; more wait in the request channel.
const INFLIGHT: u16 = 512;
const REQUEST_CHANNEL: usize = 8192;
/// A PUBLISH's bytes besides topic and payload: fixed header (at most 5), the topic's
/// length (2), the packet id (2).
const PUBLISH_HEADER: usize = 9;

/// The size of a QoS 1 publication as one MQTT packet, at most.
pub fn packet_size(topic: &str, payload: &[u8]) -> usize {
    topic.len() + payload.len() + PUBLISH_HEADER
}

/// How to reach the broker and who this client is.
#[derive(Debug, Clone)]
pub struct BusOptions {
    /// The MQTT client id and the device id of the protocol.
    pub device: String,
    /// The site's id, the root of its topics.
    pub site: String,
    /// `host:port`.
    pub address: String,
    /// Username and password, when the broker asks for them.
    pub credentials: Option<(String, String)>,
    /// Topic filters (QoS 1) subscribed again on every connection.
    pub subscriptions: Vec<String>,
    /// Keep the session (subscriptions and queued messages) while disconnected.
    pub persistent_session: bool,
    /// First pause before reconnecting; it doubles up to two seconds.
    pub reconnect_delay: Duration,
    /// Keep a retained `status` (online, and offline by last will). Off for short-lived
    /// tools, which would otherwise leave a retained status behind.
    pub announce: bool,
    /// Messages arrive as [`BusEvent::Delivery`] and are acknowledged by [`Bus::ack`] only:
    /// one not acknowledged is delivered again after a reconnect (with a persistent
    /// session).
    pub manual_acks: bool,
    /// TLS to the broker; plain TCP without it.
    pub tls: Option<TlsFiles>,
    /// The largest MQTT packet sent or taken, in bytes. Sending a larger one would break
    /// the connection (and, sent again after the reconnect, break it again).
    pub max_packet: usize,
}

/// The default [`BusOptions::max_packet`]: the brokers' limit too (the embedded one's and
/// `max_packet_size` in the Mosquitto configurations).
pub const MAX_PACKET: usize = 1024 * 1024;

/// The largest packet taken: the most MQTT allows. A larger limit than the brokers' own
/// means a message that got through anyway (from a broker set up without a limit) is read
/// and refused, instead of breaking the connection each time it is delivered again.
pub const MAX_INCOMING: usize = 268_435_455;

impl BusOptions {
    /// Options for device `device` of site `site` at `address`, with no password or TLS,
    /// announcing itself.
    pub fn new(device: &str, site: &str, address: &str) -> BusOptions {
        BusOptions {
            device: device.into(),
            site: site.into(),
            address: address.into(),
            credentials: None,
            subscriptions: Vec::new(),
            persistent_session: false,
            reconnect_delay: Duration::from_millis(100),
            announce: true,
            manual_acks: false,
            tls: None,
            max_packet: MAX_PACKET,
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// Why a connection cannot be set up.
pub enum BusError {
    #[error("broker address \"{0}\" is not host:port")]
    /// The address is not host:port.
    Address(String),
    #[error("cannot read the broker password {path}: {reason} (see [broker] secrets)")]
    /// A password file of `[broker] secrets` cannot be read.
    Secret {
        /// The password file.
        path: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
    #[error("TLS: {path}: {reason} (see [broker] ca_file and secrets)")]
    /// A certificate or key for TLS cannot be used.
    Tls {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// What the connection reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    /// Connected, and every subscription acknowledged by the broker (so a reply to a
    /// command sent from now on cannot be missed); publications made before are not
    /// resent by the client.
    Connected,
    /// The connection was lost; the client reconnects.
    Disconnected {
        /// Why, in the client's words.
        reason: String,
        /// The broker refused the device's password or certificate.
        refused: bool,
    },
    /// A message on a subscribed topic.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// A message to acknowledge with [`Bus::ack`] once handled (with `manual_acks`).
    Delivery {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
        /// The packet id to acknowledge it by.
        pkid: u16,
        /// Sent by the broker from its retained store on a new subscription, not because
        /// someone published it now.
        retained: bool,
    },
    /// The broker acknowledged the publication with this tag.
    Acked(u64),
}

/// Delivery bookkeeping shared by the publishing side and the event loop task, without
/// I/O: the event loop tells it what rumqttc did and reports what it answers.
#[derive(Debug, Default)]
struct Link {
    connected: bool,
    /// Tags of publications handed to rumqttc, in order, not yet given a packet id.
    unnumbered: VecDeque<Option<u64>>,
    /// Packet id → tag of publications written to the broker and not yet acknowledged.
    unacked: HashMap<u16, u64>,
    closing: bool,
}

impl Link {
    /// A publication was queued in rumqttc, with its tag if any.
    fn handed(&mut self, tag: Option<u64>) {
        self.unnumbered.push_back(tag);
    }

    /// rumqttc wrote the oldest queued publication with packet id `pkid`.
    fn numbered(&mut self, pkid: u16) {
        if let Some(Some(tag)) = self.unnumbered.pop_front() {
            self.unacked.insert(pkid, tag);
        }
    }

    /// The broker's PUBACK for `pkid`: the tag it acknowledges, if the publication had one.
    fn acked(&mut self, pkid: u16) -> Option<u64> {
        self.unacked.remove(&pkid)
    }

    /// The connection is gone: nothing of it will be acknowledged any more; its owner
    /// sends again what it still needs.
    fn lost(&mut self) {
        self.connected = false;
        self.unnumbered.clear();
        self.unacked.clear();
    }
}

/// A handle to publish; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    client: AsyncClient,
    link: Arc<Mutex<Link>>,
    topics: Topics,
    device: String,
    announce: bool,
    max_packet: usize,
}

impl Bus {
    /// Starts the connection task on the current tokio runtime.
    pub fn connect(options: BusOptions) -> Result<(Bus, mpsc::Receiver<BusEvent>), BusError> {
        let (host, port) = options
            .address
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']).to_string(), p.parse().ok()?)))
            .ok_or_else(|| BusError::Address(options.address.clone()))?;
        let topics = Topics::new(&options.site);
        let mut mqtt = MqttOptions::new(options.device.clone(), host, port);
        mqtt.set_keep_alive(Duration::from_secs(10))
            .set_clean_session(!options.persistent_session)
            .set_inflight(INFLIGHT)
            .set_max_packet_size(MAX_INCOMING, options.max_packet)
            .set_manual_acks(options.manual_acks);
        if options.announce {
            mqtt.set_last_will(LastWill::new(
                topics.status(&options.device),
                status_payload(false),
                QoS::AtLeastOnce,
                true,
            ));
        }
        if let Some((user, password)) = &options.credentials {
            mqtt.set_credentials(user.clone(), password.clone());
        }
        if let Some(files) = &options.tls {
            let config = crate::security::client_config(files)?;
            mqtt.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                Arc::new(config),
            )));
        }
        let (client, mut eventloop) = AsyncClient::new(mqtt, REQUEST_CHANNEL);
        // Commands and replies are small packets: Nagle's algorithm would hold each one
        // until the previous is acknowledged (tens of milliseconds with delayed ACKs).
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let link = Arc::new(Mutex::new(Link::default()));
        let bus = Bus {
            client,
            link: link.clone(),
            topics,
            device: options.device.clone(),
            announce: options.announce,
            max_packet: options.max_packet,
        };
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(drive(eventloop, bus.clone(), options, tx));
        Ok((bus, rx))
    }

    /// The site's topics.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// This client's device id.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Whether the connection is up now.
    pub fn is_connected(&self) -> bool {
        self.link.lock().expect("link lock").connected
    }

    /// Publishes at QoS 1 if connected; false means nothing was sent (disconnected or
    /// too much already waiting) and the caller must send it again later.
    pub fn publish(&self, topic: &str, payload: Vec<u8>, retain: bool, tag: Option<u64>) -> bool {
        // Sent anyway, it would break the connection (and again after each reconnect).
        let bytes = packet_size(topic, &payload);
        if bytes > self.max_packet {
            warn!(
                topic,
                bytes,
                limit = self.max_packet,
                "publication too large, not sent"
            );
            return false;
        }
        let mut link = self.link.lock().expect("link lock");
        if !link.connected {
            return false;
        }
        match self
            .client
            .try_publish(topic, QoS::AtLeastOnce, retain, payload)
        {
            Ok(()) => {
                link.handed(tag);
                true
            }
            Err(e) => {
                warn!(cause = %e, topic, "publication not queued");
                false
            }
        }
    }

    /// Acknowledges a [`BusEvent::Delivery`]: the broker will not deliver it again.
    pub fn ack(&self, pkid: u16) {
        let mut delivered = rumqttc::Publish::new("", QoS::AtLeastOnce, Vec::new());
        delivered.pkid = pkid;
        if let Err(e) = self.client.try_ack(&delivered) {
            warn!(cause = %e, pkid, "acknowledgement not queued");
        }
    }

    /// Says goodbye: the retained status goes offline and the connection closes.
    pub async fn close(&self) {
        if self.announce {
            self.publish(
                &self.topics.status(&self.device),
                status_payload(false),
                true,
                None,
            );
        }
        self.link.lock().expect("link lock").closing = true;
        let _ = self.client.disconnect().await;
    }
}

fn status_payload(online: bool) -> Vec<u8> {
    serde_json::to_vec(&DeviceStatus::online(online)).expect("status serializes")
}

/// Polls the event loop forever, never cancelling a poll halfway.
async fn drive(
    mut eventloop: EventLoop,
    bus: Bus,
    options: BusOptions,
    tx: mpsc::Sender<BusEvent>,
) {
    let mut delay = options.reconnect_delay;
    let mut last_failure = String::new();
    // Subscriptions of this connection the broker has not acknowledged yet.
    let mut unacked_subscriptions = 0usize;
    loop {
        let event = eventloop.poll().await;
        let report = match event {
            Ok(Event::Incoming(Packet::SubAck(_))) if unacked_subscriptions > 0 => {
                unacked_subscriptions -= 1;
                (unacked_subscriptions == 0).then_some(BusEvent::Connected)
            }
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                {
                    let mut link = bus.link.lock().expect("link lock");
                    link.connected = true;
                    unacked_subscriptions = 0;
                    for filter in &options.subscriptions {
                        match bus.client.try_subscribe(filter, QoS::AtLeastOnce) {
                            Ok(()) => unacked_subscriptions += 1,
                            Err(e) => warn!(cause = %e, filter, "subscription not queued"),
                        }
                    }
                    let status = bus.topics.status(&options.device);
                    if options.announce
                        && bus
                            .client
                            .try_publish(status, QoS::AtLeastOnce, true, status_payload(true))
                            .is_ok()
                    {
                        link.handed(None);
                    }
                }
                info!(device = %options.device, address = %options.address, "connected to the broker");
                delay = options.reconnect_delay;
                last_failure.clear();
                (unacked_subscriptions == 0).then_some(BusEvent::Connected)
            }
            Ok(Event::Incoming(Packet::Publish(p))) if options.manual_acks => {
                Some(BusEvent::Delivery {
                    topic: p.topic,
                    payload: p.payload.to_vec(),
                    pkid: p.pkid,
                    retained: p.retain,
                })
            }
            Ok(Event::Incoming(Packet::Publish(p))) => Some(BusEvent::Message {
                topic: p.topic,
                payload: p.payload.to_vec(),
            }),
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                let tag = bus.link.lock().expect("link lock").acked(ack.pkid);
                tag.map(BusEvent::Acked)
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                bus.link.lock().expect("link lock").numbered(pkid);
                None
            }
            Ok(Event::Outgoing(Outgoing::AwaitAck(pkid))) => {
                warn!(
                    pkid,
                    "packet id collision: the broker acknowledges out of order"
                );
                None
            }
            Ok(_) => None,
            Err(e) => {
                unacked_subscriptions = 0;
                let closing = {
                    let mut link = bus.link.lock().expect("link lock");
                    link.lost();
                    // Whatever is still queued belongs to the lost connection: the owner
                    // resends it after the next Connected, so rumqttc must not.
                    eventloop.clean();
                    eventloop.pending.clear();
                    link.closing
                };
                if closing {
                    debug!(device = %options.device, "connection closed");
                    let _ = tx
                        .send(BusEvent::Disconnected {
                            reason: "closed".into(),
                            refused: false,
                        })
                        .await;
                    return;
                }
                let reason = e.to_string();
                let refused = matches!(e, rumqttc::ConnectionError::ConnectionRefused(_));
                if reason != last_failure {
                    warn!(device = %options.device, address = %options.address, cause = %reason, "broker connection lost; reconnecting");
                    last_failure = reason.clone();
                }
                if tx
                    .send(BusEvent::Disconnected { reason, refused })
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
                None
            }
        };
        if let Some(event) = report {
            if tx.send(event).await.is_err() {
                return;
            }
        }
    }
}

/// A JSON payload; an unreadable one is logged and dropped.
pub fn parse<T: serde::de::DeserializeOwned>(topic: &str, payload: &[u8]) -> Option<T> {
    serde_json::from_slice(payload)
        .inspect_err(|e| warn!(topic, cause = %e, "unreadable message ignored"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_their_publications_through_rumqttcs_packet_ids() {
        let mut link = Link::default();
        link.handed(Some(10));
        link.handed(None); // the device's own status
        link.handed(Some(11));
        link.numbered(1);
        link.numbered(2);
        link.numbered(3);
        // Acknowledged out of order, as a broker may.
        assert_eq!(link.acked(3), Some(11));
        assert_eq!(link.acked(2), None, "untagged");
        assert_eq!(link.acked(1), Some(10));
        assert_eq!(link.acked(1), None, "once");
    }

    #[test]
    fn a_packet_id_used_again_carries_the_new_publications_tag() {
        let mut link = Link::default();
        link.handed(Some(10));
        link.numbered(1);
        assert_eq!(link.acked(1), Some(10));
        link.handed(Some(20));
        link.numbered(1);
        assert_eq!(link.acked(1), Some(20));
    }

    #[test]
    fn after_a_lost_connection_nothing_of_it_is_reported_acknowledged() {
        let mut link = Link {
            connected: true,
            ..Link::default()
        };
        link.handed(Some(10));
        link.numbered(1);
        link.handed(Some(11)); // queued, never written
        link.lost();
        assert!(!link.connected);
        // A PUBACK that arrives late, or a packet id reused by the next connection.
        assert_eq!(link.acked(1), None);
        link.handed(Some(12));
        link.numbered(1);
        assert_eq!(
            link.acked(1),
            Some(12),
            "not 11: it belonged to the lost connection"
        );
    }
}
