//! The HTTP server: the pages compiled into the binary, and the board's state pushed to
//! every page as Server-Sent Events, from one connection to the broker.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use qms_bus::{Bus, BusEvent, BusOptions, Topics};
use qms_core::board::BoardModel;
use qms_core::config::Role;
use qms_core::outstanding::{Due, Outstanding};
use qms_core::protocol::{Board, Command, CommandEnvelope, DeviceStatus, Reply, MAX_FOLLOWED};
use qms_core::SiteConfig;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use crate::api::{self, Question};
use crate::citizen::{self, Ask, Citizens};
use crate::counters::{self, Counters};
use crate::desk::Desks;
use crate::head;
use crate::https::{self, HttpsListener};
use crate::pages;
use crate::session::Sessions;
use crate::view::BoardView;
use crate::voice::{self, Voice};

/// What `qms web` needs to run.
pub struct WebOptions {
    /// The site.
    pub config: Arc<SiteConfig>,
    /// Its own connection to the broker, as the `web` device.
    pub bus: BusOptions,
    /// Where to listen.
    pub listen: SocketAddr,
}

/// The board's state as JSON, the newest for every page.
type Views = watch::Receiver<Arc<str>>;

/// Where the pages are served: plain HTTP, and HTTPS when the site has a certificate.
pub struct Listeners {
    /// Plain HTTP: the board and the citizen's page on the LAN.
    pub http: TcpListener,
    /// HTTPS: signing in from another machine.
    pub https: Option<HttpsListener>,
}

impl From<TcpListener> for Listeners {
    fn from(http: TcpListener) -> Listeners {
        Listeners { http, https: None }
    }
}

/// Serves the pages on `options.listen`, and over HTTPS on `[web] tls_listen` when set,
/// until `shutdown`.
pub async fn run(
    options: WebOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bind = |address: SocketAddr, key: &'static str| async move {
        TcpListener::bind(address).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("qms web cannot listen on {address}: {e} (set [web] {key} in qms.toml)"),
            )
        })
    };
    let http = bind(options.listen, "listen").await?;
    let web = &options.config.web;
    let https = match (&web.tls_listen, &web.tls_cert, &web.tls_key) {
        (Some(address), Some(cert), Some(key)) => {
            let address = address.parse().map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("[web] tls_listen \"{address}\" is not an address to listen on"),
                )
            })?;
            let acceptor = https::acceptor(Path::new(cert), Path::new(key))?;
            Some(HttpsListener {
                listener: bind(address, "tls_listen").await?,
                acceptor,
            })
        }
        _ => None,
    };
    serve(
        Listeners { http, https },
        options.config,
        options.bus,
        shutdown,
    )
    .await
}

/// Serves the pages on listeners already bound (a test binds port 0) until `shutdown`.
pub async fn serve(
    listeners: Listeners,
    config: Arc<SiteConfig>,
    bus: BusOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listeners.http;
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let now = OffsetDateTime::now_utc();
    let mut model = BoardModel::default();
    model.tick(now);
    let first: Arc<str> = json(&BoardView::of(&model, &config, now)).into();
    let (views_tx, views) = watch::channel(first);
    let online = Arc::new(Mutex::new(HashSet::new()));
    let desks = Arc::new(Desks::new(config.clone(), bus.clone()));
    let https_port = match &listeners.https {
        Some(https) => Some(https.listener.local_addr()?.port()),
        None => None,
    };
    let sessions = Arc::new(Sessions::default());
    let counters = Counters {
        config: config.clone(),
        desks: desks.clone(),
        sessions: sessions.clone(),
        online: online.clone(),
        https_port,
    };
    let (citizens, asks) = Citizens::new(config.clone());
    let (authority, questions) = api::Authority::new();
    let alerts = head::Alerts::default();
    let api = api::routes(config.clone(), authority.clone()).merge(head::routes(
        config.clone(),
        sessions,
        authority,
        alerts.clone(),
    ));
    let voice = Voice::new(config.site.dialect);
    let feed = tokio::spawn(feed(
        Feed {
            config,
            views: views_tx,
            online,
            citizens: citizens.clone(),
            voice: voice.clone(),
            alerts,
        },
        bus,
        model,
        (asks, questions),
        stop.clone(),
    ));
    info!(
        address = %listener.local_addr()?,
        "web pages served: /board, /counter/{{n}}, /rating/{{n}}"
    );
    let app = assets()
        .route("/", get(|| async { Redirect::to("/board") }))
        .route("/board", get(|| async { Html(pages::BOARD_HTML) }))
        .route("/board/events", get(board_events))
        .with_state(views)
        .merge(counters::routes(counters))
        .merge(citizen::routes(citizens.clone()))
        .merge(voice::routes(voice))
        .merge(api)
        .fallback(not_found);
    let served_https = listeners
        .https
        .map(|https| tokio::spawn(https::serve(https, app.clone(), stop.clone())));
    let mut stopped = stop;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stopped.wait_for(|stop| *stop).await;
        // Closed desks and tickets end their pages' streams, which the server waits for.
        desks.close_all().await;
        citizens.close_all();
    })
    .await?;
    if let Some(served) = served_https {
        let _ = served.await;
    }
    let _ = feed.await;
    info!("web pages stopped");
    Ok(())
}

/// The scripts and styles every page links to, and the favicon none has.
pub(crate) fn assets<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut app = Router::new();
    for (path, content_type, body) in pages::ASSETS {
        app = app.route(path, get(move || async move { asset(content_type, body) }));
    }
    // Every browser asks for one; the pages have none.
    app.route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

fn json(view: &BoardView) -> String {
    serde_json::to_string(view).expect("a board view serializes")
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(uri: Uri) -> Response {
    // An outsider may ask for anything: not worth a warning each time.
    debug!(path = %uri.path(), "no such page");
    pages::not_found()
}

/// The board's state now, then every change, for as long as the page listens; the
/// browser's `EventSource` reconnects by itself if the stream breaks.
async fn board_events(State(views): State<Views>) -> Response {
    event_stream(views, "board", Some)
}

/// A watched state as Server-Sent Events named `name`: the state now, then each change,
/// as `data` makes it (None ends the stream); the stream ends when the state's sender
/// goes. The browser's `EventSource` reconnects by itself if the stream breaks.
pub(crate) fn event_stream<T: Clone + Send + Sync + 'static>(
    mut states: watch::Receiver<T>,
    name: &'static str,
    data: fn(T) -> Option<Arc<str>>,
) -> Response {
    states.mark_changed();
    let stream = futures_util::stream::unfold(states, move |mut states| async move {
        states.changed().await.ok()?;
        let state = states.borrow_and_update().clone();
        let event = Event::default().event(name).data(&*data(state)?);
        Some((Ok::<_, Infallible>(event), states))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// What the feed hands on.
struct Feed {
    config: Arc<SiteConfig>,
    /// The board page's state.
    views: watch::Sender<Arc<str>>,
    /// Devices online.
    online: Arc<Mutex<HashSet<String>>>,
    /// The tickets the citizens' pages follow.
    citizens: Arc<Citizens>,
    /// The calls the board pages speak.
    voice: Arc<Voice>,
    /// The queue's staff alerts, in words, for the head's page.
    alerts: head::Alerts,
}

/// Reads the board and the statuses from the broker and the clock every second; hands
/// each new view to the pages, and asks the authority for the citizens' tickets each
/// time the board moves. Ends on `stop`, which ends every page's stream.
async fn feed(
    feed: Feed,
    mut options: BusOptions,
    mut model: BoardModel,
    (mut asks, mut questions): (
        mpsc::UnboundedReceiver<Ask>,
        mpsc::UnboundedReceiver<Question>,
    ),
    mut stop: watch::Receiver<bool>,
) {
    let Feed {
        config,
        views,
        online,
        citizens,
        voice,
        alerts,
    } = feed;
    let topics = Topics::new(&config.site.id);
    let device = options.device.clone();
    let (command_topic, reply_topic) = (topics.command(&device), topics.reply(&device));
    options.subscriptions.push(topics.board());
    options.subscriptions.push(topics.all_statuses());
    options.subscriptions.push(topics.alerts());
    options.subscriptions.push(reply_topic.clone());
    let (bus, mut events) = match Bus::connect(options) {
        Ok(connected) => connected,
        Err(e) => {
            warn!(cause = %e, "the web board cannot reach the broker");
            return;
        }
    };
    let send = |envelope: CommandEnvelope| {
        let payload = serde_json::to_vec(&envelope).expect("commands serialize");
        bus.publish(&command_topic, payload, false, None);
    };
    let mut board_seq = None;
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    // The API's questions waiting for their replies, by command id: sent again with the
    // same id as a console's commands are (read-only, answered each time), until the
    // asker stops waiting.
    type Asked = (Outstanding, tokio::sync::oneshot::Sender<Reply>);
    let mut asked: std::collections::HashMap<String, Asked> = std::collections::HashMap::new();
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            _ = clock.tick() => {
                model.tick(OffsetDateTime::now_utc());
                citizens.tick().into_iter().for_each(send);
                let now = OffsetDateTime::now_utc();
                asked.retain(|_, (outstanding, reply)| match outstanding.due(now) {
                    _ if reply.is_closed() => false,
                    Due::Wait => true,
                    Due::Resend(envelope) => {
                        send(envelope);
                        true
                    }
                    Due::GiveUp => false,
                });
            }
            question = questions.recv() => {
                let Some((command, reply)) = question else { break };
                let envelope = CommandEnvelope::new(uuid::Uuid::new_v4().to_string(), command);
                let outstanding = Outstanding::sent(envelope.clone(), OffsetDateTime::now_utc());
                asked.insert(envelope.id.clone(), (outstanding, reply));
                send(envelope);
            }
            ask = asks.recv() => {
                let Some(first) = ask else { break };
                // Pages opening together are found with one command, not one each.
                let mut tokens = Vec::new();
                let mut next = Some(first);
                while let Some(ask) = next.take() {
                    match ask {
                        Ask::Follow(token) => tokens.push(token),
                        Ask::Rate(ticket, rating) => send(CommandEnvelope::new(
                            uuid::Uuid::new_v4().to_string(),
                            Command::Rate { ticket, rating },
                        )),
                    }
                    if tokens.len() < MAX_FOLLOWED {
                        next = asks.try_recv().ok();
                    }
                }
                if !tokens.is_empty() {
                    citizens.follow_new(tokens).into_iter().for_each(send);
                }
            }
            event = events.recv() => {
                let Some(event) = event else { break };
                let now = OffsetDateTime::now_utc();
                match event {
                    BusEvent::Connected => {
                        model.connected(true);
                        citizens.follow_all().into_iter().for_each(send);
                    }
                    BusEvent::Disconnected { .. } => model.connected(false),
                    BusEvent::Message { topic, payload } if topic == topics.board() => {
                        match serde_json::from_slice::<Board>(&payload) {
                            Ok(board) => {
                                if board_seq.is_none_or(|seq| board.seq > seq) {
                                    board_seq = Some(board.seq);
                                    citizens.follow_all().into_iter().for_each(send);
                                }
                                voice.record(model.snapshot(board, now));
                            }
                            Err(e) => warn!(cause = %e, "unreadable board snapshot ignored"),
                        }
                    }
                    BusEvent::Message { topic, payload } if topic == topics.alerts() => {
                        alerts.published(&payload);
                    }
                    BusEvent::Message { topic, payload } if topic == reply_topic => {
                        if let Some(reply) = qms_bus::parse::<Reply>(&topic, &payload) {
                            match reply.id.as_ref().and_then(|id| asked.remove(id)) {
                                Some((_, question)) => {
                                    let _ = question.send(reply);
                                }
                                None => citizens.answer(&reply).into_iter().for_each(send),
                            }
                        }
                    }
                    BusEvent::Message { topic, payload } => {
                        if let Some(device) = topics.device_of(&topic, "status") {
                            let mut online = online.lock().expect("online lock");
                            if DeviceStatus::says_online(&payload) {
                                online.insert(device.to_string());
                            } else {
                                online.remove(device);
                            }
                            drop(online);
                            let printer = config.device(device).is_some_and(|d| d.role == Role::Printer);
                            model.device_status(device, printer, &payload, now);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut view = BoardView::of(&model, &config, OffsetDateTime::now_utc());
        view.voice = voice.calls();
        let view: Arc<str> = json(&view).into();
        views.send_if_modified(|shown| {
            let changed = **shown != *view;
            if changed {
                *shown = view;
            }
            changed
        });
    }
    bus.close().await;
}
