//! The head of the office's page, `/report`: the report of any period with its charts
//! (the same page `qms report --format html` writes), and its CSV for Excel, behind a
//! sign-in with a head officer's PIN (`head = true` in `[[officer]]`), over HTTPS or on
//! the server's own machine.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use qms_core::protocol::{Command, MAX_REPORT_DAYS};
use qms_core::report::Report;
use qms_core::SiteConfig;
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use tracing::{info, warn};

use crate::api::Authority;
use crate::counters::{no_store, secure_enough};
use crate::https::Https;
use crate::pages::{self, escape};
use crate::session::{self, Sessions};

/// What a head's session acts as, beside the officer's id.
const HEAD: &str = "head:";

#[derive(Clone)]
struct Head {
    config: Arc<SiteConfig>,
    sessions: Arc<Sessions>,
    authority: Authority,
    alerts: Alerts,
}

/// The queue's staff alerts as last published, in words.
#[derive(Clone, Default)]
pub struct Alerts(Arc<std::sync::Mutex<Vec<String>>>);

impl Alerts {
    /// The retained `…/alerts` payload; an unreadable one is ignored.
    pub fn published(&self, payload: &[u8]) {
        if let Ok(published) = serde_json::from_slice::<qms_core::alerts::QueueAlerts>(payload) {
            *self.0.lock().expect("alerts lock") =
                published.alerts.into_iter().map(|a| a.text).collect();
        }
    }

    fn now(&self) -> Vec<String> {
        self.0.lock().expect("alerts lock").clone()
    }
}

/// The head's routes, sharing the counters' sessions.
pub fn routes(
    config: Arc<SiteConfig>,
    sessions: Arc<Sessions>,
    authority: Authority,
    alerts: Alerts,
) -> Router {
    Router::new()
        .route("/report", get(page))
        .route("/report.csv", get(csv))
        .route("/report/sign-in", post(sign_in))
        .route("/report/sign-out", post(sign_out))
        .with_state(Head {
            config,
            sessions,
            authority,
            alerts,
        })
}

/// A period asked for in a page's address: `?from=2026-11-01&to=2026-11-30`.
#[derive(Deserialize)]
pub(crate) struct Period {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

impl Period {
    /// The days asked for: this month up to `today` when nothing is said; at most
    /// [`MAX_REPORT_DAYS`], never backwards. The error is in words, made safe for HTML.
    pub(crate) fn days(&self, today: Date) -> Result<(Date, Date), String> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let day = |text: &Option<String>, default: Date| match text.as_deref() {
            None | Some("") => Ok(default),
            Some(text) => Date::parse(text, &format)
                .map_err(|_| format!("\"{}\" không phải là ngày dạng 2026-11-26", escape(text))),
        };
        let from = day(&self.from, today.replace_day(1).unwrap_or(today))?;
        let to = day(&self.to, today)?;
        if from > to || (to - from).whole_days() >= MAX_REPORT_DAYS {
            return Err(format!(
                "Khoảng thời gian không hợp lệ: từ ngày phải trước đến ngày, tối đa {MAX_REPORT_DAYS} ngày"
            ));
        }
        Ok((from, to))
    }
}

#[derive(Deserialize)]
struct SignInForm {
    officer: String,
    pin: String,
}

impl Head {
    /// The head officer signed in, if the request's session is one.
    fn signed_in(&self, headers: &HeaderMap) -> Option<String> {
        let session = self.sessions.of(headers)?;
        session.device.strip_prefix(HEAD).map(str::to_string)
    }

    /// The period asked for, in the office's business days.
    fn period(&self, period: &Period) -> Result<(Date, Date), String> {
        period.days(self.config.site.business_day(OffsetDateTime::now_utc()))
    }

    async fn report(&self, from: Date, to: Date) -> Result<Report, String> {
        let reply = self
            .authority
            .ask(Command::Report { from, to })
            .await
            .ok_or("Máy chủ hàng đợi không trả lời. Hãy thử lại sau ít phút.")?;
        match (reply.report, reply.error) {
            (Some(report), _) => Ok(*report),
            (None, Some(error)) => Err(error.message),
            (None, None) => Err("Máy chủ hàng đợi không gửi báo cáo.".into()),
        }
    }

    fn sign_in_page(&self, message: Option<String>, status: StatusCode) -> Response {
        let heads: String = self
            .config
            .officers
            .iter()
            .filter(|o| o.head)
            .map(|o| {
                format!(
                    "<option value=\"{}\">{}</option>",
                    escape(&o.id),
                    escape(&o.name)
                )
            })
            .collect();
        let fields = if heads.is_empty() {
            "<p class=\"hint\">Chưa có lãnh đạo nào được khai báo: thêm head = true cho một \
             [[officer]] trong qms.toml.</p>"
                .to_string()
        } else {
            format!(
                "<label>Lãnh đạo<select name=\"officer\">{heads}</select></label>\
                 <label>Mã PIN<input type=\"password\" name=\"pin\" inputmode=\"numeric\" \
                 autocomplete=\"current-password\" autofocus required></label>"
            )
        };
        let html = pages::SIGN_IN_HTML
            .replace("{{title}}", "Báo cáo")
            .replace("{{counter_name}}", "Lãnh đạo đơn vị")
            .replace("{{office}}", &escape(&self.config.site.name))
            .replace("{{action}}", "/report/sign-in")
            .replace("{{password}}", &fields)
            .replace(
                "{{message}}",
                &message.map_or(String::new(), |m| {
                    format!("<p class=\"error\" role=\"alert\">{}</p>", escape(&m))
                }),
            );
        no_store((status, Html(html)).into_response())
    }
}

/// The tools above the report: the period, the CSV, signing out, and the alerts
/// standing now; not printed.
fn toolbar(from: Date, to: Date, officer: &str, error: Option<&str>, alerts: &[String]) -> String {
    let mut error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
    });
    for alert in alerts {
        error += &format!("<p class=\"error\">⚠ {}</p>", escape(alert));
    }
    format!(
        "<nav class=\"toolbar\"><form method=\"get\" action=\"/report\">\
         <label>Từ ngày <input type=\"date\" name=\"from\" value=\"{from}\"></label> \
         <label>đến ngày <input type=\"date\" name=\"to\" value=\"{to}\"></label> \
         <button type=\"submit\">Xem báo cáo</button> \
         <a href=\"/report.csv?from={from}&amp;to={to}\">Tải CSV (Excel)</a></form>\
         <form method=\"post\" action=\"/report/sign-out\"><span>{}</span> \
         <button type=\"submit\">Đăng xuất</button></form>{error}</nav>",
        escape(officer)
    )
}

async fn page(
    State(head): State<Head>,
    headers: HeaderMap,
    Query(period): Query<Period>,
) -> Response {
    let Some(officer) = head.signed_in(&headers) else {
        return head.sign_in_page(None, StatusCode::OK);
    };
    let name = head
        .config
        .officer(&officer)
        .map_or(officer.clone(), |o| o.name.clone());
    let (from, to, asked) = match head.period(&period) {
        Ok((from, to)) => (from, to, Ok(())),
        Err(problem) => {
            let today = head.config.site.business_day(OffsetDateTime::now_utc());
            (today, today, Err(problem))
        }
    };
    let report = match asked {
        Ok(()) => head.report(from, to).await,
        Err(problem) => Err(problem),
    };
    let (body, error) = match report {
        Ok(report) => (qms_report::html(&report), None),
        Err(problem) => (
            "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Báo cáo\
             </title><link rel=\"stylesheet\" href=\"/static/page.css\"></head><body></body></html>"
                .to_string(),
            Some(problem),
        ),
    };
    let tools = toolbar(from, to, &name, error.as_deref(), &head.alerts.now());
    let html = body.replacen("<body>", &format!("<body>{tools}"), 1);
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    no_store((status, Html(html)).into_response())
}

async fn csv(
    State(head): State<Head>,
    headers: HeaderMap,
    Query(period): Query<Period>,
) -> Response {
    if head.signed_in(&headers).is_none() {
        return Redirect::to("/report").into_response();
    }
    let report = match head.period(&period) {
        Ok((from, to)) => head.report(from, to).await,
        Err(problem) => Err(problem),
    };
    match report {
        Ok(report) => {
            let name = format!("bao-cao-{}-{}.csv", report.from, report.to);
            no_store(
                (
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"{name}\""),
                        ),
                    ],
                    report.to_csv(),
                )
                    .into_response(),
            )
        }
        Err(problem) => (StatusCode::BAD_REQUEST, problem).into_response(),
    }
}

async fn sign_in(
    State(head): State<Head>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    https: Option<Extension<Https>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let https = https.is_some();
    if !secure_enough(peer, https) {
        return head.sign_in_page(
            Some("Chỉ đăng nhập được qua HTTPS (https://…) hoặc trên chính máy chủ.".into()),
            StatusCode::FORBIDDEN,
        );
    }
    if let Some(wait) = head.sessions.locked_out(peer.ip()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return head.sign_in_page(
            Some(format!(
                "Sai mã PIN quá nhiều lần. Hãy thử lại sau {minutes} phút."
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let officer = head
        .config
        .officer(&form.officer)
        .filter(|o| o.head && o.pin_hash.matches(&form.pin));
    let Some(officer) = officer else {
        head.sessions.failed(peer.ip());
        warn!(%peer, "wrong PIN at the report page's sign-in");
        return head.sign_in_page(
            Some("Lãnh đạo hoặc mã PIN không đúng.".into()),
            StatusCode::UNAUTHORIZED,
        );
    };
    let (token, _) = head.sessions.open(0, &format!("{HEAD}{}", officer.id));
    info!(officer = %officer.id, %peer, "the head signed in to the report page");
    let mut response = Redirect::to("/report").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(&token, https));
    response
}

async fn sign_out(State(head): State<Head>, headers: HeaderMap) -> Response {
    head.sessions.close(&headers);
    let mut response = Redirect::to("/report").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_this_month_unless_asked_and_never_backwards() {
        let today = time::macros::date!(2026 - 12 - 15);
        let none = Period {
            from: None,
            to: None,
        };
        assert_eq!(
            none.days(today),
            Ok((time::macros::date!(2026 - 12 - 01), today))
        );
        let back = Period {
            from: Some("2026-12-10".into()),
            to: Some("2026-12-01".into()),
        };
        assert!(back.days(today).is_err());
        let bad = Period {
            from: Some("hôm qua".into()),
            to: None,
        };
        assert!(bad.days(today).unwrap_err().contains("hôm qua"));
    }
}
