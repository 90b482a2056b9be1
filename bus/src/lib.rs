//! MQTT for the queue system.
//!
//! # Layout
//! - [`topics`]: the protocol v1 topic tree of a site.
//! - [`client`]: [`Bus`], a reconnecting client that re-subscribes on every connection,
//!   keeps a retained availability status with a last will, and reports which
//!   publications the broker acknowledged ([`BusEvent::Acked`]).
//! - [`link`]: a connection on a thread of its own, for UI threads.
//! - [`security`]: a device's password and TLS files, as `[broker]` in `qms.toml` says.
//! - [`acl`]: the Mosquitto ACL of a site, a device's rights by its role.
//! - [`city`]: the city's NATS JetStream cluster, each node's configuration with an
//!   account per office.
//! - [`broker`]: the embedded broker (rumqttd) for an office on one machine; a site in
//!   production points every client at its Mosquitto instead.

pub mod acl;
pub mod broker;
pub mod city;
pub mod client;
pub mod link;
pub mod security;
pub mod topics;

pub use broker::{free_loopback_addr, start_embedded, start_embedded_on_free_port, BrokerError};
pub use client::{
    packet_size, parse, Bus, BusError, BusEvent, BusOptions, MAX_INCOMING, MAX_PACKET,
};
pub use link::{spawn_link, Publisher};
pub use security::TlsFiles;
pub use topics::Topics;
