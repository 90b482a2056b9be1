//! The city's pages (`qms city web`), read from PostgreSQL, where `qms city store` keeps
//! every office's events, and from the cluster's `QMS_LIVE` stream, where each office's
//! newest board, link and authority status are:
//!
//! - `/`: the dashboard of every office: waiting now, the longest wait, counters open,
//!   issued and served today, satisfaction, and offices whose link or authority is down;
//!   `/api/city/offices` is the same as JSON.
//! - `/cong-khai`: the public transparency page: each ward's waiting and average wait
//!   today, nothing personal.
//! - `/bao-cao?from=&to=`: the period across offices; `/bao-cao/{site}`: one office's
//!   report, as its head sees it.
//! - `/{site}/t/{token}`: the citizen's page of a ticket of any office, for a phone on 4G
//!   (the office's `[web] public_url` set to the city's address and the site). The token
//!   is never sent to the city: the ticket is found by its hash, and the page only reads
//!   (a rating is given at the office).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use qms_city::live::{OfficeLive, Offices};
use qms_city::store::{self, OfficeFigures};
use qms_city::{CityError, CityOptions};
use qms_core::citizen::{page_key, TicketPage};
use qms_core::config::{Counter, Procedure};
use qms_core::protocol::{Board, CounterStatus};
use qms_core::{QueueState, SiteConfig};
use time::{Date, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::sync::{watch, Mutex as AsyncMutex};
use tracing::{info, warn};

use crate::citizen::{ticket_page, unknown_ticket, well_formed};
use crate::head::Period;
use crate::pages::escape;
use crate::server::{assets, event_stream};

/// How often a citizen's page at the city is brought up to date.
const TICKET_REFRESH: Duration = Duration::from_secs(3);

/// What the pages share.
struct City {
    options: CityOptions,
    db: AsyncMutex<Arc<tokio_postgres::Client>>,
    live: watch::Receiver<Offices>,
    /// Each office's day replayed, by the seq of the board it was made at: the citizens'
    /// pages of an office share one replay per change.
    days: Mutex<HashMap<String, (u64, Arc<QueueState>)>>,
    /// The offices' figures of today, and when they were read: every page in the next
    /// [`FIGURES_KEPT`] shares one query (the transparency page is public).
    figures: AsyncMutex<Option<(Instant, Arc<Vec<OfficeFigures>>)>>,
}

/// How long today's figures are shared.
const FIGURES_KEPT: Duration = Duration::from_secs(5);

impl City {
    /// The database connection, made again when it broke.
    async fn db(&self) -> Arc<tokio_postgres::Client> {
        let mut db = self.db.lock().await;
        if db.is_closed() {
            *db = Arc::new(qms_city::connect_postgres(&self.options.postgres).await);
        }
        db.clone()
    }

    /// Today's figures of every office, read at most every [`FIGURES_KEPT`].
    async fn figures_today(&self) -> Result<Arc<Vec<OfficeFigures>>, CityError> {
        let mut kept = self.figures.lock().await;
        if let Some((read, figures)) = kept.as_ref() {
            if read.elapsed() < FIGURES_KEPT {
                return Ok(figures.clone());
            }
        }
        let today = self.today();
        let figures = Arc::new(store::office_figures(&*self.db().await, today, today).await?);
        *kept = Some((Instant::now(), figures.clone()));
        Ok(figures)
    }

    fn today(&self) -> Date {
        OffsetDateTime::now_utc()
            .to_offset(self.options.utc_offset)
            .date()
    }
}

/// Serves the city's pages on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    options: CityOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), CityError> {
    let db = qms_city::connect_postgres(&options.postgres).await;
    let nats = qms_city::connect_nats(&options).await?;
    let js = async_nats::jetstream::new(nats);
    let (live_tx, live) = watch::channel(Offices::default());
    let replicas = options.replicas;
    tokio::spawn(async move {
        qms_city::until_ready(|| qms_city::streams::ensure(&js, replicas)).await;
        if let Err(e) = qms_city::live::follow(js, live_tx).await {
            warn!("the offices' live state: {e}");
        }
    });
    let city = Arc::new(City {
        options,
        db: AsyncMutex::new(Arc::new(db)),
        live,
        days: Mutex::new(HashMap::new()),
        figures: AsyncMutex::new(None),
    });
    let app = assets()
        .route("/", get(dashboard))
        .route("/api/city/offices", get(offices_json))
        .route("/cong-khai", get(transparency))
        .route("/bao-cao", get(report_across))
        .route("/bao-cao/:site", get(report_of))
        .route("/:site/t/:token", get(citizen_page))
        .route("/:site/t/:token/events", get(citizen_events))
        .with_state(city)
        .fallback(|| async { crate::pages::not_found() });
    info!(address = %listener.local_addr()?, "the city's pages served: /, /cong-khai, /bao-cao");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(CityError::Serve)
}

/// One office on the dashboard.
#[derive(Debug, Clone, serde::Serialize)]
struct OfficeRow {
    site: String,
    name: String,
    /// "ok", "link_down", "authority_down" or "unknown".
    state: &'static str,
    waiting: u32,
    longest_wait_minutes: Option<u32>,
    counters_open: u32,
    counters: u32,
    #[serde(flatten)]
    figures: OfficeFigures,
    satisfied_percent: Option<u32>,
}

fn row_of(
    site: &str,
    live: Option<&OfficeLive>,
    figures: OfficeFigures,
    today: Date,
    now: OffsetDateTime,
) -> OfficeRow {
    let board = live.and_then(|l| l.board.as_ref());
    let today_board = board.filter(|b| b.day == Some(today));
    let waiting = today_board.map_or(0, |b| b.waiting.iter().map(|w| w.waiting).sum());
    let longest = today_board
        .and_then(|b| b.waiting.iter().filter_map(|w| w.waiting_since).min())
        .map(|since| (now - since).whole_minutes().max(0) as u32);
    let (counters_open, counters) = board.map_or((0, 0), |b| {
        let open = b
            .counters
            .iter()
            .filter(|c| matches!(c.status, CounterStatus::Idle | CounterStatus::Serving))
            .count();
        (open as u32, b.counters.len() as u32)
    });
    let state = match live {
        Some(l) if l.linked == Some(false) => "link_down",
        Some(l) if l.authority_online == Some(false) => "authority_down",
        Some(l) if l.board.is_some() => "ok",
        _ => "unknown",
    };
    let satisfied_percent = satisfied_percent(&figures);
    OfficeRow {
        site: site.to_string(),
        name: board.map_or(site.to_string(), |b| b.site_name.clone()),
        state,
        waiting,
        longest_wait_minutes: longest,
        counters_open: if state == "ok" { counters_open } else { 0 },
        counters,
        figures,
        satisfied_percent,
    }
}

/// Every office: those with events stored and those only seen live.
async fn office_rows(city: &City) -> Result<Vec<OfficeRow>, CityError> {
    let today = city.today();
    let days = city.figures_today().await?;
    let live = city.live.borrow().clone();
    let now = OffsetDateTime::now_utc();
    let mut rows: Vec<OfficeRow> = days
        .iter()
        .cloned()
        .map(|figures| {
            let site = figures.site.clone();
            row_of(&site, live.get(&site), figures, today, now)
        })
        .collect();
    for (site, office) in live.iter() {
        if !rows.iter().any(|r| &r.site == site) {
            let figures = OfficeFigures {
                site: site.clone(),
                ..Default::default()
            };
            rows.push(row_of(site, Some(office), figures, today, now));
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

fn satisfied_percent(figures: &OfficeFigures) -> Option<u32> {
    (figures.rated > 0).then(|| (figures.satisfied * 100 / figures.rated) as u32)
}

fn unavailable(e: CityError) -> Response {
    warn!("a city page: {e}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(page(
            "Tạm thời không có số liệu",
            "",
            "<p>Máy chủ dữ liệu của thành phố chưa trả lời; trang sẽ thử lại.</p>",
            Some(10),
        )),
    )
        .into_response()
}

/// A whole page: `title`, the navigation for staff or none, `body`, refreshed every
/// `refresh` seconds.
fn page(title: &str, nav: &str, body: &str, refresh: Option<u32>) -> String {
    let refresh = refresh.map_or(String::new(), |s| {
        format!("<meta http-equiv=\"refresh\" content=\"{s}\">")
    });
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{refresh}\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/static/city.css\"></head>\
         <body><header><h1>{title}</h1>{nav}</header><main>{body}</main></body></html>",
        title = escape(title),
    )
}

const STAFF_NAV: &str = "<nav><a href=\"/\">Tổng quan</a><a href=\"/bao-cao\">Báo cáo</a>\
                         <a href=\"/cong-khai\">Trang công khai</a></nav>";

fn state_words(state: &str) -> (&'static str, &'static str) {
    match state {
        "ok" => ("ok", "Đang hoạt động"),
        "link_down" => ("down", "Mất kết nối với thành phố"),
        "authority_down" => ("down", "Máy chủ xếp hàng ngừng"),
        _ => ("", "Chưa có thông tin"),
    }
}

fn optional(value: Option<u32>, unit: &str) -> String {
    value.map_or("—".into(), |v| format!("{v}{unit}"))
}

fn minutes(value: Option<f64>) -> String {
    value.map_or("—".into(), |m| format!("{:.0} phút", m.round()))
}

async fn dashboard(State(city): State<Arc<City>>) -> Response {
    let rows = match office_rows(&city).await {
        Ok(rows) => rows,
        Err(e) => return unavailable(e),
    };
    let sum = |f: fn(&OfficeRow) -> i64| rows.iter().map(f).sum::<i64>();
    let down = rows.iter().filter(|r| r.state != "ok").count();
    let mut body = format!(
        "<ul class=\"totals\"><li>Đơn vị<b>{}</b></li><li>Đang chờ<b>{}</b></li>\
         <li>Đã cấp số hôm nay<b>{}</b></li><li>Đã phục vụ<b>{}</b></li>\
         <li>Quầy đang mở<b>{}</b></li><li>Đơn vị cần chú ý<b>{down}</b></li></ul>",
        rows.len(),
        sum(|r| r.waiting as i64),
        sum(|r| r.figures.issued),
        sum(|r| r.figures.served),
        sum(|r| r.counters_open as i64),
    );
    body.push_str(
        "<table><thead><tr><th>Đơn vị</th><th class=\"state\">Tình trạng</th><th>Đang chờ</th>\
         <th>Chờ lâu nhất</th><th>Quầy mở</th><th>Đã cấp số</th><th>Đã phục vụ</th>\
         <th>Chờ trung bình</th><th>Hài lòng</th><th>Sự kiện thiếu</th></tr></thead><tbody>",
    );
    for r in &rows {
        let (class, words) = state_words(r.state);
        let late = r.longest_wait_minutes.is_some_and(|m| m > 45);
        let _ = write!(
            body,
            "<tr class=\"{row}\" data-site=\"{site}\"><td><a href=\"/bao-cao/{site}\">{name}</a></td>\
             <td class=\"state {class}\">{words}</td><td>{waiting}</td><td class=\"wait\">{longest}</td>\
             <td>{open}/{counters}</td><td>{issued}</td><td>{served}</td><td>{average}</td>\
             <td>{satisfied}</td><td>{missing}</td></tr>",
            row = [(class == "down").then_some("down"), late.then_some("late")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            site = escape(&r.site),
            name = escape(&r.name),
            waiting = r.waiting,
            longest = optional(r.longest_wait_minutes, " phút"),
            open = r.counters_open,
            counters = r.counters,
            issued = r.figures.issued,
            served = r.figures.served,
            average = minutes(r.figures.average_wait_minutes),
            satisfied = optional(r.satisfied_percent, "%"),
            missing = r.figures.missing_events,
        );
    }
    body.push_str(
        "</tbody></table><p class=\"note\">Số liệu hôm nay, cập nhật mỗi 10 giây. \
         Đang chờ, chờ lâu nhất và quầy mở theo bảng hiển thị mới nhất của đơn vị.</p>",
    );
    Html(page(
        "Xếp hàng một cửa — Tổng quan thành phố",
        STAFF_NAV,
        &body,
        Some(10),
    ))
    .into_response()
}

async fn offices_json(State(city): State<Arc<City>>) -> Response {
    match office_rows(&city).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => {
            warn!("/api/city/offices: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn transparency(State(city): State<Arc<City>>) -> Response {
    let rows = match office_rows(&city).await {
        Ok(rows) => rows,
        Err(e) => return unavailable(e),
    };
    let mut body = String::from(
        "<p>Số người đang chờ và thời gian chờ trung bình hôm nay tại bộ phận một cửa \
         của từng đơn vị. Không có thông tin cá nhân.</p>\
         <table><thead><tr><th>Đơn vị</th><th>Đang chờ</th><th>Chờ trung bình hôm nay</th>\
         <th>Đã phục vụ hôm nay</th></tr></thead><tbody>",
    );
    for r in &rows {
        let _ = write!(
            body,
            "<tr data-site=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.site),
            escape(&r.name),
            r.waiting,
            minutes(r.figures.average_wait_minutes),
            r.figures.served
        );
    }
    body.push_str("</tbody></table><p class=\"note\">Cập nhật mỗi 30 giây.</p>");
    Html(page(
        "Công khai thời gian chờ tại bộ phận một cửa",
        "",
        &body,
        Some(30),
    ))
    .into_response()
}

/// A period that cannot be read, said why (`words` is already safe for HTML).
fn bad_period(words: &str) -> Response {
    let body = page("Báo cáo", STAFF_NAV, &format!("<p>{words}</p>"), None);
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

fn period_form(action: &str, from: Date, to: Date) -> String {
    format!(
        "<form class=\"period\" action=\"{action}\"><label>Từ ngày<br><input type=\"date\" name=\"from\" value=\"{from}\"></label>\
         <label>Đến ngày<br><input type=\"date\" name=\"to\" value=\"{to}\"></label><button>Xem</button></form>"
    )
}

async fn report_across(State(city): State<Arc<City>>, Query(period): Query<Period>) -> Response {
    let (from, to) = match period.days(city.today()) {
        Ok(days) => days,
        Err(words) => return bad_period(&words),
    };
    let rows = match store::office_figures(&*city.db().await, from, to).await {
        Ok(rows) => rows,
        Err(e) => return unavailable(e),
    };
    let live = city.live.borrow().clone();
    let mut body = period_form("/bao-cao", from, to);
    body.push_str(
        "<table><thead><tr><th>Đơn vị</th><th>Đã cấp số</th><th>Đã phục vụ</th><th>Vắng mặt</th>\
         <th>Chờ trung bình</th><th>Lượt đánh giá</th><th>Hài lòng</th></tr></thead><tbody>",
    );
    for r in &rows {
        let name = live
            .get(&r.site)
            .and_then(|l| l.board.as_ref())
            .map_or(r.site.clone(), |b| b.site_name.clone());
        let _ = write!(
            body,
            "<tr><td><a href=\"/bao-cao/{site}?from={from}&amp;to={to}\">{name}</a></td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.issued,
            r.served,
            r.no_shows,
            minutes(r.average_wait_minutes),
            r.rated,
            optional(satisfied_percent(r), "%"),
            site = escape(&r.site),
            name = escape(&name),
        );
    }
    body.push_str("</tbody></table>");
    let title = format!("Báo cáo các đơn vị từ {} đến {}", dmy(from), dmy(to));
    Html(page(&title, STAFF_NAV, &body, None)).into_response()
}

fn dmy(day: Date) -> String {
    qms_core::calendar::day_month_year(day)
}

/// A site id as offices have them: nothing that could be a path or markup.
fn site_shaped(site: &str) -> bool {
    (1..=64).contains(&site.len())
        && site
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn report_of(
    State(city): State<Arc<City>>,
    Path(site): Path<String>,
    Query(period): Query<Period>,
) -> Response {
    if !site_shaped(&site) {
        return crate::pages::not_found();
    }
    let (from, to) = match period.days(city.today()) {
        Ok(days) => days,
        Err(words) => return bad_period(&words),
    };
    let days = match store::days_of(&*city.db().await, &site, from, to).await {
        Ok(days) => days,
        Err(e) => return unavailable(e),
    };
    let config = office_config(
        &site,
        city.live.borrow().get(&site).and_then(|l| l.board.as_ref()),
    );
    let report = qms_core::report::Report::of(&config, from, to, &days);
    let mut html = qms_report::html(&report);
    // The office head's page, with the city's way back and a period to choose.
    let back = format!(
        "<nav class=\"toolbar\"><a href=\"/bao-cao?from={from}&amp;to={to}\">← Các đơn vị</a></nav>{}",
        period_form(&format!("/bao-cao/{site}"), from, to)
    );
    if let Some(at) = html.find("<body>") {
        html.insert_str(at + "<body>".len(), &back);
    }
    Html(html).into_response()
}

/// What the city knows of an office's configuration: its names and counters from its
/// newest board, the rest as the default office (the average service time a wait is
/// estimated from).
fn office_config(site: &str, board: Option<&Board>) -> SiteConfig {
    let mut config = SiteConfig::default_site();
    config.site.id = site.to_string();
    let Some(board) = board else {
        config.site.name = site.to_string();
        return config;
    };
    config.site.name = board.site_name.clone();
    config.site.utc_offset = board.at.offset();
    let template: Procedure = config.procedures[0].clone();
    config.procedures = board
        .waiting
        .iter()
        .map(|w| Procedure {
            id: w.procedure.clone(),
            name_vi: w.name_vi.clone(),
            name_en: w.name_en.clone(),
            enabled: w.enabled,
            daily_quota: None,
            ..template.clone()
        })
        .collect();
    let all: Vec<String> = config.procedures.iter().map(|p| p.id.clone()).collect();
    config.counters = board
        .counters
        .iter()
        .map(|c| Counter {
            number: c.number,
            name: c.name.clone(),
            procedures: all.clone(),
        })
        .collect();
    config
}

/// The page of ticket `token` of office `site`, now; None for a ticket the city does
/// not have.
async fn ticket_now(city: &City, site: &str, token: &str) -> Result<Option<TicketPage>, CityError> {
    let db = city.db().await;
    let Some((id, day)) = store::ticket_of_page(&db, site, &page_key(token)).await? else {
        return Ok(None);
    };
    let live = city.live.borrow().get(site).cloned();
    let board = live.as_ref().and_then(|l| l.board.as_ref());
    let config = office_config(site, board);
    let seq = board.map_or(0, |b| b.seq);
    let cached = city
        .days
        .lock()
        .expect("days lock")
        .get(site)
        .filter(|(at, _)| *at == seq && seq > 0)
        .map(|(_, state)| state.clone());
    let state = match cached {
        Some(state) if state.ticket(&id).is_some() => state,
        _ => {
            let state = Arc::new(QueueState::replayed(
                &store::day_events(&db, site, day).await?,
            ));
            city.days
                .lock()
                .expect("days lock")
                .insert(site.to_string(), (seq, state.clone()));
            state
        }
    };
    Ok(state
        .followed(&config, token.to_string(), &id)
        .map(|followed| {
            let mut page = TicketPage::of(&followed, &config);
            // The city cannot act on the office: a rating is given at the office.
            page.ask_rating = false;
            page
        }))
}

async fn citizen_page(
    State(city): State<Arc<City>>,
    Path((site, token)): Path<(String, String)>,
) -> Response {
    if !site_shaped(&site) || !well_formed(&token) {
        return unknown_ticket();
    }
    match ticket_now(&city, &site, &token).await {
        Ok(Some(ticket)) => ticket_page(&format!("/{site}/t/{token}"), &ticket.office),
        Ok(None) => unknown_ticket(),
        Err(e) => unavailable(e),
    }
}

async fn citizen_events(
    State(city): State<Arc<City>>,
    Path((site, token)): Path<(String, String)>,
) -> Response {
    if !site_shaped(&site) || !well_formed(&token) {
        return unknown_ticket();
    }
    let first = match ticket_now(&city, &site, &token).await {
        Ok(Some(ticket)) => ticket,
        Ok(None) => return unknown_ticket(),
        Err(e) => return unavailable(e),
    };
    let json = |page: &TicketPage| -> Arc<str> {
        serde_json::to_string(page)
            .expect("a ticket page serializes")
            .into()
    };
    let (shown, states) = watch::channel(json(&first));
    tokio::spawn(async move {
        // Until the page goes away.
        while !shown.is_closed() {
            tokio::time::sleep(TICKET_REFRESH).await;
            match ticket_now(&city, &site, &token).await {
                Ok(Some(ticket)) => {
                    let view = json(&ticket);
                    shown.send_if_modified(|now| {
                        let changed = *now != view;
                        *now = view;
                        changed
                    });
                }
                Ok(None) => return,
                Err(e) => warn!("a citizen's page at the city: {e}"),
            }
        }
    });
    event_stream(states, "ticket", Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offices_names_come_from_its_board() {
        let office = SiteConfig::default_site();
        let board = QueueState::default().board(&office, OffsetDateTime::now_utc());
        let config = office_config("p-x", Some(&board));
        assert_eq!(config.site.id, "p-x");
        assert_eq!(config.site.name, office.site.name);
        assert_eq!(config.procedures.len(), office.procedures.len());
        assert_eq!(config.procedures[1].name_vi, office.procedures[1].name_vi);
        assert_eq!(config.counter_name(2), office.counter_name(2));
        assert_eq!(office_config("p-y", None).site.name, "p-y");
    }

    #[test]
    fn only_a_site_id_is_taken_as_a_site() {
        assert!(site_shaped("cap-phuong-saigon"));
        assert!(!site_shaped(""));
        assert!(!site_shaped("a/b"));
        assert!(!site_shaped("<script>"));
    }
}
