//! The service loop: commands in from MQTT, durable writes, publications out.
//!
//! Commands that arrive together are executed one by one (each its own atomic write) and
//! made durable by one `sync` for the group; only then do their replies, events, print
//! jobs and the new board snapshot go out, in order, through the outbox.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qms_bus::{Bus, BusEvent, BusOptions, Topics};
use qms_core::calendar::day_month_year;
use qms_core::config::{Role, SiteConfig};
use qms_core::protocol::{
    BoardCounter, Command, CommandEnvelope, CommandError, CounterDisplay, ErrorCode, Event,
    PrintJob, Reply, TicketState, VERSION,
};
use qms_core::{Actor, Answer, Outcome, QueueState};
use time::{Date, OffsetDateTime};
use tracing::{debug, info, warn};

use crate::store::{Group, Publication, Store, StoreError, Write};

/// Commands taken from the connection before one durable write.
const MAX_GROUP: usize = 256;
/// Publications handed to the broker before acknowledgements are awaited.
const WINDOW: usize = 256;

/// Where the time comes from; tests move it by hand.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(at: OffsetDateTime) -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(at)))
    }

    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().expect("clock lock") = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock lock")
    }
}

pub struct QueueOptions {
    pub config: Arc<SiteConfig>,
    pub store_path: PathBuf,
    pub bus: BusOptions,
    pub clock: Arc<dyn Clock>,
    /// How often the day change is checked when no command comes.
    pub tick: Duration,
    /// Told the `seq` of the last event each time writes become durable (for health checks
    /// and tests).
    pub progress: Option<tokio::sync::watch::Sender<u64>>,
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
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] qms_bus::BusError),
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
    bus_options.subscriptions = vec![topics.all_commands()];
    let (bus, mut events) = Bus::connect(bus_options)?;
    let mut service = Service {
        config: options.config,
        clock: options.clock,
        store,
        state,
        topics,
        outbox: Outbox::new(loaded.outbox),
        progress: options.progress,
        delivered: Vec::new(),
        max_packet: options.bus.max_packet,
        counters_shown: BTreeMap::new(),
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
                service.take(event, &mut commands)?;
                while commands.len() < MAX_GROUP {
                    match events.try_recv() {
                        Ok(event) => service.take(event, &mut commands)?,
                        Err(_) => break,
                    }
                }
                if !commands.is_empty() {
                    service.execute(&commands)?;
                }
            }
            _ = tick.tick() => {
                service.roll_over(false)?;
                service.heartbeat(&bus);
            }
        }
        service.forget_delivered()?;
        service.outbox.pump(&bus);
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
    /// Outbox keys to forget: acknowledged, or superseded before they were sent.
    delivered: Vec<u64>,
    /// The largest packet the connection may send.
    max_packet: usize,
    /// What each counter's own topic says, to publish it only when it changes.
    counters_shown: BTreeMap<u16, BoardCounter>,
}

/// An MQTT PUBLISH's bytes besides its topic and payload: fixed header (at most 5), the
/// topic's length (2) and the packet id (2).
const PACKET_HEADER: usize = 9;

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

impl Service {
    /// Sorts one bus event: commands are collected, the rest handled at once.
    fn take(&mut self, event: BusEvent, commands: &mut Vec<Received>) -> Result<(), StoreError> {
        match event {
            BusEvent::Message { topic, payload } => {
                if let Some(device) = self.topics.device_of(&topic, "cmd") {
                    commands.push(Received {
                        device: device.to_string(),
                        payload,
                    });
                }
            }
            BusEvent::Acked(key) => {
                if self.outbox.acked(key) {
                    self.delivered.push(key);
                }
            }
            BusEvent::Connected | BusEvent::Disconnected { .. } => self.outbox.rewind(),
            // The authority acknowledges automatically.
            BusEvent::Delivery { .. } => {}
        }
        Ok(())
    }

    /// Executes a group of commands with one durable write, then queues what to publish.
    fn execute(&mut self, commands: &[Received]) -> Result<(), StoreError> {
        let now = self.clock.now();
        let seq_before = self.state.seq();
        let mut pending = Pending::default();
        for received in commands {
            self.execute_one(received, now, &mut pending)?;
        }
        if self.state.seq() != seq_before {
            let board = self.board_publications(now);
            self.write_publications(&[], board, &mut pending)?;
        }
        self.commit(pending)
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
            v: VERSION,
            online: true,
            at: Some(self.clock.now()),
        };
        let payload = serde_json::to_vec(&status).expect("status serializes");
        bus.publish(&self.topics.status(bus.device()), payload, true, None);
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
                warn!(device, cause = %error, "bad command payload");
                let reply = Reply::error(id, error);
                let publication = json_publication(reply_topic, &reply);
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
                warn!(device, cause = %error, "command from an unknown device");
                let reply = json_publication(reply_topic, &Reply::error(Some(id.into()), error));
                return self.write_publications(&[], vec![reply], pending);
            }
        };
        let outcome = match command {
            Command::List {
                service,
                state,
                counter,
                day: Some(day),
            } if *day < self.config.site.business_day(now) => Outcome {
                events: Vec::new(),
                answer: self.closed_day_list(*day, service.as_deref(), *state, *counter),
            },
            _ => self.state.execute(&self.config, &actor, command, now),
        };
        let mut publications = Vec::new();
        match &outcome.answer {
            Ok(answer) => publications.extend(self.print_job(&actor, command, answer)),
            Err(error) => debug!(device, id, cause = %error, "command refused"),
        }
        let reply = Answer::reply(id, outcome.answer);
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

    /// The tickets of a closed business day, replayed from the store. A damaged old
    /// record costs that answer, never today's service.
    fn closed_day_list(
        &self,
        day: Date,
        service: Option<&str>,
        state: Option<TicketState>,
        counter: Option<u16>,
    ) -> Result<Answer, CommandError> {
        let events = self.store.day_events(day).map_err(|error| {
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
            service,
            state,
            counter,
        )))
    }

    /// The reply's bytes, or a `too_large` refusal in its place when the reply would not
    /// fit one packet: sent anyway, it would break the connection each time it went out.
    fn reply_that_fits(&self, topic: &str, reply: Reply) -> Vec<u8> {
        let bytes = serde_json::to_vec(&reply).expect("replies serialize");
        let packet = bytes.len() + topic.len() + PACKET_HEADER;
        if packet <= self.max_packet {
            return bytes;
        }
        warn!(topic, bytes = packet, "reply too large for one message");
        let error = CommandError::new(
            ErrorCode::TooLarge,
            "Danh sách quá dài để gửi một lần: hãy lọc theo thủ tục hoặc trạng thái",
            format!(
                "the answer ({packet} bytes) is larger than a message may be ({} bytes): \
                 ask for less, such as one procedure",
                self.max_packet
            ),
        );
        serde_json::to_vec(&Reply::error(reply.id, error)).expect("replies serialize")
    }

    /// The print job for a ticket issued or reprinted at a kiosk that has a printer.
    fn print_job(&self, actor: &Actor, command: &Command, answer: &Answer) -> Option<Publication> {
        let Answer::Ticket {
            ticket,
            ahead,
            wait_minutes,
        } = answer
        else {
            return None;
        };
        if !matches!(command, Command::Issue { .. } | Command::Reprint { .. }) {
            return None;
        }
        let device = self.config.device(&actor.device)?;
        let printer = device
            .printer
            .as_ref()
            .filter(|_| device.role == Role::Kiosk)?;
        let procedure = self.config.procedure(&ticket.service)?;
        let job = PrintJob {
            v: VERSION,
            ticket: ticket.clone(),
            site_name: self.config.site.name.clone(),
            service_vi: procedure.name_vi.clone(),
            service_en: procedure.name_en.clone(),
            ahead: *ahead,
            wait_minutes: *wait_minutes,
        };
        Some(json_publication(self.topics.job(printer), &job))
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
        let all = events
            .iter()
            .map(|e| json_publication(event_topic.clone(), e))
            .chain(publications);
        let outbox: Vec<(u64, Publication)> = all.map(|p| (self.outbox.next_key(), p)).collect();
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
        let now = self.clock.now();
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
        self.commit(pending)
    }
}

fn json_publication<T: serde::Serialize>(topic: String, value: &T) -> Publication {
    Publication {
        topic,
        payload: serde_json::to_vec(value).expect("protocol types serialize"),
        retain: false,
    }
}

/// Durable publications waiting for the broker's acknowledgement, in order.
struct Outbox {
    pending: BTreeMap<u64, Publication>,
    /// Keys below this were handed to the current connection.
    cursor: u64,
    in_flight: usize,
    next_key: u64,
    /// The newest board snapshot not yet sent; an older one is dropped, not sent.
    unsent_board: Option<u64>,
}

impl Outbox {
    fn new(stored: Vec<(u64, Publication)>) -> Outbox {
        let next_key = stored.last().map_or(0, |(k, _)| k + 1);
        Outbox {
            pending: stored.into_iter().collect(),
            cursor: 0,
            in_flight: 0,
            next_key,
            unsent_board: None,
        }
    }

    fn next_key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key - 1
    }

    /// Adds publications that are now durable; returns the keys of board snapshots they
    /// supersede before those were sent.
    fn extend(&mut self, durable: Vec<(u64, Publication)>) -> Vec<u64> {
        let mut superseded = Vec::new();
        for (key, publication) in durable {
            if publication.retain && publication.topic.ends_with("/board") {
                if let Some(old) = self.unsent_board.replace(key) {
                    if old >= self.cursor && self.pending.remove(&old).is_some() {
                        superseded.push(old);
                    }
                }
            }
            self.pending.insert(key, publication);
        }
        superseded
    }

    /// Hands publications to the broker, in order, up to the window.
    fn pump(&mut self, bus: &Bus) {
        let cursor = self.cursor;
        for (key, p) in self.pending.range(cursor..) {
            if self.in_flight >= WINDOW {
                break;
            }
            if !bus.publish(&p.topic, p.payload.clone(), p.retain, Some(*key)) {
                break;
            }
            self.in_flight += 1;
            self.cursor = key + 1;
            if self.unsent_board == Some(*key) {
                self.unsent_board = None;
            }
        }
    }

    /// The broker has it; true if it was still pending.
    fn acked(&mut self, key: u64) -> bool {
        if self.pending.remove(&key).is_some() {
            self.in_flight = self.in_flight.saturating_sub(1);
            true
        } else {
            false
        }
    }

    /// A new connection: everything not acknowledged goes out again, in order.
    fn rewind(&mut self) {
        self.cursor = 0;
        self.in_flight = 0;
    }
}
