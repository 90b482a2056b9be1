//! The queue state machine: a command and the time in, events and an answer out.
//!
//! State changes only by applying events ([`QueueState::apply`]), so replaying the stored
//! events of a day rebuilds exactly the state that served it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use time::{Date, OffsetDateTime};

use crate::alerts::QueueAlert;
use crate::config::{Role, SiteConfig};
use crate::protocol::{
    Board, BoardCall, BoardCounter, BoardWaiting, Command, CommandError, CounterStatus, ErrorCode,
    Event, EventKind, Followed, PriorityReason, Reply, Ticket, TicketState, MAX_FOLLOWED,
    MAX_REPORT_DAYS, VERSION,
};

/// Calls kept for the board.
const RECENT_CALLS: usize = 8;
/// Service times kept per procedure for the rolling estimate.
const SERVICE_SAMPLES: usize = 20;
/// Services a procedure needs before one can be unusual.
pub const UNUSUAL_SAMPLES: usize = 5;
/// How long an unusual service that finished stays an alert.
pub const UNUSUAL_RECENT: time::Duration = time::Duration::minutes(15);

/// Who sent a command: the device and what its configuration allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The device's id.
    pub device: String,
    /// What the device is.
    pub role: Role,
    /// The counter it belongs to, if any.
    pub counter: Option<u16>,
}

impl Actor {
    /// The actor for a device id, from the site configuration.
    pub fn of(config: &SiteConfig, device: &str) -> Result<Actor, CommandError> {
        let d = config.device(device).ok_or_else(|| {
            CommandError::new(
                ErrorCode::UnknownDevice,
                format!("Thiết bị \"{device}\" chưa được khai báo"),
                format!("device \"{device}\" is not in the site configuration"),
            )
        })?;
        Ok(Actor {
            device: d.id.clone(),
            role: d.role,
            counter: d.counter,
        })
    }
}

/// What a successful command answers.
#[derive(Debug, Clone, PartialEq)]
// One per command, moved once into its reply: a box would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    /// The ticket the command issued or called.
    Ticket {
        /// The ticket.
        ticket: Ticket,
        /// People waiting before it.
        ahead: u32,
        /// The estimated wait, in minutes.
        wait_minutes: Option<u32>,
    },
    /// The tickets a `list` asked for.
    Tickets(Vec<Ticket>),
    /// The tickets a `follow` found.
    Followed(Vec<Followed>),
    /// Carried out; nothing to answer but that.
    Done,
}

impl Answer {
    /// The reply to command `id` that got this answer, or was refused with an error.
    pub fn reply(id: &str, answer: Result<Answer, CommandError>) -> Reply {
        let mut reply = Reply::ok(id.to_string());
        match answer {
            Ok(Answer::Ticket {
                ticket,
                ahead,
                wait_minutes,
            }) => {
                reply.ticket = Some(ticket);
                reply.ahead = Some(ahead);
                reply.wait_minutes = wait_minutes;
            }
            Ok(Answer::Tickets(list)) => reply.tickets = Some(list),
            Ok(Answer::Followed(list)) => reply.followed = Some(list),
            Ok(Answer::Done) => {}
            Err(error) => reply = Reply::error(Some(id.to_string()), error),
        }
        reply
    }
}

/// The result of one command: the events to store and publish (also when the command
/// was refused, since a day change may have happened first), and the answer.
#[derive(Debug)]
pub struct Outcome {
    /// The events to store and publish, in order.
    pub events: Vec<Event>,
    /// The answer, or why the command was refused.
    pub answer: Result<Answer, CommandError>,
}

#[derive(Debug, Clone, Default)]
struct CounterState {
    paused: bool,
    /// Since when it is paused.
    paused_at: Option<OffsetDateTime>,
    /// The officer signed in there.
    officer: Option<String>,
    serving: Option<String>,
    /// Normal tickets called since the last priority one.
    normal_since_priority: u32,
}

/// Waiting tickets of one line, by place in line.
#[derive(Debug, Clone, Default)]
struct Line {
    normal: BTreeSet<(u64, String)>,
    priority: BTreeSet<(u64, String)>,
}

impl Line {
    fn set(&mut self, priority: bool) -> &mut BTreeSet<(u64, String)> {
        if priority {
            &mut self.priority
        } else {
            &mut self.normal
        }
    }
}

/// The whole queue of one business day.
#[derive(Debug, Clone, Default)]
pub struct QueueState {
    day: Option<Date>,
    seq: u64,
    tickets: BTreeMap<String, Ticket>,
    issued: BTreeMap<String, u32>,
    /// Waiting tickets per procedure.
    lines: BTreeMap<String, Line>,
    /// Waiting tickets transferred to one counter.
    counter_lines: BTreeMap<u16, Line>,
    counters: BTreeMap<u16, CounterState>,
    calls: VecDeque<BoardCall>,
    service_seconds: BTreeMap<String, VecDeque<u32>>,
    /// When the last event happened: time as the queue has seen it never goes back.
    last_at: Option<OffsetDateTime>,
    /// Devices whose retained status says they are online: not an event, what the
    /// broker says now. A counter is open only while one of its devices is.
    online: BTreeSet<String>,
    /// Today's tickets refused at the kiosk.
    refused: Vec<crate::report::Refusal>,
    /// Wrong PINs per counter, to stop guessing: not an event, forgotten at a restart.
    pin_failures: BTreeMap<u16, PinFailures>,
}

/// Wrong PINs typed at one counter lately.
#[derive(Debug, Clone, Copy)]
struct PinFailures {
    count: u32,
    first_at: OffsetDateTime,
}

/// Wrong PINs a counter may type within [`PIN_LOCKOUT`] before it must wait.
const PIN_TRIES: u32 = 5;
/// How long a counter waits after [`PIN_TRIES`] wrong PINs.
const PIN_LOCKOUT: time::Duration = time::Duration::minutes(5);

fn refuse(code: ErrorCode, vi: impl Into<String>, en: impl Into<String>) -> CommandError {
    CommandError::new(code, vi, en)
}

impl QueueState {
    /// The sequence number of the last applied event.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The business day open, if any.
    pub fn day(&self) -> Option<Date> {
        self.day
    }

    /// When the last event happened.
    pub fn last_event_at(&self) -> Option<OffsetDateTime> {
        self.last_at
    }

    /// Today's ticket with id `id`.
    pub fn ticket(&self, id: &str) -> Option<&Ticket> {
        self.tickets.get(id)
    }

    /// Today's tickets, by id.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }

    /// Today's tickets refused at the kiosk.
    pub fn refused(&self) -> &[crate::report::Refusal] {
        &self.refused
    }

    /// The officer signed in at `counter`.
    pub fn officer_at(&self, counter: u16) -> Option<&str> {
        self.counters.get(&counter)?.officer.as_deref()
    }

    /// A device's retained status said online or not; whether that changed anything.
    pub fn device_online(&mut self, device: &str, online: bool) -> bool {
        if online {
            self.online.insert(device.to_string())
        } else {
            self.online.remove(device)
        }
    }

    /// The state the events leave, applied in order to an empty one.
    pub fn replayed<'e>(events: impl IntoIterator<Item = &'e Event>) -> QueueState {
        let mut state = QueueState::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    /// Applies a stored or freshly made event.
    pub fn apply(&mut self, event: &Event) {
        self.seq = event.seq;
        let at = event.at;
        self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
        match &event.kind {
            EventKind::DayOpened { day } => {
                self.day = Some(*day);
                self.tickets.clear();
                self.refused.clear();
                self.issued.clear();
                self.lines.clear();
                self.counter_lines.clear();
                self.calls.clear();
                for c in self.counters.values_mut() {
                    *c = CounterState {
                        normal_since_priority: u32::MAX,
                        ..CounterState::default()
                    };
                }
            }
            EventKind::Issued { ticket, .. } => {
                *self.issued.entry(ticket.procedure.clone()).or_default() += 1;
                self.tickets.insert(ticket.id.clone(), ticket.clone());
                self.enqueue(&ticket.id);
            }
            EventKind::Called {
                ticket,
                counter,
                officer,
                ..
            } => {
                self.dequeue(ticket);
                let t = self.tickets.get_mut(ticket).expect("called ticket exists");
                t.state = TicketState::Called;
                t.counter = Some(*counter);
                t.officer.clone_from(officer);
                t.target_counter = None;
                t.called_at = Some(at);
                let priority = t.priority.is_some();
                let call = call_of(t, *counter, at, 0);
                let c = self.counter_mut(*counter);
                c.serving = Some(ticket.clone());
                c.paused = false;
                c.paused_at = None;
                c.normal_since_priority = if priority {
                    0
                } else {
                    c.normal_since_priority.saturating_add(1)
                };
                self.push_call(call);
            }
            EventKind::Recalled {
                ticket, counter, ..
            } => {
                let t = self
                    .tickets
                    .get_mut(ticket)
                    .expect("recalled ticket exists");
                t.recalls += 1;
                let call = call_of(t, *counter, at, t.recalls);
                self.push_call(call);
            }
            EventKind::NoShow { ticket, counter } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::NoShow;
                }
                self.counter_mut(*counter).serving = None;
            }
            EventKind::Reactivated { ticket } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::Waiting;
                    t.counter = None;
                }
                self.enqueue(ticket);
            }
            EventKind::Transferred {
                ticket,
                procedure,
                counter,
            } => {
                self.release(ticket);
                let t = self
                    .tickets
                    .get_mut(ticket)
                    .expect("transferred ticket exists");
                t.state = TicketState::Waiting;
                if t.procedure != *procedure && t.issued_for.is_none() {
                    t.issued_for = Some(t.procedure.clone());
                }
                t.procedure = procedure.clone();
                t.target_counter = *counter;
                t.counter = None;
                self.enqueue(ticket);
            }
            EventKind::Completed {
                ticket,
                counter,
                service_seconds,
                officer,
                dossier,
            } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.state = TicketState::Completed;
                    t.completed_at = Some(at);
                    if officer.is_some() {
                        t.officer.clone_from(officer);
                    }
                    t.dossier.clone_from(dossier);
                    let samples = self.service_seconds.entry(t.procedure.clone()).or_default();
                    samples.push_back(*service_seconds);
                    if samples.len() > SERVICE_SAMPLES {
                        samples.pop_front();
                    }
                }
                self.counter_mut(*counter).serving = None;
            }
            EventKind::CounterPaused { counter } => {
                let c = self.counter_mut(*counter);
                c.paused = true;
                c.paused_at = Some(at);
            }
            EventKind::CounterResumed { counter } => {
                let c = self.counter_mut(*counter);
                c.paused = false;
                c.paused_at = None;
            }
            EventKind::OfficerSignedIn { counter, officer } => {
                self.counter_mut(*counter).officer = Some(officer.clone());
            }
            EventKind::OfficerSignedOut { counter, .. } => {
                self.counter_mut(*counter).officer = None;
            }
            EventKind::Alert { .. } => {}
            EventKind::IssueRefused { procedure, code } => {
                self.refused.push(crate::report::Refusal {
                    at,
                    procedure: procedure.clone(),
                    code: *code,
                });
            }
            EventKind::Rated { ticket, rating, .. } => {
                if let Some(t) = self.tickets.get_mut(ticket) {
                    t.rating = Some(*rating);
                }
            }
            EventKind::DayClosed { expired, .. } => {
                for id in expired {
                    self.release(id);
                    self.dequeue(id);
                    if let Some(t) = self.tickets.get_mut(id) {
                        t.state = TicketState::Expired;
                    }
                }
            }
        }
    }

    fn counter_mut(&mut self, number: u16) -> &mut CounterState {
        self.counters.entry(number).or_insert_with(|| CounterState {
            normal_since_priority: u32::MAX,
            ..CounterState::default()
        })
    }

    /// A call goes to the top of the recent calls; an earlier call of the same ticket goes.
    fn push_call(&mut self, call: BoardCall) {
        self.calls.retain(|c| c.ticket != call.ticket);
        self.calls.push_front(call);
        self.calls.truncate(RECENT_CALLS);
    }

    /// Frees the counter serving `ticket`, if any.
    fn release(&mut self, ticket: &str) {
        for c in self.counters.values_mut() {
            if c.serving.as_deref() == Some(ticket) {
                c.serving = None;
            }
        }
    }

    fn line_of(&mut self, t: &Ticket) -> &mut Line {
        match t.target_counter {
            Some(c) => self.counter_lines.entry(c).or_default(),
            None => self.lines.entry(t.procedure.clone()).or_default(),
        }
    }

    fn enqueue(&mut self, id: &str) {
        if let Some(t) = self.tickets.get(id).cloned() {
            self.line_of(&t)
                .set(t.priority.is_some())
                .insert((t.queue_key, t.id));
        }
    }

    fn dequeue(&mut self, id: &str) {
        if let Some(t) = self.tickets.get(id).cloned() {
            self.line_of(&t)
                .set(t.priority.is_some())
                .remove(&(t.queue_key, t.id));
        }
    }

    /// Turns event kinds into numbered events and applies them.
    fn record(&mut self, kinds: Vec<EventKind>, at: OffsetDateTime, out: &mut Vec<Event>) {
        for kind in kinds {
            let event = Event {
                v: VERSION,
                seq: self.seq + 1,
                at,
                kind,
            };
            self.apply(&event);
            out.push(event);
        }
    }

    /// Closes the previous business day and opens today's, when a later day has come.
    /// The day only moves forward: a clock set back never re-opens a closed day.
    pub fn roll_over(&mut self, config: &SiteConfig, now: OffsetDateTime) -> Vec<Event> {
        let today = config.site.business_day(now);
        let mut kinds = Vec::new();
        if let Some(day) = self.day {
            if day >= today {
                return Vec::new();
            }
            let expired = self
                .tickets
                .values()
                .filter(|t| matches!(t.state, TicketState::Waiting | TicketState::Called))
                .map(|t| t.id.clone())
                .collect();
            kinds.push(EventKind::DayClosed { day, expired });
        }
        kinds.push(EventKind::DayOpened { day: today });
        let mut events = Vec::new();
        self.record(kinds, now, &mut events);
        events
    }

    /// Executes one command from `actor` at `now`.
    pub fn execute(
        &mut self,
        config: &SiteConfig,
        actor: &Actor,
        command: &Command,
        now: OffsetDateTime,
    ) -> Outcome {
        let mut events = self.roll_over(config, now);
        if let Command::SignIn { .. } = command {
            if let Some(locked) = self.pin_locked(actor, now) {
                return Outcome {
                    events,
                    answer: Err(locked),
                };
            }
        }
        let answer = match self.decide(config, actor, command, now) {
            Ok((kinds, answer)) => {
                self.record(kinds, now, &mut events);
                Ok(answer(self, config))
            }
            Err(error) => {
                self.record_refusal(command, actor, &error, now, &mut events);
                Err(error)
            }
        };
        Outcome { events, answer }
    }

    /// What a refusal leaves: a kiosk's ticket refused for the quota or the hours is
    /// recorded as demand not met; a wrong PIN counts towards the counter's lockout.
    fn record_refusal(
        &mut self,
        command: &Command,
        actor: &Actor,
        error: &CommandError,
        now: OffsetDateTime,
        events: &mut Vec<Event>,
    ) {
        match command {
            Command::Issue { procedure, .. }
                if actor.role == Role::Kiosk
                    && matches!(
                        error.code,
                        ErrorCode::QuotaReached
                            | ErrorCode::OutsideHours
                            | ErrorCode::ProcedureClosed
                    ) =>
            {
                let kind = EventKind::IssueRefused {
                    procedure: procedure.clone(),
                    code: error.code,
                };
                self.record(vec![kind], now, events);
            }
            Command::SignIn { counter, .. } if error.code == ErrorCode::Forbidden => {
                if let Some(counter) = actor.counter.or(*counter) {
                    let failures = self.pin_failures.entry(counter).or_insert(PinFailures {
                        count: 0,
                        first_at: now,
                    });
                    if now - failures.first_at >= PIN_LOCKOUT {
                        *failures = PinFailures {
                            count: 0,
                            first_at: now,
                        };
                    }
                    failures.count += 1;
                }
            }
            _ => {}
        }
    }

    /// The refusal of a sign-in at a counter that typed too many wrong PINs lately.
    fn pin_locked(&self, actor: &Actor, now: OffsetDateTime) -> Option<CommandError> {
        let failures = self.pin_failures.get(&actor.counter?)?;
        let left = PIN_LOCKOUT - (now - failures.first_at);
        (failures.count >= PIN_TRIES && left.is_positive()).then(|| {
            let minutes = (left.whole_seconds() + 59) / 60;
            refuse(
                ErrorCode::Forbidden,
                format!("Nhập sai PIN quá {PIN_TRIES} lần: thử lại sau {minutes} phút"),
                format!("{PIN_TRIES} wrong PINs at this counter: try again in {minutes} min"),
            )
        })
    }

    /// Checks a command against the state; returns the events it makes and how to answer
    /// once they are applied.
    #[allow(clippy::type_complexity)]
    fn decide(
        &self,
        config: &SiteConfig,
        actor: &Actor,
        command: &Command,
        now: OffsetDateTime,
    ) -> Result<
        (
            Vec<EventKind>,
            Box<dyn FnOnce(&QueueState, &SiteConfig) -> Answer>,
        ),
        CommandError,
    > {
        authorize(actor, command)?;
        let done = || -> Box<dyn FnOnce(&QueueState, &SiteConfig) -> Answer> {
            Box::new(|_, _| Answer::Done)
        };
        let show = |id: String| -> Box<dyn FnOnce(&QueueState, &SiteConfig) -> Answer> {
            Box::new(move |s: &QueueState, c: &SiteConfig| s.answer_ticket(c, &id))
        };
        match command {
            Command::Issue {
                procedure,
                priority,
                printer,
                ..
            } => {
                known_printer(config, printer.as_deref())?;
                let ticket = self.new_ticket(config, actor, procedure, *priority, now)?;
                let id = ticket.id.clone();
                Ok((vec![EventKind::Issued { ticket, page: None }], show(id)))
            }
            Command::CallNext { counter, dossier } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                let mut kinds = self.finish_serving(counter, now, dossier.as_deref())?;
                let next = self.next_for(config, counter).ok_or_else(|| {
                    refuse(
                        ErrorCode::NobodyWaiting,
                        "Không có công dân nào đang chờ",
                        "nobody is waiting for this counter",
                    )
                })?;
                let label = self.tickets[&next].label.clone();
                kinds.push(EventKind::Called {
                    ticket: next.clone(),
                    label,
                    counter,
                    officer: self.officer_at(counter).map(str::to_string),
                });
                Ok((kinds, show(next)))
            }
            Command::Call { ticket, counter } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                let t = self.today_ticket(ticket)?;
                if t.state != TicketState::Waiting {
                    return Err(self.wrong_state(t));
                }
                if !self.eligible(config, counter, t) {
                    return Err(refuse(
                        ErrorCode::Forbidden,
                        format!("Quầy {counter} không phục vụ số {}", t.label),
                        format!("counter {counter} does not serve ticket {}", t.label),
                    ));
                }
                let mut kinds = self.finish_serving(counter, now, None)?;
                kinds.push(EventKind::Called {
                    ticket: t.id.clone(),
                    label: t.label.clone(),
                    counter,
                    officer: self.officer_at(counter).map(str::to_string),
                });
                Ok((kinds, show(t.id.clone())))
            }
            Command::Recall { counter } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                let t = self.serving(counter)?;
                Ok((
                    vec![EventKind::Recalled {
                        ticket: t.id.clone(),
                        label: t.label.clone(),
                        counter,
                    }],
                    show(t.id.clone()),
                ))
            }
            Command::NoShow { counter } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                let t = self.serving(counter)?;
                Ok((
                    vec![EventKind::NoShow {
                        ticket: t.id.clone(),
                        counter,
                    }],
                    show(t.id.clone()),
                ))
            }
            Command::Reactivate { ticket, counter } => {
                self.staffed_counter(config, actor, *counter)?;
                let t = self.today_ticket(ticket)?;
                if t.state != TicketState::NoShow {
                    return Err(self.wrong_state(t));
                }
                Ok((
                    vec![EventKind::Reactivated {
                        ticket: t.id.clone(),
                    }],
                    show(t.id.clone()),
                ))
            }
            Command::Transfer {
                counter,
                to_procedure,
                to_counter,
            } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                let t = self.serving(counter)?;
                if to_procedure.is_none() && to_counter.is_none() {
                    return Err(refuse(
                        ErrorCode::BadRequest,
                        "Cần chọn thủ tục hoặc quầy để chuyển",
                        "transfer needs to_service or to_counter",
                    ));
                }
                let procedure = match to_procedure {
                    Some(s) => self.known_procedure(config, s)?.id.clone(),
                    None => t.procedure.clone(),
                };
                if let Some(target) = to_counter {
                    let c = known_counter(config, *target)?;
                    if !c.procedures.contains(&procedure) {
                        return Err(refuse(
                            ErrorCode::InvalidState,
                            format!("{} không phục vụ thủ tục này", c.name),
                            format!("counter {target} does not serve \"{procedure}\""),
                        ));
                    }
                }
                Ok((
                    vec![EventKind::Transferred {
                        ticket: t.id.clone(),
                        procedure,
                        counter: *to_counter,
                    }],
                    show(t.id.clone()),
                ))
            }
            Command::Complete { counter, dossier } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                let t = self.serving(counter)?;
                let id = t.id.clone();
                Ok((
                    self.finish_serving(counter, now, dossier.as_deref())?,
                    show(id),
                ))
            }
            Command::SignIn {
                counter,
                officer,
                pin,
            } => {
                let counter = self.acting_counter(config, actor, *counter)?;
                let known = config
                    .officer(officer)
                    .filter(|o| o.pin_hash.matches(pin))
                    .ok_or_else(|| {
                        refuse(
                            ErrorCode::Forbidden,
                            "Mã cán bộ hoặc PIN không đúng",
                            "unknown officer or wrong PIN",
                        )
                    })?;
                let mut kinds = Vec::new();
                if self.officer_at(counter) == Some(known.id.as_str()) {
                    return Ok((kinds, done()));
                }
                for (&number, c) in &self.counters {
                    let Some(there) = &c.officer else { continue };
                    if number == counter || *there == known.id {
                        kinds.push(EventKind::OfficerSignedOut {
                            counter: number,
                            officer: there.clone(),
                        });
                    }
                }
                kinds.push(EventKind::OfficerSignedIn {
                    counter,
                    officer: known.id.clone(),
                });
                Ok((kinds, done()))
            }
            Command::SignOut { counter } => {
                let counter = self.acting_counter(config, actor, *counter)?;
                let officer = self.officer_at(counter).ok_or_else(|| {
                    refuse(
                        ErrorCode::InvalidState,
                        "Chưa có cán bộ nào đăng nhập tại quầy",
                        "nobody is signed in at this counter",
                    )
                })?;
                Ok((
                    vec![EventKind::OfficerSignedOut {
                        counter,
                        officer: officer.to_string(),
                    }],
                    done(),
                ))
            }
            Command::Report { from, to } => {
                if from > to || (*to - *from).whole_days() >= MAX_REPORT_DAYS {
                    return Err(refuse(
                        ErrorCode::BadRequest,
                        format!("Khoảng thời gian báo cáo không hợp lệ: tối đa {MAX_REPORT_DAYS} ngày"),
                        format!(
                            "a report covers 1 to {MAX_REPORT_DAYS} days, from <= to; asked {from} to {to}"
                        ),
                    ));
                }
                // The closed days are in the authority's store: its service answers.
                Ok((Vec::new(), done()))
            }
            Command::FindDossier { dossier } => {
                if let Some(problem) = crate::protocol::dossier_problem(dossier) {
                    return Err(problem);
                }
                // Other days are in the authority's store: its service adds theirs.
                let dossier = dossier.clone();
                Ok((
                    Vec::new(),
                    Box::new(move |s: &QueueState, _: &SiteConfig| {
                        Answer::Tickets(
                            s.tickets
                                .values()
                                .filter(|t| t.dossier.as_deref() == Some(dossier.as_str()))
                                .cloned()
                                .collect(),
                        )
                    }),
                ))
            }
            Command::Pause { counter } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                Ok((vec![EventKind::CounterPaused { counter }], done()))
            }
            Command::Resume { counter } => {
                let counter = self.staffed_counter(config, actor, *counter)?;
                Ok((vec![EventKind::CounterResumed { counter }], done()))
            }
            Command::Reprint { ticket, printer } => {
                known_printer(config, printer.as_deref())?;
                let t = self.today_ticket(ticket)?;
                Ok((Vec::new(), show(t.id.clone())))
            }
            Command::Rate { ticket, rating } => {
                let t = self.today_ticket(ticket)?;
                if t.state != TicketState::Completed || t.rating.is_some() {
                    return Err(self.wrong_state(t));
                }
                if actor.role == Role::Rating && t.counter != actor.counter {
                    return Err(refuse(
                        ErrorCode::Forbidden,
                        "Số này không được phục vụ tại quầy này",
                        "this ticket was not served at this rating device's counter",
                    ));
                }
                Ok((
                    vec![EventKind::Rated {
                        ticket: t.id.clone(),
                        rating: *rating,
                        officer: t.officer.clone(),
                        dossier: t.dossier.clone(),
                    }],
                    show(t.id.clone()),
                ))
            }
            Command::List {
                procedure,
                state,
                counter,
                day,
            } => {
                let (procedure, state, counter, day) = (procedure.clone(), *state, *counter, *day);
                Ok((
                    Vec::new(),
                    Box::new(move |s: &QueueState, config: &SiteConfig| {
                        // Other days are in the authority's store, not in today's state.
                        if day.is_some_and(|d| s.day != Some(d)) {
                            return Answer::Tickets(Vec::new());
                        }
                        Answer::Tickets(s.list(config, procedure.as_deref(), state, counter))
                    }),
                ))
            }
            Command::Follow { tokens } => {
                if tokens.len() > MAX_FOLLOWED {
                    return Err(refuse(
                        ErrorCode::BadRequest,
                        "Quá nhiều phiếu trong một yêu cầu",
                        format!("follow names at most {MAX_FOLLOWED} tokens"),
                    ));
                }
                // The tokens are the authority's secret: its service, which holds it,
                // answers `follow`; the state alone knows none.
                Ok((Vec::new(), Box::new(|_, _| Answer::Followed(Vec::new()))))
            }
        }
    }

    /// Ticket `id` of today for the page of `token`, with its place in line.
    pub fn followed(&self, config: &SiteConfig, token: String, id: &str) -> Option<Followed> {
        self.tickets.get(id)?;
        match self.answer_ticket(config, id) {
            Answer::Ticket {
                ticket,
                ahead,
                wait_minutes,
            } => Some(Followed {
                token,
                ticket,
                ahead,
                wait_minutes,
            }),
            _ => None,
        }
    }

    /// Procedure `procedure`'s longest-waiting ticket. The lines hold each procedure's
    /// waiting tickets by place, issued in that order: the first of each is its oldest.
    fn longest_waiting(&self, procedure: &str) -> Option<&Ticket> {
        let transferred = self
            .counter_lines
            .values()
            .flat_map(|line| line.normal.iter().chain(&line.priority))
            .map(|(_, id)| &self.tickets[id])
            .filter(|t| t.procedure == procedure);
        self.lines
            .get(procedure)
            .into_iter()
            .flat_map(|line| [line.normal.first(), line.priority.first()])
            .flatten()
            .map(|(_, id)| &self.tickets[id])
            .chain(transferred)
            .min_by_key(|t| t.issued_at)
    }

    /// What staff should see to now: for each procedure, its longest-waiting citizen past
    /// the limit; counters paused past the limit; services finished in the last
    /// [`UNUSUAL_RECENT`] or still going that are `unusual_factor` times longer or shorter
    /// than the procedure's median of recent services (once it has [`UNUSUAL_SAMPLES`]).
    pub fn queue_alerts(&self, config: &SiteConfig, now: OffsetDateTime) -> Vec<QueueAlert> {
        let limits = &config.alerts;
        let minutes = |since: OffsetDateTime| ((now - since).whole_minutes().max(0)) as u32;
        let mut alerts = Vec::new();
        for p in &config.procedures {
            let oldest = self.longest_waiting(&p.id);
            if let Some(t) = oldest.filter(|t| minutes(t.issued_at) > limits.wait_minutes) {
                alerts.push(QueueAlert::LongWait {
                    service: p.id.clone(),
                    label: t.label.clone(),
                    minutes: minutes(t.issued_at),
                });
            }
        }
        for (&counter, c) in &self.counters {
            if let Some(since) = c.paused_at.filter(|_| c.paused) {
                if minutes(since) > limits.pause_minutes {
                    alerts.push(QueueAlert::LongPause {
                        counter,
                        minutes: minutes(since),
                    });
                }
            }
        }
        let factor = limits.unusual_factor;
        let mut usual_of: BTreeMap<&str, Option<f64>> = BTreeMap::new();
        for t in self.tickets.values() {
            let (Some(counter), Some(called)) = (t.counter, t.called_at) else {
                continue;
            };
            let (seconds, done) = match (t.state, t.completed_at) {
                (TicketState::Completed, Some(done)) if now - done <= UNUSUAL_RECENT => {
                    ((done - called).whole_seconds(), true)
                }
                (TicketState::Called, _) => ((now - called).whole_seconds(), false),
                _ => continue,
            };
            let usual = *usual_of
                .entry(&t.procedure)
                .or_insert_with(|| self.usual_service_seconds(&t.procedure));
            let Some(usual) = usual else {
                continue;
            };
            let longer = seconds as f64 > usual * factor;
            // A service still going is not yet short.
            let shorter = done && (seconds as f64) < usual / factor;
            if longer || shorter {
                alerts.push(QueueAlert::UnusualService {
                    counter,
                    label: t.label.clone(),
                    minutes: (seconds.max(0) as u32 + 30) / 60,
                    usual_minutes: (usual as u32 + 30) / 60,
                    longer,
                });
            }
        }
        alerts
    }

    /// The median of the procedure's recent service times, once there are enough.
    fn usual_service_seconds(&self, procedure: &str) -> Option<f64> {
        let samples = self.service_seconds.get(procedure)?;
        if samples.len() < UNUSUAL_SAMPLES {
            return None;
        }
        let mut sorted: Vec<u32> = samples.iter().copied().collect();
        sorted.sort_unstable();
        Some(f64::from(sorted[(sorted.len() - 1) / 2]))
    }

    /// Records the alerts raised now on the event stream.
    pub fn raise(&mut self, alerts: Vec<QueueAlert>, now: OffsetDateTime) -> Vec<Event> {
        let kinds = alerts
            .into_iter()
            .map(|alert| EventKind::Alert { alert })
            .collect();
        let mut events = Vec::new();
        self.record(kinds, now, &mut events);
        events
    }

    /// The ids of today's tickets.
    pub fn ticket_ids(&self) -> impl Iterator<Item = &str> {
        self.tickets.keys().map(String::as_str)
    }

    fn new_ticket(
        &self,
        config: &SiteConfig,
        actor: &Actor,
        procedure: &str,
        priority: Option<PriorityReason>,
        now: OffsetDateTime,
    ) -> Result<Ticket, CommandError> {
        let p = self.known_procedure(config, procedure)?;
        if !p.enabled {
            return Err(refuse(
                ErrorCode::ProcedureClosed,
                format!("Thủ tục \"{}\" tạm ngừng tiếp nhận", p.name_vi),
                format!("\"{}\" is not taking tickets now", p.name_en),
            ));
        }
        let local = now.to_offset(config.site.utc_offset);
        if !config.hours.is_open(local) {
            let (vi, en) = match config.hours.next_opening(local) {
                Some(next) => {
                    let at = crate::calendar::reopening(next, local);
                    (
                        format!("Ngoài giờ làm việc — mở lại lúc {at}"),
                        format!("Outside working hours — reopens at {at}"),
                    )
                }
                None => (
                    "Ngoài giờ làm việc".to_string(),
                    "Outside working hours".to_string(),
                ),
            };
            return Err(refuse(ErrorCode::OutsideHours, vi, en));
        }
        let issued = self.issued.get(procedure).copied().unwrap_or(0);
        let quota_reached = p.daily_quota.is_some_and(|q| issued >= q);
        let label = p.numbers.label(issued).filter(|_| !quota_reached);
        let label = label.ok_or_else(|| {
            refuse(
                ErrorCode::QuotaReached,
                "Hết số hôm nay",
                "no more tickets today for this procedure",
            )
        })?;
        let day = self.day.expect("a day is open before commands run");
        Ok(Ticket {
            id: format!(
                "{:04}{:02}{:02}-{label}",
                day.year(),
                u8::from(day.month()),
                day.day()
            ),
            label,
            procedure: p.id.clone(),
            priority,
            issued_at: local,
            issued_by: actor.device.clone(),
            issued_for: None,
            state: TicketState::Waiting,
            queue_key: self.seq + 1,
            counter: None,
            target_counter: None,
            called_at: None,
            recalls: 0,
            completed_at: None,
            rating: None,
            officer: None,
            dossier: None,
        })
    }

    fn known_procedure<'c>(
        &self,
        config: &'c SiteConfig,
        procedure: &str,
    ) -> Result<&'c crate::config::Procedure, CommandError> {
        config.procedure(procedure).ok_or_else(|| {
            refuse(
                ErrorCode::UnknownProcedure,
                format!("Không có thủ tục \"{procedure}\""),
                format!("unknown procedure \"{procedure}\""),
            )
        })
    }

    /// The counter a counter command acts for: the device's own, or the one an admin names.
    fn acting_counter(
        &self,
        config: &SiteConfig,
        actor: &Actor,
        named: Option<u16>,
    ) -> Result<u16, CommandError> {
        let counter = match (actor.counter, named) {
            (Some(own), Some(n)) if own != n => {
                return Err(refuse(
                    ErrorCode::Forbidden,
                    format!("Thiết bị của quầy {own} không thể thao tác cho quầy {n}"),
                    format!("a device of counter {own} cannot act for counter {n}"),
                ))
            }
            (Some(own), _) => own,
            (None, Some(n)) => n,
            (None, None) => {
                return Err(refuse(
                    ErrorCode::BadRequest,
                    "Cần ghi rõ số quầy",
                    "field \"counter\" is needed",
                ))
            }
        };
        known_counter(config, counter)?;
        Ok(counter)
    }

    /// The counter a counter command acts for, which must have an officer signed in
    /// where officers sign in; an admin may act for a counter nobody is at.
    fn staffed_counter(
        &self,
        config: &SiteConfig,
        actor: &Actor,
        named: Option<u16>,
    ) -> Result<u16, CommandError> {
        let counter = self.acting_counter(config, actor, named)?;
        if config.officers_sign_in()
            && actor.role != Role::Admin
            && self.officer_at(counter).is_none()
        {
            return Err(refuse(
                ErrorCode::Forbidden,
                "Cán bộ cần đăng nhập tại quầy trước",
                "an officer must sign in at this counter first",
            ));
        }
        Ok(counter)
    }

    fn today_ticket(&self, id: &str) -> Result<&Ticket, CommandError> {
        self.tickets
            .get(id)
            .or_else(|| self.tickets.values().find(|t| t.label == id))
            .ok_or_else(|| {
                refuse(
                    ErrorCode::UnknownTicket,
                    format!("Không tìm thấy số \"{id}\" trong ngày"),
                    format!("no ticket \"{id}\" today"),
                )
            })
    }

    fn wrong_state(&self, t: &Ticket) -> CommandError {
        let (vi, en) = match t.state {
            TicketState::Waiting => ("đang chờ", "waiting"),
            TicketState::Called => ("đang được phục vụ", "being served"),
            TicketState::Completed if t.rating.is_some() => ("đã được đánh giá", "already rated"),
            TicketState::Completed => ("đã hoàn thành", "completed"),
            TicketState::NoShow => ("vắng mặt", "a no-show"),
            TicketState::Expired => ("đã hết hạn", "expired"),
        };
        refuse(
            ErrorCode::InvalidState,
            format!("Số {} {vi}", t.label),
            format!("ticket {} is {en}", t.label),
        )
    }

    fn serving(&self, counter: u16) -> Result<&Ticket, CommandError> {
        self.counters
            .get(&counter)
            .and_then(|c| c.serving.as_ref())
            .and_then(|id| self.tickets.get(id))
            .ok_or_else(|| {
                refuse(
                    ErrorCode::NotServing,
                    format!("Quầy {counter} chưa gọi số nào"),
                    format!("counter {counter} is not serving anyone"),
                )
            })
    }

    /// Completing the ticket a counter serves, with its dossier code if one was given.
    fn finish_serving(
        &self,
        counter: u16,
        now: OffsetDateTime,
        dossier: Option<&str>,
    ) -> Result<Vec<EventKind>, CommandError> {
        let dossier = dossier.map(str::trim).filter(|d| !d.is_empty());
        if let Some(problem) = dossier.and_then(crate::protocol::dossier_problem) {
            return Err(problem);
        }
        Ok(match self.serving(counter) {
            Ok(t) => {
                let since = t.called_at.unwrap_or(now);
                vec![EventKind::Completed {
                    ticket: t.id.clone(),
                    counter,
                    service_seconds: (now - since).whole_seconds().max(0) as u32,
                    officer: self.officer_at(counter).map(str::to_string),
                    dossier: dossier.map(str::to_string),
                }]
            }
            Err(_) => Vec::new(),
        })
    }

    /// The day's tickets of a procedure, in a state, that a counter works with (each
    /// filter when given), by place in line.
    pub fn list(
        &self,
        config: &SiteConfig,
        procedure: Option<&str>,
        state: Option<TicketState>,
        counter: Option<u16>,
    ) -> Vec<Ticket> {
        let mut list: Vec<Ticket> = self
            .tickets
            .values()
            .filter(|t| procedure.is_none_or(|x| t.procedure == x))
            .filter(|t| state.is_none_or(|x| t.state == x))
            .filter(|t| counter.is_none_or(|c| self.works_with(config, c, t)))
            .cloned()
            .collect();
        list.sort_by_key(|t| t.queue_key);
        list
    }

    /// Whether counter `counter` may call `t`, serves it or marked it as no-show.
    fn works_with(&self, config: &SiteConfig, counter: u16, t: &Ticket) -> bool {
        match t.state {
            TicketState::Waiting => self.eligible(config, counter, t),
            TicketState::Called | TicketState::NoShow => t.counter == Some(counter),
            TicketState::Completed | TicketState::Expired => false,
        }
    }

    fn eligible(&self, config: &SiteConfig, counter: u16, t: &Ticket) -> bool {
        match t.target_counter {
            Some(target) => target == counter,
            None => config
                .counter(counter)
                .is_some_and(|c| c.procedures.contains(&t.procedure)),
        }
    }

    /// The calling rule: among the tickets this counter may serve (its procedures' lines
    /// and the tickets transferred to it), the oldest place in line wins; a waiting
    /// priority ticket goes first once `priority.every` normal tickets were called since
    /// the last priority one (or when no normal ticket waits).
    fn next_for(&self, config: &SiteConfig, counter: u16) -> Option<String> {
        let c = config.counter(counter)?;
        let lines: Vec<&Line> = c
            .procedures
            .iter()
            .filter_map(|p| self.lines.get(p))
            .chain(self.counter_lines.get(&counter))
            .collect();
        let oldest = |priority: bool| {
            lines
                .iter()
                .filter_map(|l| {
                    if priority {
                        l.priority.first()
                    } else {
                        l.normal.first()
                    }
                })
                .min()
                .map(|(_, id)| id.clone())
        };
        let normal_since = self
            .counters
            .get(&counter)
            .map_or(u32::MAX, |c| c.normal_since_priority);
        match (oldest(true), oldest(false)) {
            (Some(p), Some(_)) if normal_since >= config.priority.every => Some(p),
            (_, Some(n)) => Some(n),
            (p, None) => p,
        }
    }

    /// People waiting for a procedure (normal, priority), transferred ones included.
    fn waiting_for(&self, procedure: &str) -> (u32, u32) {
        let (mut normal, mut priority) = self
            .lines
            .get(procedure)
            .map_or((0, 0), |l| (l.normal.len() as u32, l.priority.len() as u32));
        // Lines of single counters hold only the few transferred tickets.
        for line in self.counter_lines.values() {
            let count = |set: &BTreeSet<(u64, String)>| {
                set.iter()
                    .filter(|(_, id)| self.tickets[id].procedure == procedure)
                    .count() as u32
            };
            normal += count(&line.normal);
            priority += count(&line.priority);
        }
        (normal, priority)
    }

    /// Counters serving `service` that are open: not paused, and staffed (a counter nobody
    /// sits at serves nobody).
    fn open_counters(&self, config: &SiteConfig, procedure: &str) -> u32 {
        config
            .counters
            .iter()
            .filter(|c| c.procedures.iter().any(|p| p == procedure))
            .filter(|c| !self.counters.get(&c.number).is_some_and(|s| s.paused))
            .filter(|c| self.staffed(config, c.number))
            .count() as u32
    }

    /// Whether someone is at `counter`: an officer signed in where officers sign in, else
    /// a console or keypad online.
    fn staffed(&self, config: &SiteConfig, counter: u16) -> bool {
        if config.officers_sign_in() {
            return self.officer_at(counter).is_some();
        }
        config.devices.iter().any(|d| {
            d.role == Role::Counter && d.counter == Some(counter) && self.online.contains(&d.id)
        })
    }

    /// Minutes until `ahead` people are served: the rolling mean of recent service times
    /// (or the configured average before there are any), shared by the open counters.
    fn wait_minutes(&self, config: &SiteConfig, procedure: &str, ahead: u32) -> Option<u32> {
        let open = self.open_counters(config, procedure);
        if open == 0 {
            return None;
        }
        let samples = self.service_seconds.get(procedure);
        let mean_seconds = match samples {
            Some(s) if !s.is_empty() => {
                s.iter().map(|x| f64::from(*x)).sum::<f64>() / s.len() as f64
            }
            _ => config
                .procedure(procedure)
                .map_or(600.0, |p| p.avg_service_minutes * 60.0),
        };
        Some((f64::from(ahead) * mean_seconds / f64::from(open) / 60.0).ceil() as u32)
    }

    fn answer_ticket(&self, config: &SiteConfig, id: &str) -> Answer {
        let ticket = self.tickets[id].clone();
        let ahead = if ticket.state == TicketState::Waiting {
            self.ahead_of(config, &ticket)
        } else {
            0
        };
        let wait_minutes = self.wait_minutes(config, &ticket.procedure, ahead);
        Answer::Ticket {
            ticket,
            ahead,
            wait_minutes,
        }
    }

    /// People called before this ticket: in its line, those before it; for a priority
    /// ticket, the priority ones before it and the normal ones the calling rule puts
    /// between them (`priority.every` after each), at the counter nearest to its turn.
    fn ahead_of(&self, config: &SiteConfig, ticket: &Ticket) -> u32 {
        let (line, counters): (_, Vec<u16>) = match ticket.target_counter {
            Some(c) => (self.counter_lines.get(&c), vec![c]),
            None => (
                self.lines.get(&ticket.procedure),
                config
                    .counters
                    .iter()
                    .filter(|c| c.procedures.contains(&ticket.procedure))
                    .map(|c| c.number)
                    .collect(),
            ),
        };
        let Some(line) = line else { return 0 };
        let before = |set: &BTreeSet<(u64, String)>| match set.last() {
            // The newest ticket, as after an issue: everyone else is ahead.
            Some((last, _)) if *last <= ticket.queue_key => {
                set.len() - usize::from(*last == ticket.queue_key)
            }
            _ => set.range(..(ticket.queue_key, String::new())).count(),
        } as u32;
        if ticket.priority.is_none() {
            return before(&line.normal) + before(&line.priority);
        }
        let every = config.priority.every;
        let normal_since = counters
            .iter()
            .map(|n| {
                self.counters
                    .get(n)
                    .map_or(u32::MAX, |c| c.normal_since_priority)
            })
            .max()
            .unwrap_or(u32::MAX);
        let priority_before = before(&line.priority);
        let normal_between = every
            .saturating_sub(normal_since)
            .saturating_add(priority_before.saturating_mul(every));
        priority_before + normal_between.min(line.normal.len() as u32)
    }

    /// The retained board snapshot.
    pub fn board(&self, config: &SiteConfig, now: OffsetDateTime) -> Board {
        let counters = config
            .counters
            .iter()
            .map(|c| {
                let state = self.counters.get(&c.number);
                let label = state
                    .and_then(|s| s.serving.as_ref())
                    .and_then(|id| self.tickets.get(id))
                    .map(|t| t.label.clone());
                let officer = state.and_then(|s| s.officer.as_deref());
                let closed = config.officers_sign_in() && officer.is_none();
                let status = match (state.is_some_and(|s| s.paused), &label) {
                    (true, _) => CounterStatus::Paused,
                    (false, Some(_)) => CounterStatus::Serving,
                    (false, None) if closed => CounterStatus::Closed,
                    (false, None) => CounterStatus::Idle,
                };
                BoardCounter {
                    number: c.number,
                    name: c.name.clone(),
                    status,
                    label,
                    officer: officer.map(|id| {
                        config
                            .officer(id)
                            .map_or(id, |o| o.name.as_str())
                            .to_string()
                    }),
                }
            })
            .collect();
        let waiting = config
            .procedures
            .iter()
            .map(|p| {
                let (normal, priority) = self.waiting_for(&p.id);
                let issued = self.issued.get(&p.id).copied().unwrap_or(0);
                let capacity = p.numbers.capacity();
                let limit = p.daily_quota.map_or(capacity, |q| q.min(capacity));
                BoardWaiting {
                    procedure: p.id.clone(),
                    name_vi: p.name_vi.clone(),
                    name_en: p.name_en.clone(),
                    waiting: normal + priority,
                    priority_waiting: priority,
                    wait_minutes: self.wait_minutes(config, &p.id, normal + priority),
                    open_counters: self.open_counters(config, &p.id),
                    issued,
                    quota_left: p.daily_quota.map(|_| limit.saturating_sub(issued)),
                    enabled: p.enabled,
                    waiting_since: self.longest_waiting(&p.id).map(|t| t.issued_at),
                }
            })
            .collect();
        Board {
            v: VERSION,
            seq: self.seq,
            at: now.to_offset(config.site.utc_offset),
            day: self.day,
            site_name: config.site.name.clone(),
            calls: self.calls.iter().cloned().collect(),
            counters,
            waiting,
        }
    }
}

/// A call of `t` to `counter` as the board lists it.
fn call_of(t: &Ticket, counter: u16, at: OffsetDateTime, recall: u32) -> BoardCall {
    BoardCall {
        ticket: t.id.clone(),
        label: t.label.clone(),
        procedure: t.procedure.clone(),
        counter,
        at,
        recall,
    }
}

fn known_counter(
    config: &SiteConfig,
    number: u16,
) -> Result<&crate::config::Counter, CommandError> {
    config.counter(number).ok_or_else(|| {
        refuse(
            ErrorCode::UnknownCounter,
            format!("Không có quầy số {number}"),
            format!("no counter {number}"),
        )
    })
}

/// A printer a command names must be one of the office's printers.
fn known_printer(config: &SiteConfig, printer: Option<&str>) -> Result<(), CommandError> {
    match printer {
        Some(id) if !config.device(id).is_some_and(|d| d.role == Role::Printer) => Err(refuse(
            ErrorCode::UnknownDevice,
            format!("Không có máy in \"{id}\""),
            format!("no printer \"{id}\" in this office"),
        )),
        _ => Ok(()),
    }
}

/// What each role may do. An officer may reprint the ticket of a citizen at the counter.
fn authorize(actor: &Actor, command: &Command) -> Result<(), CommandError> {
    let allowed = match actor.role {
        Role::Admin => true,
        Role::Kiosk => matches!(command, Command::Issue { .. } | Command::Reprint { .. }),
        Role::Counter => !matches!(
            command,
            Command::Issue { .. }
                | Command::Rate { .. }
                | Command::Report { .. }
                | Command::FindDossier { .. }
        ),
        Role::Rating => matches!(command, Command::Rate { .. }),
        // The web pages follow tickets, and send the rating a citizen gives on the page.
        // The head's page and the API read tickets and reports and find dossiers.
        Role::Web => matches!(
            command,
            Command::Follow { .. }
                | Command::Rate { .. }
                | Command::List { .. }
                | Command::Report { .. }
                | Command::FindDossier { .. }
        ),
        Role::Display | Role::Printer | Role::Queue => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::Forbidden,
            format!(
                "Thiết bị \"{}\" không được phép làm thao tác này",
                actor.device
            ),
            format!(
                "device \"{}\" ({}) may not do this",
                actor.device,
                format!("{:?}", actor.role).to_lowercase()
            ),
        ))
    }
}

#[cfg(test)]
mod tests;
