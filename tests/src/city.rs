//! The city tier for tests: a PostgreSQL database of the test's own, `qms city store` as a
//! process (to be killed with SIGKILL), and offices with their own Mosquitto bridged to
//! the test's NATS cluster through gates that can cut the link.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use qms_core::SiteConfig;
use qms_queue::SystemClock;

use crate::nats::NatsCluster;
use crate::{office, Authority, BrokerProcess, Gate};

/// Where the tests find PostgreSQL: `QMS_TEST_POSTGRES` (a connection string to a
/// database the tests may create databases from) or the machine's own on 127.0.0.1.
fn admin_conninfo() -> String {
    std::env::var("QMS_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=postgres".into())
}

/// Whether PostgreSQL tests run here: always in CI (`QMS_REQUIRE_POSTGRES=1`, where a
/// missing PostgreSQL is a failure), elsewhere only when it answers.
pub async fn postgres_available() -> bool {
    let answers = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_postgres::connect(&admin_conninfo(), tokio_postgres::NoTls),
    )
    .await
    .is_ok_and(|c| c.is_ok());
    if !answers {
        assert!(
            std::env::var_os("QMS_REQUIRE_POSTGRES").is_none(),
            "QMS_REQUIRE_POSTGRES is set and PostgreSQL does not answer at {}",
            admin_conninfo()
        );
        eprintln!(
            "skipped: PostgreSQL does not answer at {} (set QMS_TEST_POSTGRES)",
            admin_conninfo()
        );
    }
    answers
}

/// Whether the whole city can be tested here: nats-server, PostgreSQL and Mosquitto.
pub async fn city_available() -> bool {
    crate::nats_available() && crate::mosquitto_available() && postgres_available().await
}

/// A database of the test's own, dropped with it.
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let name = format!("qms_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_conninfo()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("the test may create databases");
        TestDatabase { name }
    }

    /// Its connection string: the admin's, in this database.
    pub fn conninfo(&self) -> String {
        let others = admin_conninfo()
            .split_whitespace()
            .filter(|p| !p.starts_with("dbname="))
            .collect::<Vec<_>>()
            .join(" ");
        format!("{others} dbname={}", self.name)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.conninfo()).await
    }
}

async fn connect(conninfo: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {conninfo}: {e}"));
    tokio::spawn(connection);
    client
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Its own runtime: a test's runtime may be ending.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok((admin, connection)) =
                    tokio_postgres::connect(&admin_conninfo(), tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// `qms city store` as its own process.
pub struct CityProcess {
    child: Child,
}

impl CityProcess {
    pub fn start(city: &NatsCluster, db: &TestDatabase) -> CityProcess {
        let nats = city.client_urls();
        let child = Command::new(crate::qms_node())
            .args(["city", "store", "--nats", &nats.join(","), "--postgres"])
            .arg(db.conninfo())
            .env("QMS_CITY_PASSWORD", &city.cluster.city_password)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("qms city starts");
        CityProcess { child }
    }

    /// Its peak resident memory so far, in MiB (Linux).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// SIGKILL, as a power cut does.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for CityProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The example bridge (`broker-config/city/office-bridge.conf`) for office `site`, to
/// `addresses`.
pub fn bridge_conf(site: &str, password: &str, addresses: &[SocketAddr]) -> String {
    const BRIDGE: &str = include_str!("../../broker-config/city/office-bridge.conf");
    let addresses: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    BRIDGE
        .lines()
        .map(|line| match line.split_once(' ') {
            Some(("address", _)) => format!("address {}", addresses.join(" ")),
            Some(("remote_password", _)) => format!("remote_password {password}"),
            _ => line.replace("cap-phuong-saigon", site),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until the office's bridge says, on the office's own broker, that it reached the
/// city ("1" on `…/bridge`): the cluster makes an office's session streams at its first
/// connection, which takes seconds on a loaded machine.
async fn bridge_up(config: &SiteConfig, broker: SocketAddr) {
    let topic = format!("qms/v1/{}/bridge", config.site.id);
    let mut watch =
        crate::client(config, broker, "bridge-watch", std::slice::from_ref(&topic)).await;
    loop {
        let message = watch
            .next_message(Duration::from_secs(90))
            .await
            .unwrap_or_else(|| panic!("the bridge of {} never reached the city", config.site.id));
        if message.topic == topic && message.payload == b"1" {
            break;
        }
    }
    watch.close().await;
}

/// The city's public address in the offices' QR codes.
pub const CITY_PUBLIC_URL: &str = "https://xephang.hcm.example.vn";

/// An office bridged to the city: its Mosquitto, its authority, and a gate to each node.
pub struct BridgedOffice {
    pub config: SiteConfig,
    pub broker: SocketAddr,
    pub authority: Option<Authority>,
    pub gates: Vec<Gate>,
    _mosquitto: BrokerProcess,
    _dir: tempfile::TempDir,
}

impl BridgedOffice {
    pub async fn start(city: &NatsCluster, site: &str, name: &str) -> BridgedOffice {
        let mut config = office();
        config.site.id = site.to_string();
        config.site.name = name.to_string();
        // The QR points at the city's citizens' pages, which a phone on 4G reaches.
        config.web.public_url = Some(format!("{CITY_PUBLIC_URL}/{site}"));
        let mut gates = Vec::new();
        for node in &city.cluster.nodes {
            gates.push(Gate::start(node.mqtt).await);
        }
        let dir = tempfile::tempdir().expect("a temporary folder");
        let broker = qms_bus::free_loopback_addr();
        const LOCAL: &str = include_str!("../../broker-config/mosquitto-local.conf");
        let local: String = LOCAL
            .replace(
                "listener 1883 127.0.0.1",
                &format!("listener {} 127.0.0.1", broker.port()),
            )
            .lines()
            .filter(|line| !line.starts_with("max_queued_messages"))
            .map(|line| format!("{line}\n"))
            .collect();
        let addresses: Vec<SocketAddr> = gates.iter().map(|g| g.addr).collect();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "{local}\n{}\n",
                bridge_conf(site, &format!("pw-{site}"), &addresses)
            ),
        )
        .expect("the office's Mosquitto configuration");
        let mosquitto = BrokerProcess::mosquitto_with(&conf, broker);
        bridge_up(&config, broker).await;
        let store: PathBuf = dir.path().join("db");
        let authority = Authority::start(&config, broker, &store, Arc::new(SystemClock)).await;
        BridgedOffice {
            config,
            broker,
            authority: Some(authority),
            gates,
            _mosquitto: mosquitto,
            _dir: dir,
        }
    }

    /// The seq of its authority's newest durable event.
    pub fn seq(&self) -> u64 {
        *self.authority.as_ref().expect("running").progress.borrow()
    }

    /// Cuts the office off from the city, and refuses its bridge until [`Self::link`].
    pub fn cut(&self) {
        for gate in &self.gates {
            gate.close();
        }
    }

    pub fn link(&self) {
        for gate in &self.gates {
            gate.open();
        }
    }
}
