//! A counter's devices for browsers. While someone is signed in at counter N's console
//! or rating screen, the server holds one broker connection as that device (`counter-3`,
//! `rating-3`), with the password the officer typed, runs the model the Slint window
//! runs, and pushes its screen to every page signed in there. The broker's ACL and the
//! authority see that device and give it that device's rights, no more.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use qms_bus::{parse, Bus, BusEvent, BusOptions, Topics};
use qms_core::config::Role;
use qms_core::console::{Action, ConsoleModel};
use qms_core::protocol::{CommandEnvelope, Event, Rating, Reply};
use qms_core::rating::RatingModel;
use qms_core::SiteConfig;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tracing::info;

use crate::session::same_secret;

/// No device password is longer (`qms broker setup` makes 24 characters); a longer one is
/// refused here rather than sent to the broker in a CONNECT it may not take.
pub const MAX_PASSWORD: usize = 256;

/// How long signing in waits for the broker to take the device's password.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(5);

/// Which of a counter's screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The officer's console, `/counter/3`.
    Console,
    /// The rating screen facing the citizen, `/rating/3`.
    Rating,
}

impl Kind {
    /// The device role behind it.
    pub fn role(self) -> Role {
        match self {
            Kind::Console => Role::Counter,
            Kind::Rating => Role::Rating,
        }
    }

    /// Its address's first part: `counter`, `rating`.
    pub fn path(self) -> &'static str {
        match self {
            Kind::Console => "counter",
            Kind::Rating => "rating",
        }
    }
}

/// Why signing in did not work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    /// The site has no such device.
    NoSuchDevice,
    /// The broker refused the password (or it is not the one the device signed in with).
    WrongPassword,
    /// Another program (a Slint window) is that device now.
    InUse,
    /// The broker did not answer.
    Unreachable(String),
}

/// What a page asks of a desk: a press, answered by whether a command went out.
struct Press {
    body: serde_json::Value,
    answer: oneshot::Sender<Result<bool, String>>,
}

struct Desk {
    presses: mpsc::Sender<Press>,
    task: tokio::task::JoinHandle<()>,
    screens: watch::Receiver<Arc<str>>,
    /// The password the device signed in with: another browser must know it too.
    password: String,
}

impl Desk {
    /// Ends its task, which closes its connection (its status then says offline).
    async fn stop(self) {
        drop(self.presses);
        let _ = self.task.await;
    }
}

/// The desks open now, by device.
pub struct Desks {
    config: Arc<SiteConfig>,
    /// The server's own options: the broker's address and TLS.
    base: BusOptions,
    open: Mutex<HashMap<String, Desk>>,
}

impl Desks {
    /// No desk yet; `base` is the server's own connection's options.
    pub fn new(config: Arc<SiteConfig>, base: BusOptions) -> Desks {
        Desks {
            config,
            base,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The broker asks devices for passwords: signing in needs the device's.
    pub fn passwords_needed(&self) -> bool {
        self.base.credentials.is_some()
    }

    /// Signs in at counter `counter`'s `kind` screen with `password`; `in_use` says the
    /// device's retained status shows it online elsewhere. The device's id on success.
    pub async fn sign_in(
        &self,
        kind: Kind,
        counter: u16,
        password: &str,
        in_use: bool,
    ) -> Result<String, SignInError> {
        let device = self
            .config
            .counter_device(counter, kind.role())
            .ok_or(SignInError::NoSuchDevice)?
            .id
            .clone();
        if password.len() > MAX_PASSWORD {
            return Err(SignInError::WrongPassword);
        }
        let mut open = self.open.lock().await;
        if let Some(desk) = open.get(&device) {
            if !same_secret(password.as_bytes(), desk.password.as_bytes()) {
                return Err(SignInError::WrongPassword);
            }
            return Ok(device);
        }
        if in_use {
            return Err(SignInError::InUse);
        }
        let topics = Topics::new(&self.config.site.id);
        let mut options = self.base.clone();
        options.device = device.clone();
        options.announce = true;
        options.credentials = self
            .passwords_needed()
            .then(|| (device.clone(), password.to_string()));
        if let Some(tls) = &mut options.tls {
            // The server's own certificate would name it, not the counter.
            tls.client = None;
        }
        options.subscriptions = match kind {
            Kind::Console => vec![topics.board(), topics.all_statuses(), topics.alerts()],
            Kind::Rating => vec![topics.events()],
        };
        options.subscriptions.push(topics.reply(&device));
        let (bus, mut events) =
            Bus::connect(options).map_err(|e| SignInError::Unreachable(e.to_string()))?;
        // Retained messages may come before the last subscription is acknowledged: they
        // are kept for the screen.
        let mut early = Vec::new();
        let answer = tokio::time::timeout(SIGN_IN_WAIT, async {
            loop {
                match events.recv().await {
                    Some(BusEvent::Connected) => return Ok(()),
                    Some(BusEvent::Disconnected { refused: true, .. }) => {
                        return Err(SignInError::WrongPassword)
                    }
                    Some(BusEvent::Disconnected { reason, .. }) => {
                        return Err(SignInError::Unreachable(reason))
                    }
                    Some(message @ BusEvent::Message { .. }) => early.push(message),
                    Some(_) => {}
                    None => return Err(SignInError::Unreachable("closed".into())),
                }
            }
        })
        .await
        .unwrap_or_else(|_| Err(SignInError::Unreachable("no answer".into())));
        if let Err(refused) = answer {
            bus.close().await;
            return Err(refused);
        }
        let now = OffsetDateTime::now_utc();
        let screen: Box<dyn Screen> = match kind {
            Kind::Console => Box::new(ConsoleModel::new(self.config.clone(), counter, now)),
            Kind::Rating => Box::new(RatingScreen {
                model: RatingModel::new(counter, now),
                office: self.config.site.name.clone(),
                counter: self.config.counter_name(counter),
            }),
        };
        let (screens_tx, screens) = watch::channel(Arc::from(screen.view()));
        let (presses, presses_rx) = mpsc::channel(16);
        let task = tokio::spawn(serve_desk(
            bus, early, events, screen, presses_rx, screens_tx,
        ));
        info!(%device, "signed in from a browser");
        open.insert(
            device.clone(),
            Desk {
                presses,
                task,
                screens,
                password: password.to_string(),
            },
        );
        Ok(device)
    }

    /// The screens of `device`'s desk, now and as they change.
    pub async fn screens(&self, device: &str) -> Option<watch::Receiver<Arc<str>>> {
        let open = self.open.lock().await;
        open.get(device).map(|d| d.screens.clone())
    }

    /// A press on `device`'s screen: Ok(true) when a command went out, Ok(false) when
    /// the press was dropped (another waits, or the screen it was made on is old),
    /// Err with the reason when it makes no sense.
    pub async fn press(&self, device: &str, body: serde_json::Value) -> Result<bool, String> {
        let presses = {
            let open = self.open.lock().await;
            let desk = open.get(device).ok_or("không có phiên làm việc")?;
            desk.presses.clone()
        };
        let (answer, answered) = oneshot::channel();
        presses
            .send(Press { body, answer })
            .await
            .map_err(|_| "phiên làm việc đã đóng".to_string())?;
        answered
            .await
            .map_err(|_| "phiên làm việc đã đóng".to_string())?
    }

    /// Closes `device`'s desk: its broker connection ends, freeing the device for a
    /// window or another server.
    pub async fn close(&self, device: &str) {
        let desk = self.open.lock().await.remove(device);
        if let Some(desk) = desk {
            desk.stop().await;
        }
    }

    /// Closes every desk (the server stops).
    pub async fn close_all(&self) {
        let desks: Vec<Desk> = self.open.lock().await.drain().map(|(_, d)| d).collect();
        for desk in desks {
            desk.stop().await;
        }
    }

    /// Whether `device` is a desk of this server.
    pub async fn is_open(&self, device: &str) -> bool {
        self.open.lock().await.contains_key(device)
    }
}

/// A model behind a desk, as the desk's loop drives it.
trait Screen: Send {
    /// The broker connection came or went.
    fn connected(&mut self, connected: bool) -> Vec<CommandEnvelope>;
    /// A message on a subscribed topic.
    fn message(&mut self, topics: &Topics, topic: &str, payload: &[u8]) -> Vec<CommandEnvelope>;
    /// A page's press; Err when it makes no sense.
    fn press(&mut self, body: serde_json::Value) -> Result<Vec<CommandEnvelope>, String>;
    /// The clock.
    fn tick(&mut self, now: OffsetDateTime) -> Vec<CommandEnvelope>;
    /// What the pages draw, as JSON.
    fn view(&self) -> String;
}

/// A console press: the action and the screen's turn it was made on.
#[derive(serde::Deserialize)]
struct ConsolePress {
    turn: u64,
    #[serde(flatten)]
    action: Action,
}

impl Screen for ConsoleModel {
    fn connected(&mut self, connected: bool) -> Vec<CommandEnvelope> {
        ConsoleModel::connected(self, connected)
            .into_iter()
            .collect()
    }

    fn message(&mut self, topics: &Topics, topic: &str, payload: &[u8]) -> Vec<CommandEnvelope> {
        let sent = if topic == topics.board() {
            parse(topic, payload).and_then(|board| self.board(&board))
        } else if let Some(device) = topics.device_of(topic, "status") {
            self.device_status(device, payload);
            None
        } else if topic == topics.alerts() {
            self.queue_alerts(payload);
            None
        } else {
            parse::<Reply>(topic, payload).and_then(|reply| self.reply(reply))
        };
        sent.into_iter().collect()
    }

    fn press(&mut self, body: serde_json::Value) -> Result<Vec<CommandEnvelope>, String> {
        let press: ConsolePress = serde_json::from_value(body).map_err(|e| e.to_string())?;
        Ok(self.act_on(press.turn, press.action).into_iter().collect())
    }

    fn tick(&mut self, now: OffsetDateTime) -> Vec<CommandEnvelope> {
        ConsoleModel::tick(self, now)
    }

    fn view(&self) -> String {
        serde_json::to_string(&self.screen()).expect("a console screen serializes")
    }
}

/// The rating screen's model with the names it shows.
struct RatingScreen {
    model: RatingModel,
    office: String,
    counter: String,
}

/// What the rating page draws.
#[derive(Serialize)]
struct RatingView<'a> {
    screen: qms_core::rating::Screen,
    label: Option<&'a str>,
    office: &'a str,
    counter: &'a str,
}

/// A tap on a face.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingPress {
    rating: Rating,
}

impl Screen for RatingScreen {
    fn connected(&mut self, _: bool) -> Vec<CommandEnvelope> {
        Vec::new()
    }

    fn message(&mut self, topics: &Topics, topic: &str, payload: &[u8]) -> Vec<CommandEnvelope> {
        if topic == topics.events() {
            if let Some(event) = parse::<Event>(topic, payload) {
                self.model.event(&event.kind);
            }
        } else if let Some(reply) = parse::<Reply>(topic, payload) {
            self.model.reply(&reply);
        }
        Vec::new()
    }

    fn press(&mut self, body: serde_json::Value) -> Result<Vec<CommandEnvelope>, String> {
        let press: RatingPress = serde_json::from_value(body).map_err(|e| e.to_string())?;
        Ok(self.model.tap(press.rating).into_iter().collect())
    }

    fn tick(&mut self, now: OffsetDateTime) -> Vec<CommandEnvelope> {
        self.model.tick(now).into_iter().collect()
    }

    fn view(&self) -> String {
        let view = RatingView {
            screen: self.model.screen,
            label: self.model.label(),
            office: &self.office,
            counter: &self.counter,
        };
        serde_json::to_string(&view).expect("a rating view serializes")
    }
}

/// Runs a desk until every sender of presses is gone (signed out, or the server stops).
async fn serve_desk(
    bus: Bus,
    early: Vec<BusEvent>,
    mut events: mpsc::Receiver<BusEvent>,
    mut screen: Box<dyn Screen>,
    mut presses: mpsc::Receiver<Press>,
    screens: watch::Sender<Arc<str>>,
) {
    let topics = bus.topics().clone();
    let command_topic = topics.command(bus.device());
    let mut clock = tokio::time::interval(Duration::from_millis(250));
    let mut out = screen.connected(true);
    for event in early {
        if let BusEvent::Message { topic, payload } = event {
            out.extend(screen.message(&topics, &topic, &payload));
        }
    }
    loop {
        for command in out.drain(..) {
            let payload = serde_json::to_vec(&command).expect("commands serialize");
            bus.publish(&command_topic, payload, false, None);
        }
        let view = screen.view();
        screens.send_if_modified(|shown| {
            let changed = **shown != *view;
            if changed {
                *shown = view.into();
            }
            changed
        });
        tokio::select! {
            press = presses.recv() => {
                let Some(press) = press else { break };
                let answer = screen.press(press.body).map(|sent| {
                    let went = !sent.is_empty();
                    out = sent;
                    went
                });
                let _ = press.answer.send(answer);
            }
            _ = clock.tick() => out = screen.tick(OffsetDateTime::now_utc()),
            event = events.recv() => match event {
                None => break,
                Some(BusEvent::Connected) => out = screen.connected(true),
                Some(BusEvent::Disconnected { .. }) => out = screen.connected(false),
                Some(BusEvent::Message { topic, payload }) => {
                    out = screen.message(&topics, &topic, &payload);
                }
                Some(_) => {}
            },
        }
    }
    info!(device = %bus.device(), "browser desk closed");
    bus.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_overlong_password_is_wrong_without_asking_the_broker() {
        let config = Arc::new(SiteConfig::default_site());
        // Nothing listens there: an answer at all shows the broker was not asked.
        let mut base = BusOptions::for_device(&config, "web").unwrap();
        base.address = "127.0.0.1:9".into();
        base.credentials = Some(("web".into(), "x".repeat(24)));
        let desks = Desks::new(config, base);
        let long = "x".repeat(MAX_PASSWORD + 1);
        assert_eq!(
            desks.sign_in(Kind::Console, 3, &long, false).await,
            Err(SignInError::WrongPassword)
        );
        assert_eq!(
            desks.sign_in(Kind::Console, 99, "", false).await,
            Err(SignInError::NoSuchDevice)
        );
    }
}
