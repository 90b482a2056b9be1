//! The counter's pages behind sign-in: the console (`/counter/3`) and the rating screen
//! (`/rating/3`). Signing in binds the browser to that counter's device; every action
//! goes out as that device, so a page signed in at counter 3 can do what counter 3's
//! device may, and nothing for counter 4.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use qms_core::SiteConfig;
use serde::Deserialize;
use tracing::{info, warn};

use crate::desk::{Desks, Kind, SignInError};
use crate::https::Https;
use crate::pages::{self, escape};
use crate::server::event_stream;
use crate::session::{self, Sessions};

/// Why a broker without passwords takes sign-ins from the server's machine only.
const NO_PASSWORDS: &str =
    "Máy chủ MQTT không đòi mật khẩu thiết bị (qms broker setup chưa chạy): chỉ đăng nhập \
     được trên chính máy chủ này.";

/// What the counter's pages share.
#[derive(Clone)]
pub struct Counters {
    /// The site.
    pub config: Arc<SiteConfig>,
    /// The desks signed in now.
    pub desks: Arc<Desks>,
    /// The browsers signed in.
    pub sessions: Arc<Sessions>,
    /// Devices whose retained status says online.
    pub online: Arc<Mutex<HashSet<String>>>,
    /// Where HTTPS is served, if it is.
    pub https_port: Option<u16>,
}

/// Signing in sends a password and the session's cookie: only over HTTPS, or from the
/// server's own machine where nothing crosses the network.
pub fn secure_enough(peer: SocketAddr, https: bool) -> bool {
    https || peer.ip().is_loopback()
}

/// With a broker that asks for no password there is nothing to check a sign-in against:
/// only the server's own machine may sign in.
pub fn checkable(peer: SocketAddr, passwords: bool) -> bool {
    passwords || peer.ip().is_loopback()
}

/// The routes of both kinds of counter page.
pub fn routes(counters: Counters) -> Router {
    let mut router = Router::new();
    for kind in [Kind::Console, Kind::Rating] {
        let base = format!("/{}/:counter", kind.path());
        router = router
            .route(&base, get(move |s, p, c, x, h| page(kind, s, p, c, x, h)))
            .route(
                &format!("{base}/sign-in"),
                post(move |s, p, c, x, h, f| sign_in(kind, s, p, c, x, h, f)),
            )
            .route(
                &format!("{base}/sign-out"),
                post(move |s, p, h| sign_out(kind, s, p, h)),
            )
            .route(
                &format!("{base}/events"),
                get(move |s, p, h| events(kind, s, p, h)),
            )
            .route(
                &format!("{base}/press"),
                post(move |s, p, h, b| press(kind, s, p, h, b)),
            );
    }
    router.with_state(counters)
}

/// The page of counter `counter`: its screen when this browser is signed in there, the
/// sign-in form otherwise.
async fn page(
    kind: Kind,
    State(app): State<Counters>,
    Path(counter): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    https: Option<Extension<Https>>,
    headers: HeaderMap,
) -> Response {
    let secure = secure_enough(peer, https.is_some());
    let Some(counter) = app.counter(&counter) else {
        return pages::not_found();
    };
    match app.session_for(kind, counter, &headers) {
        Ok(session) => {
            let template = match kind {
                Kind::Console => pages::COUNTER_HTML,
                Kind::Rating => pages::RATING_HTML,
            };
            let html = template
                .replace("{{counter}}", &counter.to_string())
                .replace(
                    "{{counter_name}}",
                    &escape(&app.config.counter_name(counter)),
                )
                .replace("{{csrf}}", &session.csrf);
            no_store(Html(html).into_response())
        }
        Err(_) => app.sign_in_page(kind, counter, secure, &headers, None, StatusCode::OK),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInForm {
    #[serde(default)]
    password: String,
}

async fn sign_in(
    kind: Kind,
    State(app): State<Counters>,
    Path(counter): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    https: Option<Extension<Https>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let Some(counter) = app.counter(&counter) else {
        return pages::not_found();
    };
    let https = https.is_some();
    let secure = secure_enough(peer, https);
    let refuse = |message: String, status| {
        app.sign_in_page(kind, counter, secure, &headers, Some(message), status)
    };
    if !secure {
        return refuse(
            app.https_words(&headers, kind, counter),
            StatusCode::FORBIDDEN,
        );
    }
    if !checkable(peer, app.desks.passwords_needed()) {
        return refuse(NO_PASSWORDS.into(), StatusCode::FORBIDDEN);
    }
    if let Some(wait) = app.sessions.locked_out(peer.ip()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return refuse(
            format!("Sai mật khẩu quá nhiều lần. Hãy thử lại sau {minutes} phút."),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let device = app
        .config
        .counter_device(counter, kind.role())
        .map(|d| d.id.clone());
    let in_use = device
        .as_ref()
        .is_some_and(|d| app.online.lock().expect("online lock").contains(d));
    match app
        .desks
        .sign_in(kind, counter, &form.password, in_use)
        .await
    {
        Ok(device) => {
            let (token, _) = app.sessions.open(counter, &device);
            info!(%device, %peer, "a browser signed in");
            let mut response = Redirect::to(&format!("/{}/{counter}", kind.path())).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session::set_cookie(&token, https));
            response
        }
        Err(SignInError::WrongPassword) => {
            app.sessions.failed(peer.ip());
            warn!(%peer, counter, "wrong password at sign-in");
            refuse("Sai mật khẩu.".into(), StatusCode::UNAUTHORIZED)
        }
        Err(SignInError::NoSuchDevice) => pages::not_found(),
        Err(SignInError::InUse) => refuse(
            format!(
                "{} đang mở trên một máy khác. Hãy đóng màn hình đó trước.",
                app.config.counter_name(counter)
            ),
            StatusCode::CONFLICT,
        ),
        Err(SignInError::Unreachable(reason)) => {
            warn!(cause = %reason, "sign-in: the broker did not answer");
            refuse(
                "Không kết nối được máy chủ hàng đợi. Hãy thử lại sau ít phút.".into(),
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

async fn sign_out(
    kind: Kind,
    State(app): State<Counters>,
    Path(counter): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some((session, others)) = app.sessions.close(&headers) {
        if !others {
            app.desks.close(&session.device).await;
        }
        info!(device = %session.device, "a browser signed out");
    }
    let mut response = Redirect::to(&format!("/{}/{counter}", kind.path())).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    response
}

/// The desk's screen now, then every change.
async fn events(
    kind: Kind,
    State(app): State<Counters>,
    Path(counter): Path<String>,
    headers: HeaderMap,
) -> Response {
    let session = match app.session_at(kind, &counter, &headers) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(screens) = app.desks.screens(&session.device).await else {
        return Refusal::SignedOut.into_response();
    };
    no_store(event_stream(screens, "screen", Some))
}

/// A press on the page: `{"sent": true}` when a command went out, `{"sent": false}` when
/// it was dropped as a repeat.
async fn press(
    kind: Kind,
    State(app): State<Counters>,
    Path(counter): Path<String>,
    headers: HeaderMap,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let session = match app.session_at(kind, &counter, &headers) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    if !session::carries_csrf(&headers, &session) {
        return Refusal::NoCsrf.into_response();
    }
    let Ok(Json(body)) = body else {
        return Refusal::BadPress("nội dung không phải JSON".into()).into_response();
    };
    match app.desks.press(&session.device, body).await {
        Ok(sent) => Json(serde_json::json!({ "sent": sent })).into_response(),
        Err(reason) => Refusal::BadPress(reason).into_response(),
    }
}

/// Why a request of a counter page is refused.
#[derive(Debug)]
enum Refusal {
    NotFound,
    /// No session, or it ended.
    SignedOut,
    /// The session is another counter's (or another kind of screen's).
    OtherCounter(String),
    /// The action lacks the session's CSRF token.
    NoCsrf,
    /// The press makes no sense.
    BadPress(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            Refusal::NotFound => (StatusCode::NOT_FOUND, "Không có quầy này.".to_string()),
            Refusal::SignedOut => (
                StatusCode::UNAUTHORIZED,
                "Chưa đăng nhập hoặc phiên đã hết hạn. Hãy tải lại trang.".into(),
            ),
            Refusal::OtherCounter(name) => (
                StatusCode::FORBIDDEN,
                format!("Phiên này đăng nhập cho {name}, không làm được việc của quầy khác."),
            ),
            Refusal::NoCsrf => (
                StatusCode::FORBIDDEN,
                "Yêu cầu thiếu mã phiên; hãy tải lại trang.".into(),
            ),
            Refusal::BadPress(reason) => (
                StatusCode::BAD_REQUEST,
                format!("Yêu cầu không hợp lệ: {reason}"),
            ),
        };
        (status, Json(serde_json::json!({ "error": error }))).into_response()
    }
}

impl Counters {
    /// Where to sign in instead of plain HTTP from another machine.
    fn https_words(&self, headers: &HeaderMap, kind: Kind, counter: u16) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host))
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-[]".contains(c))
            });
        match (self.https_port, host) {
            (Some(port), Some(host)) => format!(
                "Đăng nhập cần kết nối an toàn: hãy mở https://{host}:{port}/{}/{counter}",
                kind.path()
            ),
            _ => "Đăng nhập chỉ được qua HTTPS (đặt [web] tls_listen) hoặc trên chính máy chủ."
                .into(),
        }
    }

    fn counter(&self, path: &str) -> Option<u16> {
        path.parse()
            .ok()
            .filter(|n| self.config.counter(*n).is_some())
    }

    /// The request's session if it is for `kind` at the counter of address part `path`.
    fn session_at(
        &self,
        kind: Kind,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<session::Session, Refusal> {
        let counter = self.counter(path).ok_or(Refusal::NotFound)?;
        self.session_for(kind, counter, headers)
    }

    /// The request's session if it is for `kind` at `counter`.
    fn session_for(
        &self,
        kind: Kind,
        counter: u16,
        headers: &HeaderMap,
    ) -> Result<session::Session, Refusal> {
        let session = self.sessions.of(headers).ok_or(Refusal::SignedOut)?;
        let role = self.config.device(&session.device).map(|d| d.role);
        if session.counter != counter || role != Some(kind.role()) {
            return Err(Refusal::OtherCounter(
                self.config.counter_name(session.counter),
            ));
        }
        Ok(session)
    }

    fn sign_in_page(
        &self,
        kind: Kind,
        counter: u16,
        secure: bool,
        headers: &HeaderMap,
        message: Option<String>,
        status: StatusCode,
    ) -> Response {
        let title = match kind {
            Kind::Console => "Màn hình cán bộ",
            Kind::Rating => "Màn hình đánh giá",
        };
        let password = if self.desks.passwords_needed() {
            "<label>Mật khẩu của thiết bị<input type=\"password\" name=\"password\" \
             autocomplete=\"current-password\" autofocus required></label>"
                .to_string()
        } else {
            format!("<p class=\"hint\">{NO_PASSWORDS}</p>")
        };
        let message =
            message.or_else(|| (!secure).then(|| self.https_words(headers, kind, counter)));
        let html = pages::SIGN_IN_HTML
            .replace("{{title}}", title)
            .replace(
                "{{counter_name}}",
                &escape(&self.config.counter_name(counter)),
            )
            .replace("{{office}}", &escape(&self.config.site.name))
            .replace("{{action}}", &format!("/{}/{counter}/sign-in", kind.path()))
            .replace("{{password}}", &password)
            .replace(
                "{{message}}",
                &message.map_or(String::new(), |m| {
                    format!("<p class=\"error\" role=\"alert\">{}</p>", escape(&m))
                }),
            );
        no_store((status, Html(html)).into_response())
    }
}

/// Pages with a session's token in them stay out of caches.
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_in_from_another_machine_needs_https() {
        let lan: SocketAddr = "192.168.1.31:52000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:52000".parse().unwrap();
        assert!(!secure_enough(lan, false));
        assert!(secure_enough(lan, true));
        assert!(secure_enough(local, false));
        assert!(secure_enough("[::1]:52000".parse().unwrap(), false));
    }

    #[test]
    fn without_broker_passwords_only_the_servers_machine_signs_in() {
        let lan: SocketAddr = "192.168.1.31:52000".parse().unwrap();
        assert!(!checkable(lan, false), "even over HTTPS: nothing to check");
        assert!(checkable(lan, true));
        assert!(checkable("127.0.0.1:52000".parse().unwrap(), false));
    }
}
