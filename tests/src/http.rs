//! HTTP as the pages' tests need it: plain requests and HTTPS ones trusting the office
//! CA, signing in at a counter page, presses, and Server-Sent Events read as a browser's
//! `EventSource` reads them.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::WAIT;

/// An HTTP answer.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The status line and headers, as sent.
    pub head: String,
    /// The body.
    pub body: String,
}

impl Answer {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One request on a connection of its own.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let stream = TcpStream::connect(addr).await.unwrap();
    exchange(stream, method, path, headers, body).await
}

/// One request over HTTPS, trusting only the office CA in `ca`.
pub async fn https_request(
    addr: SocketAddr,
    ca: &std::path::Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = connector
        .connect(name, tcp)
        .await
        .expect("the office CA is trusted");
    exchange(tls, method, path, headers, body).await
}

/// One request and its answer on `stream`.
async fn exchange(
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: office\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    // A TLS peer may hang up without close_notify once the answer is sent.
    let _ = timeout(WAIT, stream.read_to_end(&mut bytes))
        .await
        .expect("the server answers");
    // A WAV or other bytes are read as text with replacement characters.
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let status = response[9..12].parse().expect("a status code");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// A plain GET: the status code and the body.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let answer = request(addr, "GET", path, &[], "").await;
    (answer.status, answer.body)
}

/// A browser's sign-in at `page` ("/counter/3"): its cookie and its CSRF token.
pub async fn sign_in(addr: SocketAddr, page: &str, password: &str) -> (String, String) {
    let form = format!("password={password}");
    let answer = request(
        addr,
        "POST",
        &format!("{page}/sign-in"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location"), Some(page));
    let set = answer.header("set-cookie").expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let signed = request(addr, "GET", page, &[("Cookie", &cookie)], "").await;
    assert_eq!(signed.status, 200);
    let csrf = signed
        .body
        .split_once("data-csrf=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .expect("the page carries its CSRF token")
        .0
        .to_string();
    (cookie, csrf)
}

/// A press at a counter page: the answer's status and JSON.
pub async fn press(
    addr: SocketAddr,
    page: &str,
    cookie: &str,
    csrf: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let answer = request(
        addr,
        "POST",
        &format!("{page}/press"),
        &[
            ("Cookie", cookie),
            ("X-QMS-CSRF", csrf),
            ("Content-Type", "application/json"),
        ],
        &body.to_string(),
    )
    .await;
    let json = serde_json::from_str(&answer.body).unwrap_or(serde_json::Value::Null);
    (answer.status, json)
}

/// A Server-Sent Events stream read as a browser's `EventSource` reads it.
pub struct EventStream {
    reader: BufReader<TcpStream>,
    /// Decoded bytes not yet split into events.
    pending: String,
}

impl EventStream {
    pub async fn open(addr: SocketAddr, path: &str) -> EventStream {
        EventStream::open_with(addr, path, "").await
    }

    /// With the session cookie `cookie`.
    pub async fn open_with(addr: SocketAddr, path: &str, cookie: &str) -> EventStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: office\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
        );
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
    pub async fn next(&mut self) -> Option<(String, String)> {
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
    pub async fn board(
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

    /// The next screen of a counter page for which `wanted` holds.
    pub async fn screen(
        &mut self,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        self.state("screen", wanted).await
    }

    /// The next state named `name` for which `wanted` holds.
    pub async fn state(
        &mut self,
        name: &str,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        timeout(WAIT, async {
            loop {
                let (event, data) = self.next().await.expect("the stream goes on");
                assert_eq!(event, name);
                let state: serde_json::Value = serde_json::from_str(&data).unwrap();
                if wanted(&state) {
                    return state;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the {name} state wanted never came"))
    }
}
