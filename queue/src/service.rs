//! The service loop: commands in from MQTT, durable writes, publications out.
//!
//! Commands that arrive together are executed one by one (each its own atomic write) and
//! made durable by one `sync` for the group; only then are they acknowledged to the
//! broker (so one the authority never wrote is delivered again) and do their replies,
//! events, print jobs and the new board snapshot go out, in order, through the
//! [`Outbox`](crate::outbox::Outbox).
//!
//! The authority keeps a persistent session: commands sent while it restarts wait at the
//! broker. A command the broker replays from its retained store is never executed. The
//! business day and the time of events only move forward, whatever the system clock does.
//! It refuses to start while another authority is connected to its broker.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qms_bus::{packet_size, Bus, BusEvent, BusOptions, Topics};
use qms_core::calendar::day_month_year;
use qms_core::config::{Role, SiteConfig};
use qms_core::protocol::{
    bounded, BoardCounter, Command, CommandEnvelope, CommandError, CounterDisplay, DeviceStatus,
    ErrorCode, Event, EventKind, PrintJob, Reply, TicketState, VERSION,
};
use qms_core::{Actor, Answer, Outcome, QueueState};
use time::{Date, OffsetDateTime};
use tracing::{debug, error, info, warn};

use crate::archive::Archive;
use crate::follow::FollowTokens;
use crate::lookup::{Ask, Lookup};
use crate::outbox::{Outbox, SetAside};
use crate::store::{Group, Publication, Store, StoreError, Write};

/// Commands taken from the connection before one durable write.
const MAX_GROUP: usize = 256;

/// Where the time comes from; tests move it by hand.
pub trait Clock: Send + Sync + 'static {
    /// The time now.
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock that shows `at` until set.
    pub fn new(at: OffsetDateTime) -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(at)))
    }

    /// Sets the time shown.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("clock lock") = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock lock")
    }
}

/// What the authority needs to run.
pub struct QueueOptions {
    /// The site.
    pub config: Arc<SiteConfig>,
    /// The database folder.
    pub store_path: PathBuf,
    /// Its connection to the broker.
    pub bus: BusOptions,
    /// Where it reads the time.
    pub clock: Arc<dyn Clock>,
    /// How often the day change is checked when no command comes.
    pub tick: Duration,
    /// Told the `seq` of the last event each time writes become durable (for health checks
    /// and tests).
    pub progress: Option<tokio::sync::watch::Sender<u64>>,
    /// How long to watch for another authority on the broker before serving; zero skips
    /// the check (an embedded broker this process has just started has nobody else).
    pub alone_check: Duration,
}

impl QueueOptions {
    /// The authority of a site: device `queue` at `broker_address` (no credentials; see
    /// [`BusOptions::for_device`]), the system clock.
    pub fn new(config: Arc<SiteConfig>, broker_address: &str) -> QueueOptions {
        let bus = BusOptions::new("queue", &config.site.id, broker_address);
        QueueOptions {
            store_path: PathBuf::from(&config.store.path),
            config,
            bus,
            clock: Arc::new(SystemClock),
            tick: Duration::from_secs(10),
            progress: None,
            alone_check: ALONE_CHECK,
        }
    }
}

/// The default [`QueueOptions::alone_check`]: several reconnections of another authority.
pub const ALONE_CHECK: Duration = Duration::from_millis(1500);

#[derive(Debug, thiserror::Error)]
/// Why the authority stopped.
pub enum QueueError {
    #[error(transparent)]
    /// The store failed.
    Store(#[from] StoreError),
    #[error(transparent)]
    /// The broker cannot be reached as configured.
    Bus(#[from] qms_bus::BusError),
    #[error(
        "another queue authority is connected to the broker at {0} as \"queue\": an office \
         has one authority. Stop the other one first (or, for a second office, give it a \
         broker of its own)"
    )]
    /// Another authority serves the site.
    AnotherAuthority(String),
}

/// Runs the authority on a thread of its own, with a runtime of its own, until the
/// process ends: for a window and its tests, which keep the main thread.
pub fn run_on_thread(options: QueueOptions) -> std::thread::JoinHandle<Result<(), QueueError>> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime can be built")
            .block_on(run(options, std::future::pending()))
    })
}

/// Runs the authority until `shutdown` completes or the store fails.
pub async fn run(
    options: QueueOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), QueueError> {
    let store = Store::open(&options.store_path)?;
    let loaded = store.load()?;
    let state = QueueState::replayed(&loaded.events);
    info!(
        path = %options.store_path.display(),
        events = loaded.events.len(),
        unsent = loaded.outbox.len(),
        seq = state.seq(),
        "queue state loaded"
    );
    let mut bus_options = options.bus.clone();
    let topics = Topics::new(&options.config.site.id);
    // Devices' retained statuses say which counters have someone at them.
    bus_options.subscriptions = vec![topics.all_commands(), topics.all_statuses()];
    // Commands wait at the broker while the authority is away, and one is acknowledged
    // only once its write is durable.
    bus_options.persistent_session = true;
    bus_options.manual_acks = true;
    if !options.alone_check.is_zero() {
        ensure_alone(&bus_options, options.alone_check).await?;
    }
    let follow = FollowTokens::new(&store.follow_secret()?);
    let archive = Archive::open(&options.store_path.join("archive")).map_err(StoreError::from)?;
    let (answered_to, mut answered) = tokio::sync::mpsc::unbounded_channel();
    let lookups = crate::lookup::start(options.config.clone(), archive.clone(), answered_to);
    let (bus, mut events) = Bus::connect(bus_options)?;
    let mut service = Service {
        config: options.config,
        clock: options.clock,
        store,
        state,
        topics,
        outbox: Outbox::new(loaded.outbox, options.bus.max_packet),
        progress: options.progress,
        delivered: Vec::new(),
        counters_shown: BTreeMap::new(),
        connection: 0,
        to_ack: Vec::new(),
        clock_behind: None,
        junk_log: LogLimit::default(),
        staffing_changed: false,
        follow,
        archive,
        lookups,
        asked: Vec::new(),
        archived_before: None,
        alerts: None,
        alerts_raised: std::collections::HashSet::new(),
    };
    // Catch up with a day change while stopped, and refresh the retained board.
    service.roll_over(true)?;

    let mut tick = tokio::time::interval(options.tick);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            event = events.recv() => {
                let Some(event) = event else { break };
                let mut commands = Vec::new();
                let mut reconnected = service.take(event, &bus, &mut commands);
                while commands.len() < MAX_GROUP {
                    match events.try_recv() {
                        Ok(event) => reconnected |= service.take(event, &bus, &mut commands),
                        Err(_) => break,
                    }
                }
                if !commands.is_empty() {
                    service.execute(&commands)?;
                }
                if reconnected {
                    // A broker that restarted may have lost the retained state, or kept
                    // an older one.
                    service.roll_over(true)?;
                    service.alerts = None;
                }
                service.refresh_board()?;
                service.check_alerts()?;
                service.ack_executed(&bus);
            }
            _ = tick.tick() => {
                service.roll_over(false)?;
                service.check_alerts()?;
                service.heartbeat(&bus);
            }
            Some((device, reply)) = answered.recv() => service.looked_up(&device, reply)?,
        }
        service.forget_delivered()?;
        service.pump(&bus);
    }
    bus.close().await;
    Ok(())
}

/// Watches the broker for `window` as `queue` without serving: another authority connected
/// there takes the connection back at once, again and again. Nothing is acknowledged, so
/// every command delivered meanwhile goes to whichever authority serves.
async fn ensure_alone(options: &BusOptions, window: Duration) -> Result<(), QueueError> {
    let mut probe = options.clone();
    probe.announce = false;
    probe.reconnect_delay = window / 4;
    let (bus, mut events) = Bus::connect(probe)?;
    let deadline = tokio::time::Instant::now() + window;
    let (mut up, mut taken_back) = (false, 0);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        match event {
            BusEvent::Connected => up = true,
            BusEvent::Disconnected { .. } if up => {
                up = false;
                taken_back += 1;
                if taken_back >= 2 {
                    bus.close().await;
                    return Err(QueueError::AnotherAuthority(options.address.clone()));
                }
            }
            _ => {}
        }
    }
    bus.close().await;
    Ok(())
}

struct Service {
    config: Arc<SiteConfig>,
    clock: Arc<dyn Clock>,
    store: Store,
    state: QueueState,
    topics: Topics,
    outbox: Outbox,
    progress: Option<tokio::sync::watch::Sender<u64>>,
    /// Outbox keys to forget: acknowledged, superseded before they were sent, or set aside.
    delivered: Vec<u64>,
    /// What each counter's own topic says, to publish it only when it changes.
    counters_shown: BTreeMap<u16, BoardCounter>,
    /// Counts lost connections: a packet id belongs to the connection that delivered it.
    connection: u64,
    /// Deliveries to acknowledge once what they asked is durable: (connection, packet id).
    to_ack: Vec<(u64, u16)>,
    /// How far the system clock was behind the last event, when it last was.
    clock_behind: Option<time::Duration>,
    junk_log: LogLimit,
    /// A counter's device came or went since the board was last published.
    staffing_changed: bool,
    /// The citizens' page tokens.
    follow: FollowTokens,
    /// The closed days.
    archive: Archive,
    /// Reports and dossier searches, answered off this loop.
    lookups: std::sync::mpsc::Sender<Lookup>,
    /// Lookups asked in the group being executed.
    asked: Vec<Lookup>,
    /// The day whose closed days before it were last archived.
    archived_before: Option<Date>,
    /// The staff alerts last published; none until published on this connection.
    alerts: Option<Vec<qms_core::alerts::QueueAlert>>,
    /// The keys of the alerts standing that went on the event stream.
    alerts_raised: std::collections::HashSet<String>,
}

/// Writes not yet durable, and what they will publish once they are.
#[derive(Default)]
struct Pending {
    group: Group,
    publications: Vec<(u64, Publication)>,
}

/// A command as received: the sending device and the raw payload.
struct Received {
    device: String,
    payload: Vec<u8>,
}

/// Bounds what outsiders can make the authority write to its log: a few lines a minute,
/// then one line saying how many more were left out.
#[derive(Default)]
struct LogLimit {
    window_start: Option<Instant>,
    written: u32,
    left_out: u64,
}

impl LogLimit {
    const LINES: u32 = 10;
    const WINDOW: Duration = Duration::from_secs(60);

    /// Whether to write one more line now.
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let fresh = self
            .window_start
            .is_none_or(|start| now.duration_since(start) >= Self::WINDOW);
        if fresh {
            if self.left_out > 0 {
                warn!(
                    left_out = self.left_out,
                    "more bad commands were not logged"
                );
            }
            *self = LogLimit {
                window_start: Some(now),
                ..LogLimit::default()
            };
        }
        if self.written < Self::LINES {
            self.written += 1;
            true
        } else {
            self.left_out += 1;
            false
        }
    }
}

impl Service {
    /// Sorts one bus event: commands are collected, the rest handled at once. True on a
    /// new connection.
    fn take(&mut self, event: BusEvent, bus: &Bus, commands: &mut Vec<Received>) -> bool {
        match event {
            BusEvent::Delivery {
                topic,
                payload,
                pkid,
                ..
            } if self.topics.device_of(&topic, "status").is_some() => {
                self.to_ack.push((self.connection, pkid));
                self.device_status(&topic, &payload);
                false
            }
            BusEvent::Delivery {
                topic,
                payload,
                pkid,
                retained,
            } => {
                let device = self.topics.device_of(&topic, "cmd").map(str::to_string);
                match device {
                    // An empty payload is how a retained message is cleared: nothing to do.
                    Some(_) if payload.is_empty() => {}
                    Some(device) if retained => {
                        if self.junk_log.allow() {
                            warn!(%device, bytes = payload.len(), "a retained command is never executed; cleared");
                        }
                        // Replayed to every new subscription until cleared.
                        bus.publish(&topic, Vec::new(), true, None);
                    }
                    Some(device) => {
                        commands.push(Received { device, payload });
                    }
                    None => {}
                }
                self.to_ack.push((self.connection, pkid));
                false
            }
            BusEvent::Message { topic, payload } => {
                self.device_status(&topic, &payload);
                false
            }
            BusEvent::Acked(key) => {
                if self.outbox.acked(key) {
                    self.delivered.push(key);
                }
                false
            }
            BusEvent::Connected => {
                // Not a new count: deliveries of a persistent session may come before the
                // subscriptions are acknowledged, and belong to this connection.
                self.outbox.connected();
                true
            }
            BusEvent::Disconnected { .. } => {
                self.connection += 1;
                self.outbox.connection_lost();
                false
            }
        }
    }

    /// A counter device's retained status: whether someone is at that counter, for the
    /// open counters and the wait estimates.
    fn device_status(&mut self, topic: &str, payload: &[u8]) {
        let Some(device) = self.topics.device_of(topic, "status") else {
            return;
        };
        if !self
            .config
            .device(device)
            .is_some_and(|d| d.role == Role::Counter)
        {
            return;
        }
        let online = DeviceStatus::says_online(payload);
        self.staffing_changed |= self.state.device_online(device, online);
    }

    /// The board again, after something outside the events changed it.
    fn refresh_board(&mut self) -> Result<(), StoreError> {
        if !std::mem::take(&mut self.staffing_changed) {
            return Ok(());
        }
        let now = self.now();
        let mut pending = Pending::default();
        let board = self.board_publications(now);
        self.write_publications(&[], board, &mut pending)?;
        self.commit(pending)
    }

    /// Acknowledges the deliveries of this connection that are now durable (or were
    /// nothing to execute); those of a lost connection are delivered again.
    fn ack_executed(&mut self, bus: &Bus) {
        for (connection, pkid) in self.to_ack.drain(..) {
            if connection == self.connection {
                bus.ack(pkid);
            }
        }
    }

    /// The time for what happens now: never before the last event, so the business day
    /// only moves forward and no duration comes out negative when the clock is set back.
    fn now(&mut self) -> OffsetDateTime {
        let wall = self.clock.now();
        match self.state.last_event_at() {
            Some(last) if wall < last => {
                let behind = last - wall;
                if self.clock_behind.is_none() {
                    warn!(
                        clock = %wall,
                        last_event = %last,
                        "the system clock is behind the last recorded event: keeping the \
                         queue's time and business day until it catches up"
                    );
                }
                self.clock_behind = Some(behind);
                last
            }
            _ => {
                if self.clock_behind.take().is_some() {
                    info!("the system clock caught up with the queue");
                }
                wall
            }
        }
    }

    /// Executes a group of commands with one durable write, then queues what to publish.
    fn execute(&mut self, commands: &[Received]) -> Result<(), StoreError> {
        let now = self.now();
        let seq_before = self.state.seq();
        let mut pending = Pending::default();
        for received in commands {
            self.execute_one(received, now, &mut pending)?;
        }
        if self.state.seq() != seq_before {
            let board = self.board_publications(now);
            self.write_publications(&[], board, &mut pending)?;
        }
        self.commit(pending)?;
        // A command may have closed the day: the lookups asked with it read the archive.
        self.archive_closed_days()?;
        for lookup in self.asked.drain(..) {
            if self.lookups.send(lookup).is_err() {
                error!("the lookup thread is gone: a report goes unanswered");
            }
        }
        Ok(())
    }

    /// Makes the writes durable; what they publish may now go out.
    fn commit(&mut self, mut pending: Pending) -> Result<(), StoreError> {
        self.store
            .remove_outbox_in(&mut pending.group, &self.delivered);
        self.delivered.clear();
        self.store.commit(pending.group)?;
        if let Some(progress) = &self.progress {
            progress.send_replace(self.state.seq());
        }
        let superseded = self.outbox.extend(pending.publications);
        self.delivered.extend(superseded);
        Ok(())
    }

    /// Tells displays the authority is alive, so that silence means trouble. Not kept in
    /// the outbox: a missed heartbeat is replaced by the next one.
    fn heartbeat(&self, bus: &Bus) {
        let status = qms_core::protocol::DeviceStatus {
            at: Some(self.clock.now()),
            clock_behind_seconds: self.clock_behind.map(|d| d.whole_seconds()),
            set_aside: Some(self.outbox.set_aside_total()).filter(|&n| n > 0),
            ..qms_core::protocol::DeviceStatus::online(true)
        };
        let payload = serde_json::to_vec(&status).expect("status serializes");
        bus.publish(&self.topics.status(bus.device()), payload, true, None);
    }

    /// Hands the outbox's entries to the connection, in order, as far as it takes them.
    fn pump(&mut self, bus: &Bus) {
        while let Some((key, p)) = self.outbox.sendable() {
            if !bus.publish(&p.topic, p.payload.clone(), p.retain, Some(key)) {
                break;
            }
            self.outbox.handed_over(key);
        }
        for (key, publication, why) in self.outbox.take_set_aside() {
            let topic = publication.topic.as_str();
            match why {
                SetAside::TooLarge { bytes } => error!(
                    key,
                    topic,
                    bytes,
                    limit = self.outbox.max_packet(),
                    "a publication too large for one message is set aside, not sent"
                ),
                SetAside::BreaksTheConnection { times } => error!(
                    key,
                    topic,
                    bytes = publication.payload.len(),
                    times,
                    "a publication the broker refuses (the connection was lost each time it \
                     was sent) is set aside, not sent: check the broker's max_packet_size"
                ),
            }
            self.delivered.push(key);
        }
    }

    fn forget_delivered(&mut self) -> Result<(), StoreError> {
        if !self.delivered.is_empty() {
            self.store.remove_outbox(&self.delivered)?;
            self.delivered.clear();
        }
        Ok(())
    }

    fn execute_one(
        &mut self,
        received: &Received,
        now: OffsetDateTime,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        let device = received.device.as_str();
        let reply_topic = self.topics.reply(device);
        let envelope = match CommandEnvelope::parse(&received.payload) {
            Ok(envelope) => envelope,
            Err((id, error)) => {
                if self.junk_log.allow() {
                    warn!(device = %bounded(device), cause = %error, "bad command payload");
                }
                let reply = self.reply_that_fits(&reply_topic, Reply::error(id, error));
                let publication = Publication {
                    topic: reply_topic,
                    payload: reply,
                    retain: false,
                };
                return self.write_publications(&[], vec![publication], pending);
            }
        };
        let id = envelope.id.as_str();
        let command = &envelope.command;
        if command.is_write() {
            if let Some(stored) = self.store.reply(&pending.group, device, id)? {
                debug!(device, id, "retried command: the first reply again");
                let publication = Publication {
                    topic: reply_topic,
                    payload: stored,
                    retain: false,
                };
                return self.write_publications(&[], vec![publication], pending);
            }
        }
        let actor = match Actor::of(&self.config, device) {
            Ok(actor) => actor,
            Err(error) => {
                if self.junk_log.allow() {
                    warn!(device = %bounded(device), cause = %error, "command from an unknown device");
                }
                let reply = json_publication(reply_topic, &Reply::error(Some(id.into()), error));
                return self.write_publications(&[], vec![reply], pending);
            }
        };
        let outcome = match command {
            Command::List {
                procedure,
                state,
                counter,
                day: Some(day),
            } if *day < self.config.site.business_day(now) => Outcome {
                events: Vec::new(),
                answer: self.closed_day_list(*day, procedure.as_deref(), *state, *counter),
            },
            Command::Follow { tokens } => {
                // The state checks who may ask and how much; the tokens are found here.
                let mut outcome = self.state.execute(&self.config, &actor, command, now);
                if outcome.answer.is_ok() {
                    let found = self.follow.follow(&self.state, &self.config, tokens);
                    outcome.answer = Ok(Answer::Followed(found));
                }
                outcome
            }
            Command::Report { .. } | Command::FindDossier { .. } => {
                // The state checks who may ask and what; the archive answers.
                let outcome = self.state.execute(&self.config, &actor, command, now);
                if let Ok(answer) = &outcome.answer {
                    self.look_up(device, id, command, answer);
                    return self.write(&outcome.events, Vec::new(), None, pending);
                }
                outcome
            }
            _ => self.state.execute(&self.config, &actor, command, now),
        };
        let mut publications = Vec::new();
        match &outcome.answer {
            Ok(answer) => publications.extend(self.print_job(&actor, id, command, answer)),
            Err(error) => debug!(device, id, cause = %error, "command refused"),
        }
        let mut reply = Answer::reply(id, outcome.answer);
        if let (Command::Issue { .. }, Some(ticket)) = (command, &reply.ticket) {
            reply.follow_url = self.follow_url(&ticket.id);
        }
        let reply_bytes = self.reply_that_fits(&reply_topic, reply);
        publications.push(Publication {
            topic: reply_topic,
            payload: reply_bytes.clone(),
            retain: false,
        });
        let stored_reply = command
            .is_write()
            .then_some((device, id, reply_bytes.as_slice()));
        self.write(&outcome.events, publications, stored_reply, pending)
    }

    /// Readies a report or a dossier search for the lookup thread, with today's part; it
    /// goes once the group's writes are durable and closed days archived.
    fn look_up(&mut self, device: &str, id: &str, command: &Command, answer: &Answer) {
        let ask = match (command, answer) {
            (Command::Report { from, to }, _) => {
                let today = self
                    .state
                    .day()
                    .filter(|day| (from..=to).contains(&day))
                    .map(|day| qms_core::report::DayRecord::of_state(day, &self.state));
                Ask::Report {
                    from: *from,
                    to: *to,
                    today,
                }
            }
            (Command::FindDossier { dossier }, Answer::Tickets(today)) => Ask::Dossier {
                dossier: dossier.clone(),
                today: today.clone(),
            },
            _ => return,
        };
        let lookup = Lookup {
            device: device.to_string(),
            id: id.to_string(),
            ask,
        };
        self.asked.push(lookup);
    }

    /// A lookup's answer goes out like any reply.
    fn looked_up(&mut self, device: &str, reply: Reply) -> Result<(), StoreError> {
        let topic = self.topics.reply(device);
        let payload = self.reply_that_fits(&topic, reply);
        let mut pending = Pending::default();
        let reply = Publication {
            topic,
            payload,
            retain: false,
        };
        self.write_publications(&[], vec![reply], &mut pending)?;
        self.commit(pending)
    }

    /// Publishes the staff alerts when they changed, retained; a new one also goes on the
    /// event stream, once.
    fn check_alerts(&mut self) -> Result<(), StoreError> {
        // Against the day the clock is in: a day that ended is closed first, or its
        // waiting tickets would alert as waiting since yesterday.
        self.roll_over(false)?;
        let now = self.now();
        let alerts = self.state.queue_alerts(&self.config, now);
        if self.alerts.as_ref() == Some(&alerts) {
            return Ok(());
        }
        let new: Vec<_> = alerts
            .iter()
            .filter(|a| !self.alerts_raised.contains(&a.key()))
            .cloned()
            .collect();
        self.alerts_raised = alerts.iter().map(|a| a.key()).collect();
        let events = self.state.raise(new, now);
        let published = qms_core::alerts::QueueAlerts {
            v: VERSION,
            at: now,
            alerts: alerts
                .iter()
                .map(|alert| qms_core::alerts::WordedAlert {
                    alert: alert.clone(),
                    text: alert.words(&self.config),
                })
                .collect(),
        };
        let mut publication = json_publication(self.topics.alerts(), &published);
        publication.retain = true;
        let mut pending = Pending::default();
        self.write_publications(&events, vec![publication], &mut pending)?;
        self.alerts = Some(alerts);
        self.commit(pending)
    }

    /// Moves the closed days still in the store to the archive.
    fn archive_closed_days(&mut self) -> Result<(), StoreError> {
        let Some(today) = self.state.day() else {
            return Ok(());
        };
        if self.archived_before == Some(today) {
            return Ok(());
        }
        for day in self.store.closed_days(today)? {
            let events = self.store.day_events(day)?;
            self.archive.write_day(day, &events)?;
            self.store.forget_day(day)?;
            info!(%day, events = events.len(), "closed day archived");
        }
        self.archived_before = Some(today);
        Ok(())
    }

    /// The tickets of a closed business day, replayed from the store. A damaged old
    /// record costs that answer, never today's service.
    fn closed_day_list(
        &self,
        day: Date,
        procedure: Option<&str>,
        state: Option<TicketState>,
        counter: Option<u16>,
    ) -> Result<Answer, CommandError> {
        let archived = |day| -> Result<Vec<Event>, StoreError> {
            let events = self.store.day_events(day)?;
            if !events.is_empty() {
                return Ok(events);
            }
            Ok(self.archive.events(day)?.unwrap_or_default())
        };
        let events = archived(day).map_err(|error| {
            warn!(%day, cause = %error, "a closed day cannot be read back");
            CommandError::new(
                ErrorCode::Internal,
                format!("Không đọc được dữ liệu ngày {}", day_month_year(day)),
                format!("the records of {day} cannot be read: {error}"),
            )
        })?;
        let closed = QueueState::replayed(&events);
        Ok(Answer::Tickets(closed.list(
            &self.config,
            procedure,
            state,
            counter,
        )))
    }

    /// The reply's bytes, or a `too_large` refusal in its place when the reply would not
    /// fit one packet: sent anyway, it would break the connection each time it went out.
    fn reply_that_fits(&self, topic: &str, reply: Reply) -> Vec<u8> {
        let bytes = serde_json::to_vec(&reply).expect("replies serialize");
        let packet = packet_size(topic, &bytes);
        if packet <= self.outbox.max_packet() {
            return bytes;
        }
        warn!(topic, bytes = packet, "reply too large for one message");
        let error = CommandError::new(
            ErrorCode::TooLarge,
            "Danh sách quá dài để gửi một lần: hãy lọc theo thủ tục hoặc trạng thái",
            format!(
                "the answer ({packet} bytes) is larger than a message may be ({} bytes): \
                 ask for less, such as one procedure",
                self.outbox.max_packet()
            ),
        );
        serde_json::to_vec(&Reply::error(reply.id, error)).expect("replies serialize")
    }

    /// The print job for a ticket issued or reprinted: on a kiosk's own printer, else on
    /// the printer the command names, else (a reprint) on the printer of the kiosk that
    /// issued the ticket.
    fn print_job(
        &self,
        actor: &Actor,
        id: &str,
        command: &Command,
        answer: &Answer,
    ) -> Option<Publication> {
        let Answer::Ticket {
            ticket,
            ahead,
            wait_minutes,
        } = answer
        else {
            return None;
        };
        let kiosk_printer = |device: &str| {
            self.config
                .device(device)
                .filter(|d| d.role == Role::Kiosk)
                .and_then(|d| d.printer.clone())
        };
        let (named, job, english) = match command {
            Command::Issue {
                printer, english, ..
            } => (printer, ticket.id.clone(), *english),
            Command::Reprint { printer, .. } => (
                printer,
                format!("{}/reprint/{}/{id}", ticket.id, actor.device),
                false,
            ),
            _ => return None,
        };
        let printer = kiosk_printer(&actor.device)
            .or_else(|| named.clone())
            .or_else(|| kiosk_printer(&ticket.issued_by))?;
        let procedure = self.config.procedure(&ticket.procedure)?;
        let job = PrintJob {
            v: VERSION,
            job,
            ticket: ticket.clone(),
            site_name: self.config.site.name.clone(),
            procedure_vi: procedure.name_vi.clone(),
            procedure_en: procedure.name_en.clone(),
            english,
            ahead: *ahead,
            wait_minutes: *wait_minutes,
            follow_url: self.follow_url(&ticket.id),
        };
        Some(json_publication(self.topics.job(&printer), &job))
    }

    /// `events`, each issued ticket with the key the city finds its page by.
    fn with_page_keys(&self, events: &[Event]) -> Vec<Event> {
        let mut events = events.to_vec();
        for event in &mut events {
            if let EventKind::Issued { ticket, page } = &mut event.kind {
                *page = Some(qms_core::citizen::page_key(
                    &self.follow.token_of(&ticket.id),
                ));
            }
        }
        events
    }

    /// The address of ticket `id`'s page, when the site says where phones reach it.
    fn follow_url(&self, id: &str) -> Option<String> {
        let public_url = self.config.web.public_url.as_deref()?;
        Some(self.follow.url_of(public_url, id))
    }

    /// The board snapshot, and each counter's own topic where it changed, all retained.
    fn board_publications(&mut self, now: OffsetDateTime) -> Vec<Publication> {
        let board = self.state.board(&self.config, now);
        let mut publications = vec![json_publication(self.topics.board(), &board)];
        for counter in board.counters {
            if self.counters_shown.get(&counter.number) == Some(&counter) {
                continue;
            }
            let topic = self.topics.counter(counter.number);
            let display = CounterDisplay {
                v: VERSION,
                seq: board.seq,
                counter: counter.clone(),
            };
            publications.push(json_publication(topic, &display));
            self.counters_shown.insert(counter.number, counter);
        }
        for publication in &mut publications {
            publication.retain = true;
        }
        publications
    }

    fn write_publications(
        &mut self,
        events: &[Event],
        publications: Vec<Publication>,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        self.write(events, publications, None, pending)
    }

    /// One command's writes: events, their publications (events first), and the reply.
    fn write(
        &mut self,
        events: &[Event],
        publications: Vec<Publication>,
        reply: Option<(&str, &str, &[u8])>,
        pending: &mut Pending,
    ) -> Result<(), StoreError> {
        let event_topic = self.topics.events();
        let events = &self.with_page_keys(events);
        let all = events
            .iter()
            .map(|e| json_publication(event_topic.clone(), e))
            .chain(publications);
        // Stored, one that cannot be sent would only be set aside later.
        let max_packet = self.outbox.max_packet();
        let outbox: Vec<(u64, Publication)> = all
            .filter(|p| {
                let fits = packet_size(&p.topic, &p.payload) <= max_packet;
                if !fits {
                    error!(topic = %p.topic, bytes = p.payload.len(), "a publication too large for one message is not sent");
                }
                fits
            })
            .map(|p| (self.outbox.next_key(), p))
            .collect();
        self.store.add(
            &mut pending.group,
            Write {
                events,
                outbox: outbox.clone(),
                reply,
            },
        )?;
        pending.publications.extend(outbox);
        Ok(())
    }

    /// Applies a day change if there is one; `always` also refreshes the board.
    fn roll_over(&mut self, always: bool) -> Result<(), StoreError> {
        let now = self.now();
        if always {
            // Every counter's topic too: the broker may have none of them.
            self.counters_shown.clear();
        }
        let events = self.state.roll_over(&self.config, now);
        if events.is_empty() && !always {
            return Ok(());
        }
        if !events.is_empty() {
            info!(day = ?self.state.day(), "business day opened");
        }
        let mut pending = Pending::default();
        let board = self.board_publications(now);
        self.write_publications(&events, board, &mut pending)?;
        self.commit(pending)?;
        self.archive_closed_days()
    }
}

fn json_publication<T: serde::Serialize>(topic: String, value: &T) -> Publication {
    Publication {
        topic,
        payload: serde_json::to_vec(value).expect("protocol types serialize"),
        retain: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_junk_writes_a_few_log_lines_a_minute_not_one_per_command() {
        let mut limit = LogLimit::default();
        let written = (0..10_000).filter(|_| limit.allow()).count();
        assert_eq!(written, LogLimit::LINES as usize);
        assert_eq!(limit.left_out, 10_000 - u64::from(LogLimit::LINES));
        // A new minute starts a new allowance.
        limit.window_start = Some(Instant::now() - LogLimit::WINDOW);
        assert!(limit.allow());
        assert_eq!(limit.left_out, 0);
    }
}
