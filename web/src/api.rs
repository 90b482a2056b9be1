//! The office's API for the systems it works with (the electronic one-stop system, the
//! province's satisfaction survey): tickets of a day or of a dossier code with their
//! outcome, officer and rating, and the reports, read-only, behind a bearer token per
//! integration (`[[web.token]]`, kept hashed). Described by `web/openapi.json`, served at
//! `/api/openapi.json`. Every refusal is a JSON `{"error", "message"}` with a 4xx or 5xx.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use qms_core::protocol::{dossier_problem, Command, ErrorCode, Reply, MAX_REPORT_DAYS};
use qms_core::SiteConfig;
use serde::Deserialize;
use time::Date;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

/// The OpenAPI document of the API, kept in the repository.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// How long an API request waits for the authority.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// A command for the authority, sent as the web device, and where its reply goes.
pub type Question = (Command, oneshot::Sender<Reply>);

/// Asks the authority through the server's own broker connection.
#[derive(Clone)]
pub struct Authority(mpsc::UnboundedSender<Question>);

impl Authority {
    /// The handle, and the questions for the connection to send.
    pub fn new() -> (Authority, mpsc::UnboundedReceiver<Question>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Authority(tx), rx)
    }

    /// The authority's reply to `command`, or none in time.
    pub async fn ask(&self, command: Command) -> Option<Reply> {
        let (tx, rx) = oneshot::channel();
        self.0.send((command, tx)).ok()?;
        tokio::time::timeout(ANSWER_WITHIN, rx).await.ok()?.ok()
    }
}

#[derive(Clone)]
struct Api {
    config: Arc<SiteConfig>,
    authority: Authority,
}

/// The API's routes.
pub fn routes(config: Arc<SiteConfig>, authority: Authority) -> Router {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/tickets", get(tickets))
        .route("/api/v1/report", get(report))
        .route("/api/v1/*rest", get(unknown))
        .with_state(Api { config, authority })
}

/// A refusal as the API gives it: a status and a JSON `{"error", "message"}`.
pub struct Refusal {
    status: StatusCode,
    error: String,
    message: String,
}

/// A refusal with `status`, code `error` and words for the integration's developer.
pub fn refusal(status: StatusCode, error: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        error: error.to_string(),
        message: message.into(),
    }
}

/// A parameter is wrong: `message` says which and how.
fn bad_request(message: impl Into<String>) -> Refusal {
    refusal(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// The query's parameters, or a refusal naming the ones expected.
fn parameters<T>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
    expected: &str,
) -> Result<T, Refusal> {
    query
        .map(|Query(query)| query)
        .map_err(|_| bad_request(format!("the parameters are {expected}")))
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.error, "message": self.message });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"qms\""),
            );
        }
        response
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn unknown() -> Refusal {
    refusal(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route: see /api/openapi.json",
    )
}

impl Api {
    /// The integration the request's bearer token belongs to, or the refusal.
    fn caller(&self, headers: &HeaderMap) -> Result<&str, Refusal> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token else {
            return Err(refusal(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the integration's token as \"Authorization: Bearer <token>\"",
            ));
        };
        // Every token is checked, so the time taken does not tell which one is near.
        let found = self.config.web.tokens.iter().fold(None, |found, t| {
            found.or(t.token_hash.matches(token).then_some(t.name.as_str()))
        });
        found.ok_or_else(|| {
            warn!("an API request with an unknown token was refused");
            refusal(StatusCode::UNAUTHORIZED, "unauthorized", "unknown token")
        })
    }

    /// The authority's answer to `command`, or the refusal to give.
    async fn answer(&self, command: Command) -> Result<Reply, Refusal> {
        let Some(reply) = self.authority.ask(command).await else {
            return Err(refusal(
                StatusCode::GATEWAY_TIMEOUT,
                "unavailable",
                "the queue authority did not answer: try again shortly",
            ));
        };
        match &reply.error {
            None => Ok(reply),
            Some(error) => {
                let status = match error.code {
                    ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
                    ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::Forbidden => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_GATEWAY,
                };
                let code = serde_json::to_value(error.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                Err(refusal(status, &code, error.message_en.clone()))
            }
        }
    }
}

fn day_of(text: &str, name: &str) -> Result<Date, Refusal> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map_err(|_| bad_request(format!("{name} must be a day like 2026-11-26")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketsQuery {
    day: Option<String>,
    dossier: Option<String>,
}

async fn tickets(
    State(api): State<Api>,
    headers: HeaderMap,
    query: Result<Query<TicketsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Refusal> {
    let caller = api.caller(&headers)?.to_string();
    let query = parameters(query, "day=YYYY-MM-DD or dossier=CODE")?;
    let command = match (query.day, query.dossier) {
        (Some(_), Some(_)) => return Err(bad_request("give day or dossier, not both")),
        (None, Some(dossier)) => {
            if let Some(problem) = dossier_problem(&dossier) {
                return Err(bad_request(problem.message_en));
            }
            Command::FindDossier { dossier }
        }
        (day, None) => Command::List {
            procedure: None,
            state: None,
            counter: None,
            day: day.as_deref().map(|d| day_of(d, "day")).transpose()?,
        },
    };
    info!(%caller, "API: tickets");
    let reply = api.answer(command).await?;
    let tickets = reply.tickets.unwrap_or_default();
    Ok(Json(serde_json::json!({ "tickets": tickets })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    from: String,
    to: String,
}

async fn report(
    State(api): State<Api>,
    headers: HeaderMap,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Refusal> {
    let caller = api.caller(&headers)?.to_string();
    let query = parameters(query, "from=YYYY-MM-DD and to=YYYY-MM-DD")?;
    let (from, to) = (day_of(&query.from, "from")?, day_of(&query.to, "to")?);
    if from > to || (to - from).whole_days() >= MAX_REPORT_DAYS {
        return Err(bad_request(format!(
            "from must not be after to, and a report covers at most {MAX_REPORT_DAYS} days"
        )));
    }
    info!(%caller, %from, %to, "API: report");
    let reply = api.answer(Command::Report { from, to }).await?;
    match reply.report {
        Some(report) => Ok(Json(report).into_response()),
        None => Err(refusal(
            StatusCode::BAD_GATEWAY,
            "internal",
            "the authority sent no report",
        )),
    }
}
