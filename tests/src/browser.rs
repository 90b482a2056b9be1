//! A real browser for the page tests: Debian's `chromedriver` driving headless `chromium`
//! over WebDriver (plain JSON over HTTP), started fresh for each test with a profile of
//! its own.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::WAIT;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A browser window under WebDriver.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A headless window of `width` x `height`; None, saying why, when Chromium or its
    /// driver is not installed (`QMS_REQUIRE_CHROMIUM=1`, as in CI, makes that a failure).
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        Browser::start_with(width, height, &[]).await
    }

    /// As [`Browser::start`], with more Chromium flags.
    pub async fn start_with(width: u32, height: u32, flags: &[&str]) -> Option<Browser> {
        if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
            let why = "skipped: the browser tests need Debian's chromium and chromium-driver";
            assert!(std::env::var_os("QMS_REQUIRE_CHROMIUM").is_none(), "{why}");
            eprintln!("{why}");
            return None;
        }
        let addr = qms_bus::free_loopback_addr();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={}", addr.port()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        for _ in 0..500 {
            if TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let profile_flag = format!("--user-data-dir={}", profile.path().display());
        let size_flag = format!("--window-size={width},{height}");
        let mut args = vec![
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &profile_flag,
            &size_flag,
        ];
        args.extend_from_slice(flags);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            _profile: profile,
        };
        let created = browser.call("POST", "/session", Some(capabilities)).await;
        browser.session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_string();
        browser.fit_viewport(width, height).await;
        Some(browser)
    }

    /// Makes the page's viewport (not the window, which headless Chromium draws a frame
    /// around) `width` x `height`, so screenshots are of the screen's size.
    async fn fit_viewport(&self, width: u32, height: u32) {
        let inner = self
            .session_call(
                "POST",
                "/execute/sync",
                Some(json!({"script": "return [window.innerWidth, window.innerHeight];", "args": []})),
            )
            .await;
        let outer = self.session_call("GET", "/window/rect", None).await;
        // The window is the viewport plus its frame.
        let grow = |wanted: u32, outer: &Value, inner: &Value| {
            wanted as i64 + outer.as_i64().unwrap_or(0) - inner.as_i64().unwrap_or(0)
        };
        let rect = json!({
            "width": grow(width, &outer["width"], &inner[0]),
            "height": grow(height, &outer["height"], &inner[1]),
        });
        self.session_call("POST", "/window/rect", Some(rect)).await;
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The WebDriver id of the first element matching `css`.
    async fn element(&self, css: &str) -> Option<String> {
        let found = self
            .session_call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        // A missing element answers an error object, not an element reference.
        let reference = found.get("element-6066-11e4-a52e-4f735466cecf")?;
        Some(reference.as_str()?.to_string())
    }

    /// Makes the network slow, as Chrome's DevTools do: `latency` added to each request
    /// and the bytes a second each way.
    pub async fn throttle(&self, latency: Duration, down: u32, up: u32) {
        let conditions = json!({"network_conditions": {
            "offline": false,
            "latency": latency.as_millis() as u64,
            "download_throughput": down,
            "upload_throughput": up,
        }});
        let done = self
            .session_call("POST", "/chromium/network_conditions", Some(conditions))
            .await;
        assert!(done.is_null(), "the network is not slowed: {done}");
    }

    /// What `script` (a function body) returns in the page.
    pub async fn script(&self, script: &str) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Clicks the element matching `css`, as a person does.
    pub async fn click(&self, css: &str) {
        let element = self
            .element(css)
            .await
            .unwrap_or_else(|| panic!("no {css}"));
        let done = self
            .session_call(
                "POST",
                &format!("/element/{element}/click"),
                Some(json!({})),
            )
            .await;
        assert!(done.is_null(), "{css} was not clicked: {done}");
    }

    /// Clicks the element matching `css` once it is enabled: a page that disables its
    /// buttons while it waits for the server would drop a click made before.
    pub async fn click_enabled(&self, css: &str) {
        let enabled = format!("{css}:enabled");
        for _ in 0..(WAIT.as_millis() / 20) {
            if self.element(&enabled).await.is_some() {
                return self.click(&enabled).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{css} was never enabled");
    }

    /// Two clicks on the middle of the element matching `css` as fast as a mouse makes
    /// them: one pointer, down-up-down-up, with no pause.
    pub async fn double_click(&self, css: &str) {
        let element = self
            .element(css)
            .await
            .unwrap_or_else(|| panic!("no {css}"));
        let rect = self
            .session_call("GET", &format!("/element/{element}/rect"), None)
            .await;
        let middle = |at: &str, size: &str| {
            (rect[at].as_f64().unwrap() + rect[size].as_f64().unwrap() / 2.0).round() as i64
        };
        let actions = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "origin": "viewport", "duration": 0,
                 "x": middle("x", "width"), "y": middle("y", "height")},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0},
                {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0},
            ],
        }]});
        let done = self.session_call("POST", "/actions", Some(actions)).await;
        assert!(done.is_null(), "the double click was not made: {done}");
    }

    /// The text shown by the first element matching `css`, if there is one ("" when it
    /// is hidden).
    pub async fn text(&self, css: &str) -> Option<String> {
        let element = self.element(css).await?;
        let text = self
            .session_call("GET", &format!("/element/{element}/text"), None)
            .await;
        text.as_str().map(str::to_string)
    }

    /// Waits until the element matching `css` shows text for which `wanted` holds.
    pub async fn wait_for_text(&self, css: &str, wanted: impl Fn(&str) -> bool) -> String {
        let mut last = None;
        for _ in 0..(WAIT.as_millis() / 20) {
            last = self.text(css).await;
            if last.as_deref().is_some_and(&wanted) {
                return last.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{css} never showed the text wanted; it showed {last:?}");
    }

    /// The page printed to PDF on A4 (WebDriver's print), as the bytes of the PDF.
    pub async fn print_a4(&self) -> Vec<u8> {
        let page = json!({"page": {"width": 21.0, "height": 29.7}, "background": true});
        let pdf = self.session_call("POST", "/print", Some(page)).await;
        let pdf = pdf
            .as_str()
            .unwrap_or_else(|| panic!("the page was not printed: {pdf}"));
        base64::engine::general_purpose::STANDARD
            .decode(pdf)
            .expect("a PDF in base64")
    }

    /// Saves what the window shows as PNG.
    pub async fn screenshot(&self, path: &Path) {
        let shot = self.session_call("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot.as_str().expect("a screenshot"))
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Ends the session, which closes Chromium.
    pub async fn close(self) {
        let path = format!("/session/{}", self.session);
        self.call("DELETE", &path, None).await;
    }

    async fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body).await["value"].clone()
    }

    /// One WebDriver request; its JSON answer.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map_or(String::new(), |b| b.to_string());
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        // A question that changes nothing is asked again when chromedriver, busy with a
        // page that is loading on a loaded machine, hangs up without an answer.
        let reads =
            method == "GET" || path.ends_with("/element") || path.ends_with("/execute/sync");
        for attempt in 1.. {
            let mut stream = TcpStream::connect(self.addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let answer = tokio::time::timeout(WAIT * 3, read_answer(&mut stream))
                .await
                .expect("chromedriver answers");
            match answer {
                Some(answer) => return serde_json::from_slice(&answer).unwrap_or(Value::Null),
                None if reads && attempt < 3 => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                None => panic!("chromedriver closed before answering {method} {path}"),
            }
        }
        unreachable!("the loop returns or panics")
    }
}

/// An HTTP answer's body, by its Content-Length (chromedriver keeps the connection);
/// None when the connection closed before the answer began.
async fn read_answer(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            let body_start = end + 4;
            while bytes.len() < body_start + length {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "chromedriver closed mid-answer");
                bytes.extend_from_slice(&buf[..n]);
            }
            return Some(bytes[body_start..body_start + length].to_vec());
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) if bytes.is_empty() => return None,
            Ok(n) if n > 0 => bytes.extend_from_slice(&buf[..n]),
            _ => panic!("chromedriver closed mid-answer"),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; chromedriver then goes with the test.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
