//! Support for the end-to-end tests in `tests/tests`: brokers (embedded in-process, as a
//! `qms broker` process, or Mosquitto), the authority in-process or as a process, a TCP
//! gate that cuts a connection on demand, protocol clients, [`plain`] MQTT clients
//! that know nothing of the project, a real [`browser`] for the pages and [`http`] for
//! their requests and event streams.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod browser;
pub mod city;
pub mod http;
pub mod nats;
pub mod plain;
pub mod schema;

use qms::device::DeviceClient;
use qms_bus::BusOptions;
use qms_core::config::Hours;
use qms_core::SiteConfig;
use qms_queue::{Clock, QueueOptions};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub const WAIT: Duration = Duration::from_secs(10);

/// The default office, open all day, so tests pass at any hour.
pub fn office() -> SiteConfig {
    let mut config = SiteConfig::default_site();
    config.hours = Hours::always();
    config
}

/// The `qms` binary of this package (`qms-node`), beside the test executables.
pub fn qms_node() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows where it is");
    let dir = exe.parent().expect("in a folder");
    let dir = if dir.ends_with("deps") {
        dir.parent().expect("in target")
    } else {
        dir
    };
    dir.join("qms-node")
}

/// Which broker a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    Embedded,
    Mosquitto,
}

/// Whether Mosquitto tests run here: always in CI (`QMS_REQUIRE_MOSQUITTO=1`, where a
/// missing Mosquitto is a failure), elsewhere only when it is installed.
pub fn mosquitto_available() -> bool {
    tool_available("mosquitto", "-h", "QMS_REQUIRE_MOSQUITTO")
}

/// Whether the city cluster's tests run here: always in CI (`QMS_REQUIRE_NATS=1`),
/// elsewhere only when Debian's `nats-server` is installed.
pub fn nats_available() -> bool {
    tool_available("nats-server", "--version", "QMS_REQUIRE_NATS")
}

/// Whether `program` runs; a failure when `require` is set and it does not.
fn tool_available(program: &str, arg: &str, require: &str) -> bool {
    let installed = Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !installed && std::env::var_os(require).is_some() {
        panic!("{require} is set but {program} is not installed");
    }
    if !installed {
        eprintln!("{program} is not installed: its interop tests are skipped here");
    }
    installed
}

/// A broker as its own process, which a test can kill and start again on the same port.
pub struct BrokerProcess {
    pub kind: BrokerKind,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    /// A Mosquitto configuration made elsewhere, used as it is.
    conf: Option<PathBuf>,
    child: Option<Child>,
}

impl BrokerProcess {
    pub fn start(kind: BrokerKind) -> BrokerProcess {
        let mut broker = BrokerProcess {
            kind,
            addr: qms_bus::free_loopback_addr(),
            dir: tempfile::tempdir().expect("a temporary folder"),
            conf: None,
            child: None,
        };
        broker.restart();
        broker
    }

    /// Mosquitto with the configuration `conf`, which listens on `addr` (and maybe more).
    pub fn mosquitto_with(conf: &Path, addr: SocketAddr) -> BrokerProcess {
        let mut broker = BrokerProcess {
            kind: BrokerKind::Mosquitto,
            addr,
            dir: tempfile::tempdir().expect("a temporary folder"),
            conf: Some(conf.to_path_buf()),
            child: None,
        };
        broker.restart();
        broker
    }

    pub fn restart(&mut self) {
        let child = match self.kind {
            BrokerKind::Embedded => Command::new(qms_node())
                .args(["broker", "--listen", &self.addr.to_string()])
                .env("RUST_LOG", "warn,rumqttd=off")
                .stdin(Stdio::null())
                .spawn(),
            BrokerKind::Mosquitto if self.conf.is_some() => Command::new("mosquitto")
                .arg("-c")
                .arg(self.conf.as_ref().expect("checked"))
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .spawn(),
            BrokerKind::Mosquitto => {
                // The project's own local configuration, on this test's port.
                let local = include_str!("../../broker-config/mosquitto-local.conf");
                let conf = self.dir.path().join("mosquitto.conf");
                let listener = format!("listener {} 127.0.0.1", self.addr.port());
                std::fs::write(&conf, local.replace("listener 1883 127.0.0.1", &listener))
                    .expect("config written");
                Command::new("mosquitto")
                    .arg("-c")
                    .arg(&conf)
                    .stdin(Stdio::null())
                    .spawn()
            }
        };
        self.child = Some(child.expect("the broker starts"));
        wait_listening(self.addr);
    }

    /// The broker's process id (0 when it is not running).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts a broker of `kind` for one test and returns its address; the embedded one runs
/// in this process.
pub fn start_broker(kind: BrokerKind) -> (SocketAddr, Option<BrokerProcess>) {
    match kind {
        BrokerKind::Embedded => {
            let addr = qms_bus::start_embedded_on_free_port().expect("the embedded broker starts");
            (addr, None)
        }
        BrokerKind::Mosquitto => {
            let broker = BrokerProcess::start(kind);
            (broker.addr, Some(broker))
        }
    }
}

fn wait_listening(addr: SocketAddr) {
    for _ in 0..500 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("nothing listens on {addr}");
}

/// The authority running in this process.
pub struct Authority {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// The `seq` of the last durable event.
    pub progress: watch::Receiver<u64>,
}

impl Authority {
    /// Starts the authority and waits until it serves commands: its retained status says
    /// online, which it publishes after subscribing to the commands.
    pub async fn start(
        config: &SiteConfig,
        broker: SocketAddr,
        store: &Path,
        clock: Arc<dyn Clock>,
    ) -> Authority {
        Authority::start_with(config, broker, store, clock, |_| {}).await
    }

    /// [`Authority::start`] with its options changed by `change` first.
    pub async fn start_with(
        config: &SiteConfig,
        broker: SocketAddr,
        store: &Path,
        clock: Arc<dyn Clock>,
        change: impl FnOnce(&mut QueueOptions),
    ) -> Authority {
        let status = qms_bus::Topics::new(&config.site.id).status("queue");
        let mut watcher = client(
            config,
            broker,
            &format!("ready-{}", uuid::Uuid::new_v4()),
            &[status],
        )
        .await;
        let authority = Authority::spawn(config, &broker.to_string(), store, clock, change);
        loop {
            let message = watcher
                .next_message(WAIT)
                .await
                .expect("the authority comes online");
            let status: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            if status["online"] == true {
                break;
            }
        }
        watcher.close().await;
        authority
    }

    fn spawn(
        config: &SiteConfig,
        broker: &str,
        store: &Path,
        clock: Arc<dyn Clock>,
        change: impl FnOnce(&mut QueueOptions),
    ) -> Authority {
        let (progress_tx, progress) = watch::channel(0);
        let mut options = QueueOptions::new(Arc::new(config.clone()), broker);
        let addr = broker.parse().expect("the broker is host:port");
        options.bus = options_for(config, addr, "queue");
        options.store_path = store.to_path_buf();
        options.clock = clock;
        options.tick = Duration::from_millis(20);
        options.progress = Some(progress_tx);
        // One authority per broker in every test; the check has a test of its own.
        options.alone_check = Duration::ZERO;
        change(&mut options);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            qms_queue::run(options, async {
                let _ = stopped.await;
            })
            .await
            .expect("the authority runs");
        });
        Authority {
            stop: Some(stop),
            task,
            progress,
        }
    }

    /// Waits until events up to `seq` are durable.
    pub async fn durable(&mut self, seq: u64) {
        tokio::time::timeout(WAIT, self.progress.wait_for(|s| *s >= seq))
            .await
            .expect("the events became durable in time")
            .expect("the authority is running");
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

/// The authority as its own process (`qms queue`), to be killed with SIGKILL.
pub struct AuthorityProcess {
    child: Child,
}

impl AuthorityProcess {
    pub fn start(config_file: &Path, broker: SocketAddr, store: &Path) -> AuthorityProcess {
        let child = Command::new(qms_node())
            .arg("--config")
            .arg(config_file)
            .args(["--broker", &broker.to_string(), "queue", "--data"])
            .arg(store)
            .env("RUST_LOG", "warn,rumqttd=off")
            .stdin(Stdio::null())
            .spawn()
            .expect("the authority starts");
        AuthorityProcess { child }
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An office for one test: the embedded broker in this process, the default office open
/// all day, its configuration file and a database folder for `qms` processes.
pub struct TestOffice {
    pub broker: SocketAddr,
    pub config: SiteConfig,
    pub config_file: PathBuf,
    pub store: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestOffice {
    pub fn start() -> TestOffice {
        let broker = qms_bus::start_embedded_on_free_port().expect("the embedded broker starts");
        let config = office();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config_file = write_config(&config, dir.path());
        TestOffice {
            broker,
            config,
            config_file,
            store: dir.path().join("db"),
            _dir: dir,
        }
    }
}

/// Writes `config` where a `qms` process can read it.
pub fn write_config(config: &SiteConfig, dir: &Path) -> PathBuf {
    let path = dir.join("qms.toml");
    std::fs::write(&path, config.to_toml()).expect("config written");
    path
}

/// The options of `device` at `broker`, with its password and TLS files when the site
/// has them; a client id without a password of its own (a test's watcher) uses admin's.
pub fn options_for(config: &SiteConfig, broker: SocketAddr, device: &str) -> BusOptions {
    let secrets = config.broker.secrets.as_deref().map(Path::new);
    let known = secrets.is_none_or(|dir| dir.join(device).exists());
    let mut options = BusOptions::for_device(config, if known { device } else { "admin" })
        .expect("the device's secrets are readable");
    options.device = device.to_string();
    options.address = broker.to_string();
    options
}

/// A protocol client connected as `device`, also subscribed to `extra`.
pub async fn client(
    config: &SiteConfig,
    broker: SocketAddr,
    device: &str,
    extra: &[String],
) -> DeviceClient {
    let mut options = options_for(config, broker, device);
    options.announce = false;
    DeviceClient::connect(options, extra, WAIT)
        .await
        .expect("the client connects")
}

/// A TCP forwarder that can cut every connection through it and refuse new ones.
pub struct Gate {
    pub addr: SocketAddr,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Gate {
    pub async fn start(target: SocketAddr) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("loopback");
        let addr = listener.local_addr().expect("bound");
        let open = Arc::new(AtomicBool::new(true));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (gate_open, gate_links) = (open.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !gate_open.load(Ordering::SeqCst) {
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                gate_links.lock().unwrap().push(link);
            }
        });
        Gate { addr, open, links }
    }

    /// Cuts every connection and refuses new ones.
    pub fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// A small seeded generator, so that a failing random run can be repeated.
pub struct Random(u64);

impl Random {
    /// Seeded from `QMS_TEST_SEED` when set, else from the clock; the seed is printed.
    pub fn new() -> Random {
        let seed = std::env::var("QMS_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("random seed: QMS_TEST_SEED={seed}");
        Random(seed)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

impl Default for Random {
    fn default() -> Self {
        Random::new()
    }
}

/// Makes each named `async fn(BrokerKind)` a test over the embedded broker and one over
/// Mosquitto (skipped when Mosquitto is not installed, unless CI requires it).
#[macro_export]
macro_rules! over_brokers {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(qms_tests::BrokerKind::Embedded).await
                }
            )*
        }
        mod mosquitto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if qms_tests::mosquitto_available() {
                        super::$name(qms_tests::BrokerKind::Mosquitto).await
                    }
                }
            )*
        }
    };
}
