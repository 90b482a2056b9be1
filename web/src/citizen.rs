//! The citizen's page (`/t/{token}`, from the ticket's QR): that ticket and nothing else,
//! live. Each time the board moves the server asks the authority, as the web device, for
//! every ticket a page follows (`follow`, 100 tokens a command) and pushes each page its
//! own ticket in words. The token is the only key: an unknown one gets a page that says
//! so, and guessing one is as hard as guessing 128 random bits.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qms_core::citizen::TicketPage;
use qms_core::protocol::{Command, CommandEnvelope, Followed, Rating, Reply, MAX_FOLLOWED};
use qms_core::SiteConfig;
use tokio::sync::{mpsc, watch};

use crate::pages::{self, escape};
use crate::server::event_stream;

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

/// Every ticket some page follows, and the `follow` commands to send. One is in flight
/// at a time: the answers for a thousand pages come one after the other, never so many at
/// once that a broker drops some for a subscriber that has not read them yet (rumqttd
/// keeps a bounded log per topic).
pub struct Citizens {
    config: Arc<SiteConfig>,
    pages: Mutex<HashMap<String, Page>>,
    follows: Mutex<Follows>,
    asks: mpsc::UnboundedSender<Ask>,
}

/// The `follow` commands of the server.
#[derive(Default)]
struct Follows {
    /// The tokens still to ask for, by command.
    waiting: VecDeque<Vec<String>>,
    /// The command sent, the tokens it names (one missing from the answer is unknown),
    /// and when.
    in_flight: Option<(String, Vec<String>, Instant)>,
}

/// An answer not come by then is taken as lost (a broker restart, say).
const FOLLOW_LOST_AFTER: Duration = Duration::from_secs(3);

impl Citizens {
    /// The hub, and the receiver of what pages ask, for the feed.
    pub fn new(config: Arc<SiteConfig>) -> (Arc<Citizens>, mpsc::UnboundedReceiver<Ask>) {
        let (asks, asked) = mpsc::unbounded_channel();
        let citizens = Citizens {
            config,
            pages: Mutex::new(HashMap::new()),
            follows: Mutex::new(Follows::default()),
            asks,
        };
        (Arc::new(citizens), asked)
    }

    /// Every ticket a page still follows is to be asked for again (the board moved);
    /// pages closed since are forgotten. The command to send now, if none is in flight.
    pub fn follow_all(&self) -> Option<CommandEnvelope> {
        let tokens: Vec<String> = {
            let mut pages = self.pages.lock().expect("pages lock");
            pages.retain(|_, page| page.shown.receiver_count() > 0);
            pages.keys().cloned().collect()
        };
        let mut follows = self.follows.lock().expect("follows lock");
        // What was still to ask is asked now with the newest board.
        follows.waiting = tokens
            .chunks(MAX_FOLLOWED)
            .map(<[String]>::to_vec)
            .collect();
        follows.next()
    }

    /// The clock: after a lost answer, the commands go on.
    pub fn tick(&self) -> Option<CommandEnvelope> {
        self.follows.lock().expect("follows lock").next()
    }

    /// Pages just opened: their tickets are asked for first.
    pub fn follow_new(&self, tokens: Vec<String>) -> Option<CommandEnvelope> {
        let mut follows = self.follows.lock().expect("follows lock");
        for chunk in tokens.chunks(MAX_FOLLOWED).rev() {
            follows.waiting.push_front(chunk.to_vec());
        }
        follows.next()
    }

    /// The authority's answer to a `follow`: each page gets its ticket, tokens it did not
    /// find are unknown. The next command to send, if any.
    pub fn answer(&self, reply: &Reply) -> Option<CommandEnvelope> {
        let tokens = {
            let mut follows = self.follows.lock().expect("follows lock");
            let answered = follows
                .in_flight
                .as_ref()
                .is_some_and(|(id, _, _)| reply.id.as_ref() == Some(id));
            if !answered {
                return None;
            }
            let (_, tokens, _) = follows.in_flight.take().expect("in flight");
            tokens
        };
        if let Some(followed) = &reply.followed {
            self.show(&tokens, followed);
        }
        // Refused, the tokens are asked for again with the next board.
        self.follows.lock().expect("follows lock").next()
    }

    fn show(&self, tokens: &[String], followed: &[Followed]) {
        let mut found: HashMap<&str, &Followed> =
            followed.iter().map(|f| (f.token.as_str(), f)).collect();
        let mut pages = self.pages.lock().expect("pages lock");
        for token in tokens {
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

impl Follows {
    /// The next command, unless one is in flight (and not lost).
    fn next(&mut self) -> Option<CommandEnvelope> {
        if self
            .in_flight
            .as_ref()
            .is_some_and(|(_, _, at)| at.elapsed() < FOLLOW_LOST_AFTER)
        {
            return None;
        }
        let tokens = self.waiting.pop_front()?;
        let envelope = CommandEnvelope::new(
            uuid::Uuid::new_v4().to_string(),
            Command::Follow {
                tokens: tokens.clone(),
            },
        );
        self.in_flight = Some((envelope.id.clone(), tokens, Instant::now()));
        Some(envelope)
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
pub(crate) fn well_formed(token: &str) -> bool {
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
    ticket_page(&format!("/t/{token}"), &citizens.config.site.name)
}

/// The citizen's page, its state read from `base` + "/events".
pub(crate) fn ticket_page(base: &str, office: &str) -> Response {
    let html = pages::TICKET_HTML
        .replace("{{base}}", &escape(base))
        .replace("{{office}}", &escape(office));
    Html(html).into_response()
}

pub(crate) fn unknown_ticket() -> Response {
    (StatusCode::NOT_FOUND, Html(pages::UNKNOWN_TICKET_HTML)).into_response()
}

async fn events(State(citizens): State<Arc<Citizens>>, Path(token): Path<String>) -> Response {
    if !well_formed(&token) {
        return unknown_ticket();
    }
    let (shown, view) = found(&citizens, &token).await;
    if view.is_none() {
        return unknown_ticket();
    }
    event_stream(shown, "ticket", |view| {
        // Gone from today's tickets (the day closed): said as expired.
        Some(
            view.flatten()
                .unwrap_or_else(|| Arc::from("{\"state\":\"expired\"}")),
        )
    })
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

    fn tokens_of(envelope: &CommandEnvelope) -> Vec<String> {
        match &envelope.command {
            Command::Follow { tokens } => tokens.clone(),
            other => panic!("not a follow: {other:?}"),
        }
    }

    /// The defect: a follow for every hundred pages at once, answered together, was more
    /// than the embedded broker keeps for a subscriber, and a tenth of a thousand pages
    /// missed each call.
    #[test]
    fn regression_one_follow_is_in_flight_at_a_time() {
        let (citizens, _asks) = Citizens::new(Arc::new(SiteConfig::default_site()));
        let pages: Vec<_> = (0..250)
            .map(|i| citizens.open(&format!("{i:0>22}")))
            .collect();
        let first = citizens.follow_all().expect("a command");
        assert_eq!(tokens_of(&first).len(), MAX_FOLLOWED);
        assert_eq!(citizens.follow_all(), None, "one in flight");
        assert_eq!(citizens.tick(), None);
        let mut asked = tokens_of(&first);
        let mut next = citizens.answer(&Reply::ok(first.id.clone()));
        while let Some(command) = next {
            asked.extend(tokens_of(&command));
            next = citizens.answer(&Reply::ok(command.id.clone()));
        }
        asked.sort();
        asked.dedup();
        assert_eq!(asked.len(), pages.len(), "every page asked for, once");
    }

    #[test]
    fn only_a_token_of_the_authoritys_shape_is_looked_up() {
        assert!(well_formed("Zq3k9Xw2mLp8Rt5Vb1Nc0A"));
        assert!(!well_formed("20261126-1023"), "a ticket id is no token");
        assert!(!well_formed("Zq3k9Xw2mLp8Rt5Vb1Nc0A/../x"));
        assert!(!well_formed("Zq3k9Xw2mLp8Rt5Vb1Nc0Ä"));
    }
}
