//! `qms web` end to end: the board page and its event stream over real HTTP, fed by a
//! real broker and authority; commands sent as the kiosk and counter devices do.

use std::net::SocketAddr;
use std::sync::Arc;

use qms::device::DeviceClient;
use qms_core::protocol::Command;
use qms_core::SiteConfig;
use qms_queue::SystemClock;
use qms_tests::browser::Browser;
use qms_tests::{
    client, office, options_for, start_broker, Authority, BrokerKind, BrokerProcess, WAIT,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// A plain GET: the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: office\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .expect("the server answers")
        .unwrap();
    let status = response[9..12].parse().expect("a status code");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

/// A Server-Sent Events stream read as a browser's `EventSource` reads it.
struct EventStream {
    reader: BufReader<TcpStream>,
    /// Decoded bytes not yet split into events.
    pending: String,
}

impl EventStream {
    async fn open(addr: SocketAddr, path: &str) -> EventStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: office\r\nAccept: text/event-stream\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        EventStream {
            reader,
            pending: String::new(),
        }
    }

    /// The next event's name and data; None when the server ended the stream.
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some((event, rest)) = self.pending.split_once("\n\n") {
                let (event, rest) = (event.to_string(), rest.to_string());
                self.pending = rest;
                let mut name = String::from("message");
                let mut data = String::new();
                for line in event.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = n.to_string();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((name, data));
            }
            // One chunk of the chunked body: its size in hex, the bytes, CRLF.
            let mut size = String::new();
            if self.reader.read_line(&mut size).await.ok()? == 0 {
                return None;
            }
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                return None;
            }
            let mut chunk = vec![0; size + 2];
            self.reader.read_exact(&mut chunk).await.ok()?;
            chunk.truncate(size);
            self.pending.push_str(&String::from_utf8(chunk).unwrap());
        }
    }

    /// The next board state for which `wanted` holds; every state's `seq` never goes down.
    async fn board(
        &mut self,
        last_seq: &mut u64,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        timeout(WAIT, async {
            loop {
                let (name, data) = self.next().await.expect("the stream goes on");
                assert_eq!(name, "board");
                let view: serde_json::Value = serde_json::from_str(&data).unwrap();
                let seq = view["seq"].as_u64().unwrap();
                assert!(seq >= *last_seq, "seq {seq} after {last_seq}");
                *last_seq = seq;
                if wanted(&view) {
                    return view;
                }
            }
        })
        .await
        .expect("the board state arrives")
    }
}

/// The office with `qms web` in front of it, on a free port.
struct WebOffice {
    config: SiteConfig,
    broker: SocketAddr,
    authority: Authority,
    /// Where the pages are served.
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    _store: tempfile::TempDir,
}

impl WebOffice {
    /// With the embedded broker in this process.
    async fn start() -> WebOffice {
        let (broker, _) = start_broker(BrokerKind::Embedded);
        WebOffice::start_at(broker).await
    }

    /// With the broker at `broker`.
    async fn start_at(broker: SocketAddr) -> WebOffice {
        let config = office();
        let store = tempfile::tempdir().unwrap();
        let authority =
            Authority::start(&config, broker, store.path(), Arc::new(SystemClock)).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let mut bus = options_for(&config, broker, "web");
        bus.reconnect_delay = std::time::Duration::from_millis(50);
        let server = tokio::spawn(qms_web::serve(
            listener,
            Arc::new(config.clone()),
            bus,
            async {
                let _ = stopped.await;
            },
        ));
        WebOffice {
            config,
            broker,
            authority,
            addr,
            stop: Some(stop),
            server,
            _store: store,
        }
    }

    /// A ticket issued at kiosk 1 and called at counter 1: its number, and the two
    /// devices' clients.
    async fn issue_and_call(&self) -> (String, DeviceClient, DeviceClient) {
        let mut kiosk = client(&self.config, self.broker, "kiosk-1", &[]).await;
        let issued = kiosk
            .send(Command::issue("cccd", None), WAIT)
            .await
            .unwrap();
        let label = issued.ticket.expect("a ticket").label;
        let mut counter = client(&self.config, self.broker, "counter-1", &[]).await;
        let called = counter
            .send(Command::CallNext { counter: Some(1) }, WAIT)
            .await
            .unwrap();
        assert!(called.ok, "{called:?}");
        (label, kiosk, counter)
    }

    /// Stops the server and waits until it has.
    async fn stop_server(&mut self) {
        self.stop.take().expect("running").send(()).unwrap();
        timeout(WAIT, &mut self.server)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_at_a_counter_reaches_the_board_page_without_reload() {
    let mut office = WebOffice::start().await;
    let addr = office.addr;
    let (status, page) = get(addr, "/board").await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"vi\">") && page.contains("Số vừa gọi"));
    let (status, script) = get(addr, "/static/board.js").await;
    assert_eq!(status, 200);
    assert!(script.contains("new EventSource(\"/board/events\")"));
    let (status, missing) = get(addr, "/bang-goi-so").await;
    assert_eq!(status, 404);
    assert!(missing.contains("Không có trang này"), "{missing}");

    let mut events = EventStream::open(addr, "/board/events").await;
    let mut seq = 0;
    // Connected, and the authority's heartbeat heard: no red band.
    let fresh = events.board(&mut seq, |v| v["stale"] == "").await;
    assert_eq!(fresh["office"], office.config.site.name);
    assert_eq!(fresh["calling"], serde_json::Value::Null);

    let (label, kiosk, mut counter) = office.issue_and_call().await;
    let shown = events
        .board(&mut seq, |v| v["calling"]["label"] == label.as_str())
        .await;
    assert_eq!(shown["calling"]["heading"], "XIN MỜI SỐ");
    assert_eq!(shown["calling"]["counter"], "Quầy 1");
    assert_eq!(shown["highlight"], true);
    assert!(shown["counters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "Quầy 1" && c["shows"] == label.as_str()));

    counter
        .send(Command::Recall { counter: Some(1) }, WAIT)
        .await
        .unwrap();
    events
        .board(&mut seq, |v| v["calling"]["heading"] == "MỜI LẠI")
        .await;

    // Stopped, the server ends every page's stream and returns.
    office.stop_server().await;
    timeout(WAIT, async { while events.next().await.is_some() {} })
        .await
        .expect("the stream ends");
    kiosk.close().await;
    counter.close().await;
    office.authority.stop().await;
}

/// The board page in Chromium: a call made at a counter shows on it without a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_a_call_shows_on_the_board_page_without_reload() {
    let Some(browser) = Browser::start(1920, 1080).await else {
        return;
    };
    let mut office = WebOffice::start().await;
    browser.goto(&format!("http://{}/board", office.addr)).await;
    let name = office.config.site.name.clone();
    browser.wait_for_text("#office", |t| t == name).await;
    // Connected and the authority heard: the band is hidden, so it shows no text.
    browser.wait_for_text("#stale", str::is_empty).await;
    assert_eq!(browser.text("#number").await.as_deref(), Some("—"));

    let (label, kiosk, counter) = office.issue_and_call().await;
    browser.wait_for_text("#number", |t| t == label).await;
    assert_eq!(browser.text("#to").await.as_deref(), Some("→ Quầy 1"));
    assert_eq!(
        browser.text("#heading").await.as_deref(),
        Some("XIN MỜI SỐ")
    );
    if std::env::var_os("QMS_WRITE_EXAMPLES").is_some() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/web");
        browser.screenshot(&docs.join("test-call.png")).await;
    }

    // The server goes away: the page says so by itself, with no reload.
    office.stop_server().await;
    browser
        .wait_for_text("#stale", |t| t.starts_with("MẤT KẾT NỐI"))
        .await;
    browser.close().await;
    kiosk.close().await;
    counter.close().await;
    office.authority.stop().await;
}

/// The board page in Chromium while the broker is killed and started again: the red band
/// comes, then goes by itself, with no reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_chromium_the_board_page_goes_stale_then_fresh_across_a_broker_restart() {
    let Some(browser) = Browser::start(1280, 720).await else {
        return;
    };
    let mut broker = BrokerProcess::start(BrokerKind::Embedded);
    let mut office = WebOffice::start_at(broker.addr).await;
    browser.goto(&format!("http://{}/board", office.addr)).await;
    browser.wait_for_text("#stale", str::is_empty).await;

    broker.kill();
    browser
        .wait_for_text("#stale", |t| t.starts_with("MẤT KẾT NỐI"))
        .await;
    broker.restart();
    browser.wait_for_text("#stale", str::is_empty).await;
    let name = office.config.site.name.clone();
    assert_eq!(browser.text("#office").await, Some(name));

    office.stop_server().await;
    browser.close().await;
    office.authority.stop().await;
}
