//! The embedded broker (rumqttd, in-process) for an office that runs on one machine.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, SegmentConfig, ServerSettings};
use tracing::{error, warn};

#[derive(Debug, thiserror::Error)]
/// Why the embedded broker did not start.
pub enum BrokerError {
    #[error(
        "the embedded broker cannot listen on {0}: the port is taken, most likely by a \
         Mosquitto already running there. To use that broker instead, set `embedded = false` \
         and `address = \"{0}\"` under [broker] in qms.toml (or pass `--broker {0}`); to keep \
         the embedded broker, give it a free port with `address` (or `--listen`)"
    )]
    /// Another program listens on the address.
    PortTaken(SocketAddr),
    #[error("the embedded broker cannot listen on {addr}: {cause}")]
    /// The address cannot be listened on.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        cause: std::io::Error,
    },
    #[error("the embedded broker did not start listening on {0} within 5 s")]
    /// It did not listen in time.
    NotReady(SocketAddr),
}

/// Starts the broker on its own threads and returns once it accepts connections. It runs
/// until the process ends.
pub fn start_embedded(addr: SocketAddr) -> Result<(), BrokerError> {
    // rumqttd only logs a failed bind on its server thread; find out here instead.
    match TcpListener::bind(addr) {
        Ok(probe) => drop(probe),
        Err(e) if e.kind() == ErrorKind::AddrInUse => return Err(BrokerError::PortTaken(addr)),
        Err(cause) => return Err(BrokerError::Listen { addr, cause }),
    }
    let mut broker = Broker::new(config(addr));
    std::thread::Builder::new()
        .name("broker".into())
        .spawn(move || {
            if let Err(e) = broker.start() {
                error!(cause = %e, "embedded broker stopped");
            }
        })
        .expect("a thread can be spawned");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            disable_nagle_on_listener(addr);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(BrokerError::NotReady(addr))
}

/// rumqttd leaves Nagle's algorithm on for its connections, so a reply written right
/// after a PUBACK waits for the client's delayed ACK (40 ms on Linux). Accepted sockets
/// inherit TCP_NODELAY from their listener on Linux, so it is set on rumqttd's listening
/// socket, found among this process's open files by its address.
fn disable_nagle_on_listener(addr: SocketAddr) {
    use std::os::fd::{BorrowedFd, RawFd};
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        warn!("cannot list open files: the embedded broker keeps Nagle's algorithm");
        return;
    };
    for entry in entries.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<RawFd>() else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is open (just listed) and only borrowed for two
        // system calls; the broker's listener is never closed while the process runs.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let listening = socket.peer_addr().is_err();
        let local = socket.local_addr().ok().and_then(|a| a.as_socket());
        if listening && local == Some(addr) {
            if let Err(e) = socket.set_nodelay(true) {
                warn!(cause = %e, "cannot disable Nagle's algorithm on the embedded broker");
            }
            return;
        }
    }
    warn!(%addr, "embedded broker listener not found: it keeps Nagle's algorithm");
}

/// rumqttd keeps each subscription's recent messages in memory, `max_segment_count`
/// segments of `max_segment_size` bytes (a larger message still fits: it starts a
/// segment), and a subscriber that falls further behind than that silently skips ahead:
/// messages the broker acknowledged to their sender are lost.
///
/// Each message kept also holds on to the read buffer it arrived in (rumqttd slices, never
/// copies, and a connection that sends one command and waits for the reply gets a fresh
/// 10 KB buffer for each): about 10 KB a message, far more after long messages. So the
/// logs are sized by what they must hold, no more: the commands' log some 3,500 commands
/// (a 2,000-command burst while the authority is paused, every command sent while it
/// restarts), a printer's jobs some 700 tickets (a printer out of paper for a morning
/// keeps its place in its persistent session), a reply log what a console may fall
/// behind by in such a burst, every other log one small segment, since only the newest
/// message matters there (boards, statuses).
/// Over a simulated day of 50,000 commands the broker stayed at 35 MB, 74 MB with
/// rumqttd's usual 128 KB × 3 everywhere (BENCHMARKS.md).
const COMMAND_LOG: SegmentConfig = SegmentConfig {
    max_segment_size: 64 * 1024,
    max_segment_count: 8,
};
const JOB_LOG: SegmentConfig = SegmentConfig {
    max_segment_size: 64 * 1024,
    max_segment_count: 8,
};
const REPLY_LOG: SegmentConfig = SegmentConfig {
    max_segment_size: 32 * 1024,
    max_segment_count: 4,
};
const OTHER_LOGS: SegmentConfig = SegmentConfig {
    max_segment_size: 16 * 1024,
    max_segment_count: 1,
};

fn config(addr: SocketAddr) -> Config {
    let custom_segment = HashMap::from([
        ("qms/v1/+/dev/+/cmd".to_string(), COMMAND_LOG),
        ("qms/v1/+/dev/+/job".to_string(), JOB_LOG),
        ("qms/v1/+/dev/+/reply".to_string(), REPLY_LOG),
    ]);
    let connections = ConnectionSettings {
        connection_timeout_ms: 5000,
        max_payload_size: crate::MAX_PACKET,
        max_inflight_count: 512,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = ServerSettings {
        name: "v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 256,
            max_outgoing_packet_count: 512,
            max_segment_size: OTHER_LOGS.max_segment_size,
            max_segment_count: OTHER_LOGS.max_segment_count,
            custom_segment: Some(custom_segment),
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("v4".to_string(), server)])),
        ..Config::default()
    }
}

/// Starts the embedded broker on a free loopback port (for tests): a port found free
/// can be taken by someone else before the broker binds it, so a taken one is retried.
pub fn start_embedded_on_free_port() -> Result<SocketAddr, BrokerError> {
    let mut last = None;
    for _ in 0..10 {
        let addr = free_loopback_addr();
        match start_embedded(addr) {
            Ok(()) => return Ok(addr),
            Err(e @ BrokerError::PortTaken(_)) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("tried at least once"))
}

/// A loopback address with a port free right now, for tests and benchmarks.
pub fn free_loopback_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("loopback is available")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_reported_with_the_way_out() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let e = start_embedded(addr).unwrap_err();
        assert!(matches!(e, BrokerError::PortTaken(a) if a == addr));
        let text = e.to_string();
        assert!(
            text.contains("Mosquitto") && text.contains("embedded = false"),
            "{text}"
        );
    }

    #[test]
    fn connections_to_the_embedded_broker_do_not_wait_for_nagle() {
        let addr = start_embedded_on_free_port().unwrap();
        let client = TcpStream::connect(addr).unwrap();
        let client_addr = client.local_addr().unwrap();
        // The broker's end of this connection is a socket of this same process, once the
        // broker has accepted it.
        let broker_end_nodelay = || {
            std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .flatten()
                .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
                .find_map(|fd| {
                    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                    let socket = socket2::SockRef::from(&borrowed);
                    let peer = socket.peer_addr().ok()?.as_socket()?;
                    (peer == client_addr).then(|| socket.nodelay().unwrap())
                })
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut accepted = broker_end_nodelay();
        while accepted.is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            accepted = broker_end_nodelay();
        }
        assert_eq!(accepted, Some(true));
    }
}
