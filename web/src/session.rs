//! Who a browser is: a session made by signing in at a counter's console or rating
//! screen, carried by an HttpOnly, SameSite=Strict cookie, with a token of its own that
//! every action must repeat (CSRF); failed sign-ins are limited per address.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue};
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

/// The session cookie's name.
pub const COOKIE: &str = "qms_session";
/// The header every action carries the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-qms-csrf";
/// A session lasts a working day.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins an address may make within [`FAILURE_WINDOW`].
pub const FAILURES_ALLOWED: usize = 5;
/// The window failed sign-ins are counted over.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(300);

/// A signed-in browser: the device it acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The counter.
    pub counter: u16,
    /// The device (`counter-3`, `rating-3`) whose rights it has.
    pub device: String,
    /// What every action must carry in [`CSRF_HEADER`].
    pub csrf: String,
    since: Instant,
}

/// Every session of the server, and the failed sign-ins.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_token: HashMap<String, Session>,
    failures: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Sessions {
    /// A new session acting as `device` of counter `counter`: the cookie's token and
    /// the session.
    pub fn open(&self, counter: u16, device: &str) -> (String, Session) {
        let token = random_token();
        let session = Session {
            counter,
            device: device.to_string(),
            csrf: random_token(),
            since: Instant::now(),
        };
        let mut inner = self.inner.lock().expect("sessions lock");
        inner.by_token.insert(token.clone(), session.clone());
        (token, session)
    }

    /// The session the request's cookie names, while it lasts.
    pub fn of(&self, headers: &HeaderMap) -> Option<Session> {
        let token = cookie(headers)?;
        let mut inner = self.inner.lock().expect("sessions lock");
        let session = inner.by_token.get(token)?;
        if session.since.elapsed() > LIFETIME {
            inner.by_token.remove(token);
            return None;
        }
        Some(session.clone())
    }

    /// Ends the request's session; whether any other session still acts as its device.
    pub fn close(&self, headers: &HeaderMap) -> Option<(Session, bool)> {
        let token = cookie(headers)?;
        let mut inner = self.inner.lock().expect("sessions lock");
        let session = inner.by_token.remove(token)?;
        let others = inner
            .by_token
            .values()
            .any(|s| s.device == session.device && s.since.elapsed() <= LIFETIME);
        Some((session, others))
    }

    /// How long `address` must wait before signing in again, if it failed too often.
    pub fn locked_out(&self, address: IpAddr) -> Option<Duration> {
        let mut inner = self.inner.lock().expect("sessions lock");
        let failures = inner.failures.get_mut(&address)?;
        while failures
            .front()
            .is_some_and(|at| at.elapsed() > FAILURE_WINDOW)
        {
            failures.pop_front();
        }
        if failures.len() < FAILURES_ALLOWED {
            return None;
        }
        let oldest = failures.front()?;
        Some(FAILURE_WINDOW.saturating_sub(oldest.elapsed()))
    }

    /// A failed sign-in from `address`.
    pub fn failed(&self, address: IpAddr) {
        let mut inner = self.inner.lock().expect("sessions lock");
        let failures = inner.failures.entry(address).or_default();
        failures.push_back(Instant::now());
        if failures.len() > FAILURES_ALLOWED {
            failures.pop_front();
        }
    }
}

/// 256 random bits, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session cookie's value in the request.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The `Set-Cookie` that gives a browser session `token`: not readable by scripts, never
/// sent with a request from another site, over HTTPS only when the page came by HTTPS.
pub fn set_cookie(token: &str, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        LIFETIME.as_secs()
    );
    HeaderValue::from_str(&value).expect("a token is URL-safe")
}

/// The `Set-Cookie` that makes a browser forget its session.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("qms_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether the request carries the session's CSRF token (compared in constant time).
pub fn carries_csrf(headers: &HeaderMap, session: &Session) -> bool {
    headers
        .get(CSRF_HEADER)
        .is_some_and(|v| same_secret(v.as_bytes(), session.csrf.as_bytes()))
}

/// Whether two secrets are equal, compared by their SHA-256 digests: how long the
/// comparison takes tells nothing about the secret.
pub fn same_secret(given: &[u8], known: &[u8]) -> bool {
    let digest = |bytes| ring::digest::digest(&ring::digest::SHA256, bytes);
    digest(given).as_ref() == digest(known).as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_session_is_found_by_its_cookie_only() {
        let sessions = Sessions::default();
        let (token, session) = sessions.open(3, "counter-3");
        let found = sessions.of(&with_cookie(&format!("theme=dark; {COOKIE}={token}")));
        assert_eq!(found, Some(session.clone()));
        assert_eq!(
            sessions.of(&with_cookie(&format!("{COOKIE}=x{token}"))),
            None
        );
        assert_eq!(sessions.of(&HeaderMap::new()), None);
        assert_ne!(token, session.csrf, "the CSRF token is not the cookie");
        assert_eq!(token.len(), 43, "256 bits");
    }

    #[test]
    fn an_action_without_the_sessions_csrf_token_is_refused() {
        let sessions = Sessions::default();
        let (_, session) = sessions.open(3, "counter-3");
        let mut headers = HeaderMap::new();
        assert!(!carries_csrf(&headers, &session));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("guess"));
        assert!(!carries_csrf(&headers, &session));
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&session.csrf).unwrap());
        assert!(carries_csrf(&headers, &session));
    }

    #[test]
    fn an_address_that_fails_five_times_waits() {
        let sessions = Sessions::default();
        let address: IpAddr = "192.168.1.20".parse().unwrap();
        for _ in 0..FAILURES_ALLOWED - 1 {
            sessions.failed(address);
        }
        assert_eq!(sessions.locked_out(address), None);
        sessions.failed(address);
        let wait = sessions.locked_out(address).expect("locked out");
        assert!(wait > FAILURE_WINDOW - Duration::from_secs(5), "{wait:?}");
        let other: IpAddr = "192.168.1.21".parse().unwrap();
        assert_eq!(sessions.locked_out(other), None, "only that address");
    }

    #[test]
    fn signing_out_says_whether_the_device_still_has_a_session() {
        let sessions = Sessions::default();
        let (first, _) = sessions.open(3, "counter-3");
        let (second, _) = sessions.open(3, "counter-3");
        let (_, others) = sessions
            .close(&with_cookie(&format!("{COOKIE}={first}")))
            .unwrap();
        assert!(others);
        let (_, others) = sessions
            .close(&with_cookie(&format!("{COOKIE}={second}")))
            .unwrap();
        assert!(!others);
        assert_eq!(
            sessions.of(&with_cookie(&format!("{COOKIE}={second}"))),
            None
        );
    }
}
