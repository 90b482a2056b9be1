//! The citizen's page (`/t/{token}`, from the ticket's QR): that ticket and nothing else,
//! live. Each time the board moves the server asks the authority, as the web device, for
//! every ticket a page follows (`follow`, 200 tokens a command) and pushes each page its
//! own ticket in words. The token is the only key: an unknown one gets a page that says
//! so, and guessing one is as hard as guessing 128 random bits.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qms_core::citizen::TicketPage;
use qms_core::protocol::{Command, CommandEnvelope, Followed, Rating, Reply, MAX_FOLLOWED};
use qms_core::SiteConfig;
use tokio::sync::{mpsc, watch};

use crate::pages::{self, escape};

/// How long a page opening waits for the authority to find its ticket.
pub const FIND_WAIT: Duration = Duration::from_secs(5);

/// What a page asks of the feed, which holds the broker connection.
#[derive(Debug)]
pub enum Ask {
    /// Find this token's ticket now (a page just opened).
    Follow(String),
    /// The citizen's rating of the ticket with this id.
    Rate(String, Rating),
}

/// One followed ticket: its page's state for every page open on it.
struct Page {
    /// None until the authority answered; then the page, or "unknown" (`Some(None)`).
    shown: watch::Sender<Option<Option<Arc<str>>>>,
    /// The ticket, once found: a rating names its id.
    ticket_id: Option<String>,
    ask_rating: bool,
}

/// Every ticket some page follows, and the `follow` commands in flight.
pub struct Citizens {
    config: Arc<SiteConfig>,
    pages: Mutex<HashMap<String, Page>>,
    /// Command id → the tokens it asked for: a token missing from the answer is unknown.
    asked: Mutex<HashMap<String, Vec<String>>>,
    asks: mpsc::UnboundedSender<Ask>,
}

impl Citizens {
    /// The hub, and the receiver of what pages ask, for the feed.
    pub fn new(config: Arc<SiteConfig>) -> (Arc<Citizens>, mpsc::UnboundedReceiver<Ask>) {
        let (asks, asked) = mpsc::unbounded_channel();
        let citizens = Citizens {
            config,
            pages: Mutex::new(HashMap::new()),
            asked: Mutex::new(HashMap::new()),
            asks,
        };
        (Arc::new(citizens), asked)
    }

    /// The `follow` commands for every ticket a page still follows; pages closed since
    /// are forgotten.
    pub fn follow_all(&self) -> Vec<CommandEnvelope> {
        let tokens: Vec<String> = {
            let mut pages = self.pages.lock().expect("pages lock");
            pages.retain(|_, page| page.shown.receiver_count() > 0);
            pages.keys().cloned().collect()
        };
        tokens
            .chunks(MAX_FOLLOWED)
            .map(|chunk| self.follow(chunk.to_vec()))
            .collect()
    }

    /// The `follow` command for `tokens`, remembered until answered.
    pub fn follow(&self, tokens: Vec<String>) -> CommandEnvelope {
        let envelope = CommandEnvelope::new(
            uuid::Uuid::new_v4().to_string(),
            Command::Follow {
                tokens: tokens.clone(),
            },
        );
        let mut asked = self.asked.lock().expect("asked lock");
        // Answers lost with a connection are not waited for forever.
        if asked.len() > 1000 {
            asked.clear();
        }
        asked.insert(envelope.id.clone(), tokens);
        envelope
    }

    /// The authority's answer to a `follow`: each page gets its ticket, tokens it did not
    /// find are unknown.
    pub fn answer(&self, reply: &Reply) {
        let Some(tokens) = reply
            .id
            .as_ref()
            .and_then(|id| self.asked.lock().expect("asked lock").remove(id))
        else {
            return;
        };
        let Some(followed) = &reply.followed else {
            return; // refused: the next board asks again
        };
        let mut found: HashMap<&str, &Followed> =
            followed.iter().map(|f| (f.token.as_str(), f)).collect();
        let mut pages = self.pages.lock().expect("pages lock");
        for token in &tokens {
            let Some(page) = pages.get_mut(token) else {
                continue;
            };
            let view = found.remove(token.as_str()).map(|f| {
                let ticket = TicketPage::of(f, &self.config);
                page.ticket_id = Some(f.ticket.id.clone());
                page.ask_rating = ticket.ask_rating;
                Arc::from(serde_json::to_string(&ticket).expect("a ticket page serializes"))
            });
            page.shown.send_if_modified(|shown| {
                let changed = shown.as_ref() != Some(&view);
                if changed {
                    *shown = Some(view);
                }
                changed
            });
        }
    }

    /// Ends every page's stream (the server stops).
    pub fn close_all(&self) {
        self.pages.lock().expect("pages lock").clear();
    }

    /// The page state of `token`, now and as it changes; the feed is asked to find it.
    fn open(&self, token: &str) -> watch::Receiver<Option<Option<Arc<str>>>> {
        let mut pages = self.pages.lock().expect("pages lock");
        let page = pages.entry(token.to_string()).or_insert_with(|| Page {
            shown: watch::channel(None).0,
            ticket_id: None,
            ask_rating: false,
        });
        let receiver = page.shown.subscribe();
        let _ = self.asks.send(Ask::Follow(token.to_string()));
        receiver
    }
}

/// The citizen's routes.
pub fn routes(citizens: Arc<Citizens>) -> Router {
    Router::new()
        .route("/t/:token", get(page))
        .route("/t/:token/events", get(events))
        .route("/t/:token/rate", post(rate))
        .with_state(citizens)
}

/// A token as the authority makes them: 22 URL-safe characters.
fn well_formed(token: &str) -> bool {
    token.len() == 22
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The page's state once the authority answered; None for an unknown token.
async fn found(
    citizens: &Citizens,
    token: &str,
) -> (watch::Receiver<Option<Option<Arc<str>>>>, Option<Arc<str>>) {
    let mut shown = citizens.open(token);
    let answered = tokio::time::timeout(FIND_WAIT, shown.wait_for(Option::is_some))
        .await
        .ok()
        .and_then(|view| view.ok().map(|v| v.clone().flatten()))
        .flatten();
    (shown, answered)
}

async fn page(State(citizens): State<Arc<Citizens>>, Path(token): Path<String>) -> Response {
    if !well_formed(&token) {
        return unknown_ticket();
    }
    let (_, view) = found(&citizens, &token).await;
    if view.is_none() {
        return unknown_ticket();
    }
    let html = pages::TICKET_HTML
        .replace("{{token}}", &token)
        .replace("{{office}}", &escape(&citizens.config.site.name));
    Html(html).into_response()
}

fn unknown_ticket() -> Response {
    (StatusCode::NOT_FOUND, Html(pages::UNKNOWN_TICKET_HTML)).into_response()
}

async fn events(State(citizens): State<Arc<Citizens>>, Path(token): Path<String>) -> Response {
    if !well_formed(&token) {
        return unknown_ticket();
    }
    let (mut shown, view) = found(&citizens, &token).await;
    if view.is_none() {
        return unknown_ticket();
    }
    shown.mark_changed();
    let stream = futures_util::stream::unfold(shown, |mut shown| async move {
        shown.changed().await.ok()?;
        let view = shown.borrow_and_update().clone();
        let data = match view.flatten() {
            Some(view) => view,
            // Gone from today's tickets (the day closed): said once, then the end.
            None => Arc::from("{\"state\":\"expired\"}"),
        };
        Some((
            Ok::<_, Infallible>(Event::default().event("ticket").data(&*data)),
            shown,
        ))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingBody {
    rating: Rating,
}

/// The citizen's rating, from the page. A JSON body, which a form on another site cannot
/// send; the authority takes one rating per ticket.
async fn rate(
    State(citizens): State<Arc<Citizens>>,
    Path(token): Path<String>,
    body: Result<Json<RatingBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        let error = serde_json::json!({"error": "Yêu cầu không hợp lệ"});
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    };
    let ticket = {
        let mut pages = citizens.pages.lock().expect("pages lock");
        pages
            .get_mut(&token)
            .filter(|page| page.ask_rating)
            .and_then(|page| {
                // Asked once: a second tap waits for the authority's word.
                page.ask_rating = false;
                page.ticket_id.clone()
            })
    };
    let Some(ticket) = ticket else {
        let error = serde_json::json!({"error": "Phiếu này không chờ đánh giá"});
        return (StatusCode::CONFLICT, Json(error)).into_response();
    };
    let _ = citizens.asks.send(Ask::Rate(ticket, body.rating));
    Json(serde_json::json!({"sent": true})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_token_of_the_authoritys_shape_is_looked_up() {
        assert!(well_formed("Zq3k9Xw2mLp8Rt5Vb1Nc0A"));
        assert!(!well_formed("20261126-1023"), "a ticket id is no token");
        assert!(!well_formed("Zq3k9Xw2mLp8Rt5Vb1Nc0A/../x"));
        assert!(!well_formed("Zq3k9Xw2mLp8Rt5Vb1Nc0Ä"));
    }
}
