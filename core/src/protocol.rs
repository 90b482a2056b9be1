//! Protocol v1: the JSON payloads every device exchanges over MQTT.
//!
//! Every payload is an object with `"v": 1`; unknown fields are ignored so that newer
//! devices can talk to an older authority.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// The protocol version every payload carries as `v`.
pub const VERSION: u32 = 1;

/// Why a citizen is called ahead of the line. No personal data is kept, only the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityReason {
    /// Người cao tuổi.
    Elderly,
    /// Người khuyết tật.
    Disabled,
    /// Phụ nữ mang thai.
    Pregnant,
    /// Người đưa theo con nhỏ.
    SmallChild,
    /// Người có công với cách mạng.
    Merit,
}

impl PriorityReason {
    /// Every reason, in the order the kiosk offers them.
    pub const ALL: [PriorityReason; 5] = [
        PriorityReason::Elderly,
        PriorityReason::Disabled,
        PriorityReason::Pregnant,
        PriorityReason::SmallChild,
        PriorityReason::Merit,
    ];

    /// The reason's name in the reader's language.
    pub fn name(self, english: bool) -> &'static str {
        if english {
            self.name_en()
        } else {
            self.name_vi()
        }
    }

    /// The reason's Vietnamese name: "Người cao tuổi".
    pub fn name_vi(self) -> &'static str {
        match self {
            PriorityReason::Elderly => "Người cao tuổi",
            PriorityReason::Disabled => "Người khuyết tật",
            PriorityReason::Pregnant => "Phụ nữ mang thai",
            PriorityReason::SmallChild => "Người đưa theo con nhỏ",
            PriorityReason::Merit => "Người có công với cách mạng",
        }
    }

    /// What the ticket and the kiosk's ticket screen say: "Ưu tiên: người cao tuổi".
    pub fn mark(self, english: bool) -> String {
        let word = if english { "Priority" } else { "Ưu tiên" };
        let name = self.name(english);
        let mut chars = name.chars();
        let first = chars.next().map(|c| c.to_lowercase().collect::<String>());
        format!("{word}: {}{}", first.unwrap_or_default(), chars.as_str())
    }

    /// The reason's English name: "Elderly person".
    pub fn name_en(self) -> &'static str {
        match self {
            PriorityReason::Elderly => "Elderly person",
            PriorityReason::Disabled => "Person with a disability",
            PriorityReason::Pregnant => "Pregnant woman",
            PriorityReason::SmallChild => "With a small child",
            PriorityReason::Merit => "Person of meritorious service",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// How satisfied a citizen was with the service at the counter, from the rating screen.
pub enum Rating {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Chưa hài lòng.
    Unsatisfied,
}

impl Rating {
    /// "rất hài lòng", as a report or a log line says it.
    pub fn name_vi(self) -> &'static str {
        match self {
            Rating::VerySatisfied => "rất hài lòng",
            Rating::Satisfied => "hài lòng",
            Rating::Unsatisfied => "chưa hài lòng",
        }
    }
}

/// A command sent by a device on `…/dev/{device}/cmd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// A kiosk takes a ticket for a procedure; the reply carries it, and its print job goes
    /// to a printer.
    Issue {
        /// The procedure's id (`cccd`).
        #[serde(rename = "service")]
        procedure: String,
        #[serde(default)]
        /// Why the citizen is to be called ahead, if they are.
        priority: Option<PriorityReason>,
        /// The citizen read the kiosk in English: the ticket carries the English name too.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        english: bool,
        /// For a device with no printer of its own (the command line): the printer the
        /// ticket is printed on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        printer: Option<String>,
    },
    /// Call the next citizen for the counter (completes the one being served).
    CallNext {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
        /// The dossier code of the citizen whose service this completes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dossier: Option<String>,
    },
    /// Call a given waiting ticket.
    Call {
        /// The ticket's id or number.
        ticket: String,
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
    },
    /// Call the ticket being served again.
    Recall {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
    },
    /// The citizen called did not come.
    NoShow {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
    },
    /// Put a no-show ticket back in line at its original place.
    Reactivate {
        /// The ticket's id or number.
        ticket: String,
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
    },
    /// Send the ticket being served to another procedure and/or counter.
    Transfer {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
        #[serde(default)]
        /// The procedure to send it to.
        #[serde(rename = "to_service")]
        to_procedure: Option<String>,
        #[serde(default)]
        /// The counter to send it to: only that counter may call it.
        to_counter: Option<u16>,
    },
    /// The citizen being served is done.
    Complete {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
        /// The one-stop system's dossier code (mã hồ sơ) of what was received, typed or
        /// scanned from its receipt: up to [`MAX_DOSSIER_CHARS`] letters, digits, `.-/_`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dossier: Option<String>,
    },
    /// The counter stops taking citizens for a while.
    Pause {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
    },
    /// The counter takes citizens again.
    Resume {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
    },
    /// Print a ticket again: on the printer named, or else on the issuing kiosk's.
    Reprint {
        /// The ticket's id or number.
        ticket: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The printer (a device id) to print it on.
        printer: Option<String>,
    },
    /// The citizen's rating of a served ticket, from the rating screen.
    Rate {
        /// The ticket's id.
        ticket: String,
        /// How satisfied the citizen was.
        rating: Rating,
    },
    /// The tickets of a business day (today unless `day` is given), by place in line;
    /// read-only.
    List {
        #[serde(default)]
        /// Only this procedure's tickets.
        #[serde(rename = "service")]
        procedure: Option<String>,
        #[serde(default)]
        /// Only tickets in this state.
        state: Option<TicketState>,
        /// Only what this counter works with: the waiting tickets it may call, and the
        /// tickets it is serving or marked as no-show.
        #[serde(default)]
        counter: Option<u16>,
        /// A closed business day ("2026-11-25"), read from the authority's store.
        #[serde(default)]
        day: Option<Date>,
    },
    /// The tickets behind citizens' page tokens, each with its place in line; read-only,
    /// for the web pages. Tokens of no ticket of today are left out of the answer.
    Follow {
        /// At most [`MAX_FOLLOWED`] tokens.
        tokens: Vec<String>,
    },
    /// An officer signs in at the counter with their PIN; whoever was signed in there is
    /// signed out.
    SignIn {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
        /// The officer's id in the site configuration.
        officer: String,
        /// Their PIN, checked against its hash; never stored or echoed.
        pin: String,
    },
    /// The officer at the counter signs out.
    SignOut {
        #[serde(default)]
        /// The counter acting; a counter's own device may leave it out.
        counter: Option<u16>,
    },
    /// The figures of business days `from` to `to` (at most [`MAX_REPORT_DAYS`]); read-only.
    Report {
        /// The first day.
        from: Date,
        /// The last day.
        to: Date,
    },
    /// Every ticket, of any day, with this dossier code; read-only.
    FindDossier {
        /// The dossier code.
        dossier: String,
    },
}

/// The longest dossier code (mã hồ sơ), in characters: the one-stop system's codes, like
/// `000.00.14.H29-261126-0001`, are about 25.
pub const MAX_DOSSIER_CHARS: usize = 40;

/// The most days one `report` covers.
pub const MAX_REPORT_DAYS: i64 = 366;

/// Why `code` is not a dossier code, if it is not one.
pub fn dossier_problem(code: &str) -> Option<CommandError> {
    let chars = code.chars().count();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/' | '_');
    if (1..=MAX_DOSSIER_CHARS).contains(&chars) && code.chars().all(allowed) {
        return None;
    }
    Some(CommandError::new(
        ErrorCode::BadRequest,
        format!(
            "Mã hồ sơ không hợp lệ: tối đa {MAX_DOSSIER_CHARS} ký tự gồm chữ, số và . - / _"
        ),
        format!(
            "\"{}\" is not a dossier code: 1 to {MAX_DOSSIER_CHARS} ASCII letters, digits, '.', '-', '/' or '_'",
            bounded(code)
        ),
    ))
}

/// The most tokens one `follow` may name: 25 bytes each in JSON, the command must stay
/// within a command's 4 KiB.
pub const MAX_FOLLOWED: usize = 100;

impl Command {
    /// A ticket for `procedure`, printed where the device prints.
    pub fn issue(procedure: impl Into<String>, priority: Option<PriorityReason>) -> Command {
        Command::Issue {
            procedure: procedure.into(),
            priority,
            english: false,
            printer: None,
        }
    }

    /// `list` with no filter: every ticket of today.
    pub fn todays_tickets() -> Command {
        Command::List {
            procedure: None,
            state: None,
            counter: None,
            day: None,
        }
    }

    /// Whether the command changes the queue (and so is stored for idempotency).
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            Command::List { .. }
                | Command::Follow { .. }
                | Command::Report { .. }
                | Command::FindDossier { .. }
        )
    }
}

/// A command with its envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// Chosen by the sender, unique to the command: a command sent again with the same id
    /// is executed once and answered with the same reply.
    pub id: String,
    #[serde(flatten)]
    /// The command, its `op` and fields beside `v` and `id`.
    pub command: Command,
}

impl CommandEnvelope {
    /// An envelope of the current version.
    pub fn new(id: impl Into<String>, command: Command) -> Self {
        CommandEnvelope {
            v: VERSION,
            id: id.into(),
            command,
        }
    }

    /// Parses a command payload; the error carries the command id when one was readable.
    ///
    /// Nothing unbounded from the payload comes back: a payload over [`MAX_COMMAND_BYTES`]
    /// is refused unread, an id longer than [`MAX_ID_CHARS`] is not echoed, and every
    /// quoted value is cut to a few dozen characters.
    pub fn parse(payload: &[u8]) -> Result<CommandEnvelope, (Option<String>, CommandError)> {
        if payload.len() > MAX_COMMAND_BYTES {
            return Err((
                None,
                CommandError::new(
                    ErrorCode::TooLarge,
                    format!("Lệnh quá dài: tối đa {MAX_COMMAND_BYTES} byte"),
                    format!(
                        "the command is {} bytes; a command may be at most {MAX_COMMAND_BYTES}",
                        payload.len()
                    ),
                ),
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(payload).map_err(|e| {
            let e = bounded(&e.to_string());
            (
                None,
                CommandError::new(
                    ErrorCode::BadRequest,
                    format!("Nội dung lệnh không phải JSON hợp lệ: {e}"),
                    format!("the payload is not valid JSON: {e}"),
                ),
            )
        })?;
        let Some(fields) = value.as_object() else {
            return Err((None, bad_request("the payload must be a JSON object")));
        };
        let id = match fields.get("id") {
            None => {
                Err("field \"id\" (a unique command id, 1 to 128 characters) is missing".into())
            }
            Some(serde_json::Value::String(id)) => {
                let chars = id.chars().count();
                if (1..=MAX_ID_CHARS).contains(&chars) {
                    Ok(id.clone())
                } else {
                    Err(format!(
                        "field \"id\" has {chars} characters; a command id has 1 to {MAX_ID_CHARS}"
                    ))
                }
            }
            Some(other) => Err(format!(
                "field \"id\" must be a string (a unique command id), not {}",
                json_kind(other)
            )),
        };
        let id = match id {
            Ok(id) => id,
            Err(message) => return Err((None, bad_request(message))),
        };
        let fail = |message_en: String| (Some(id.clone()), bad_request(message_en));
        match fields.get("v") {
            Some(v) if v.as_u64() == Some(u64::from(VERSION)) => {}
            Some(serde_json::Value::Number(other)) => {
                let other = bounded(&other.to_string());
                return Err((
                    Some(id.clone()),
                    CommandError::new(
                        ErrorCode::UnsupportedVersion,
                        format!("Phiên bản giao thức {other} chưa được hỗ trợ"),
                        format!("protocol version {other} is not supported (this is v1)"),
                    ),
                ));
            }
            Some(other) => {
                return Err(fail(format!(
                    "field \"v\" (protocol version) must be the number 1, not {}",
                    json_kind(other)
                )))
            }
            None => return Err(fail("field \"v\" (protocol version, 1) is missing".into())),
        }
        match fields.get("op") {
            Some(serde_json::Value::String(op)) if OPS.contains(&op.as_str()) => {}
            Some(serde_json::Value::String(op)) => {
                return Err(fail(format!(
                    "unknown op \"{}\"; the ops are {}",
                    bounded(op),
                    OPS.join(", ")
                )))
            }
            Some(other) => {
                return Err(fail(format!(
                    "field \"op\" must be the name of an operation, not {}",
                    json_kind(other)
                )))
            }
            None => return Err(fail("field \"op\" (the operation) is missing".into())),
        }
        serde_json::from_value(value).map_err(|e| fail(bounded(&e.to_string())))
    }
}

/// The largest command payload read. A command is a few hundred bytes; a longer one is
/// refused before it is parsed, so nothing large is ever echoed, stored or logged.
pub const MAX_COMMAND_BYTES: usize = 4096;

/// The longest command id, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// Every `op` of protocol v1, by name: the only values `op` may have.
pub const OPS: [&str; 18] = [
    "issue",
    "call_next",
    "call",
    "recall",
    "no_show",
    "reactivate",
    "transfer",
    "complete",
    "pause",
    "resume",
    "reprint",
    "rate",
    "list",
    "follow",
    "sign_in",
    "sign_out",
    "report",
    "find_dossier",
];

/// The longest piece of outside text quoted in an error, in characters.
const QUOTED_CHARS: usize = 60;

/// `text` cut to [`QUOTED_CHARS`] characters, marked when cut.
pub fn bounded(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn bad_request(message_en: impl Into<String>) -> CommandError {
    let message_en = message_en.into();
    CommandError::new(
        ErrorCode::BadRequest,
        format!("Lệnh không hợp lệ: {message_en}"),
        message_en,
    )
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// Where a ticket is in its day.
pub enum TicketState {
    /// In line.
    Waiting,
    /// Called to a counter, or being served there.
    Called,
    /// Served.
    Completed,
    /// Called and did not come; a counter may put it back in line.
    NoShow,
    /// Not served when the business day closed.
    Expired,
}

impl TicketState {
    /// "đang chờ", as a list or a log line says it.
    pub fn name_vi(self) -> &'static str {
        match self {
            TicketState::Waiting => "đang chờ",
            TicketState::Called => "đang được gọi",
            TicketState::Completed => "đã hoàn thành",
            TicketState::NoShow => "vắng mặt",
            TicketState::Expired => "hết hạn",
        }
    }
}

/// A ticket. It carries no personal data: no name, no ID-card number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Unique: the business day and the label, e.g. `20261126-1023`.
    pub id: String,
    /// What the citizen reads and hears: `1023`, `A023`.
    pub label: String,
    /// The procedure it is in line for now.
    #[serde(rename = "service")]
    pub procedure: String,
    #[serde(default)]
    /// Why it is called ahead, if it is.
    pub priority: Option<PriorityReason>,
    #[serde(with = "time::serde::rfc3339")]
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// The device that issued it.
    pub issued_by: String,
    /// The procedure it was issued for, when a transfer moved it to another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_for: Option<String>,
    /// Where it is in its day.
    pub state: TicketState,
    /// Place in line: the sequence number of the event that issued it. A transfer or a
    /// re-activation keeps it, so the citizen is not sent to the back of the line.
    pub queue_key: u64,
    #[serde(default)]
    /// The counter that called it.
    pub counter: Option<u16>,
    /// Set by a transfer to a given counter: only that counter may call it.
    #[serde(default)]
    pub target_counter: Option<u16>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    /// When it was first called.
    pub called_at: Option<OffsetDateTime>,
    #[serde(default)]
    /// How many times it was called again.
    pub recalls: u32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    /// When it was served, or marked absent.
    pub completed_at: Option<OffsetDateTime>,
    #[serde(default)]
    /// The citizen's rating, once given.
    pub rating: Option<Rating>,
    /// The officer who last called or served it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    /// The one-stop system's dossier code, given at completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dossier: Option<String>,
}

/// A reply on `…/dev/{device}/reply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// The command's id; null only when the payload had no readable id.
    pub id: Option<String>,
    /// Whether the command was carried out; else `error` says why.
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The ticket the command issued, called or changed.
    pub ticket: Option<Ticket>,
    /// People waiting before this ticket for its procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ahead: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The estimated wait for the ticket, in minutes; none while no counter serving its
    /// procedure is open.
    pub wait_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The tickets a `list` asked for, by place in line.
    pub tickets: Option<Vec<Ticket>>,
    /// For an issued ticket: the address of the citizen's page for it, for the QR, when
    /// the site has `[web] public_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_url: Option<String>,
    /// The tickets a `follow` found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed: Option<Vec<Followed>>,
    /// The figures a `report` asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<crate::report::Report>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Why the command was refused.
    pub error: Option<CommandError>,
}

/// A ticket a citizen's page follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Followed {
    /// The page's token.
    pub token: String,
    /// The ticket.
    pub ticket: Ticket,
    /// People called before it while it waits.
    pub ahead: u32,
    /// The estimated wait, in minutes, while it waits and a counter serving its
    /// procedure is open.
    pub wait_minutes: Option<u32>,
}

impl Reply {
    /// The reply to command `id` when it was carried out.
    pub fn ok(id: String) -> Reply {
        Reply {
            v: VERSION,
            id: Some(id),
            ok: true,
            ticket: None,
            ahead: None,
            wait_minutes: None,
            tickets: None,
            follow_url: None,
            followed: None,
            report: None,
            error: None,
        }
    }

    /// The reply to command `id` (when it could be read) when it was refused.
    pub fn error(id: Option<String>, error: CommandError) -> Reply {
        Reply {
            ok: false,
            id,
            error: Some(error),
            ..Reply::ok(String::new())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// What kind of refusal a [`CommandError`] is; its wire names are the contract.
pub enum ErrorCode {
    /// The payload is not a command.
    BadRequest,
    /// The payload's `v` is not one this authority speaks.
    UnsupportedVersion,
    /// The device is not in the site configuration.
    UnknownDevice,
    /// The device's role may not send this command.
    Forbidden,
    /// No procedure has that id.
    #[serde(rename = "unknown_service")]
    UnknownProcedure,
    /// The procedure is switched off.
    #[serde(rename = "service_closed")]
    ProcedureClosed,
    /// The office is closed now.
    OutsideHours,
    /// The procedure's tickets for today are all given.
    QuotaReached,
    /// No counter has that number.
    UnknownCounter,
    /// No ticket of today has that id or number.
    UnknownTicket,
    /// The ticket is not in a state the command applies to.
    InvalidState,
    /// No one waits for the counter's procedures.
    NobodyWaiting,
    /// The counter serves no one now.
    NotServing,
    /// The answer would not fit one message: ask for less.
    TooLarge,
    /// The authority failed; the command may be sent again.
    Internal,
}

/// Why a command was refused, in words the kiosk or console can show as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code:?}: {message_en}")]
pub struct CommandError {
    /// What kind of refusal it is.
    pub code: ErrorCode,
    /// Vietnamese, for the screen.
    pub message: String,
    /// English, for the English screen and the log.
    pub message_en: String,
}

impl CommandError {
    /// A refusal worded in Vietnamese and English.
    pub fn new(code: ErrorCode, message: impl Into<String>, message_en: impl Into<String>) -> Self {
        CommandError {
            code,
            message: message.into(),
            message_en: message_en.into(),
        }
    }
}

/// One change of queue state, published on `…/events` in `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// Its place in the day's events: one more than the one before.
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    /// When it happened (the authority's clock).
    pub at: OffsetDateTime,
    #[serde(flatten)]
    /// What happened, its `type` and fields beside `v`, `seq` and `at`.
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
/// What happened to the queue.
pub enum EventKind {
    /// A business day began.
    DayOpened {
        /// The business day.
        day: Date,
    },
    /// A ticket was issued.
    Issued {
        /// The ticket as issued.
        ticket: Ticket,
        /// The key of its citizen's page at the city: [`crate::citizen::page_key`] of
        /// the token in its QR (the token itself is never sent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<String>,
    },
    /// A ticket was called to a counter.
    Called {
        /// The ticket's id.
        ticket: String,
        /// Its number, as read and spoken.
        label: String,
        /// The counter it was called to.
        counter: u16,
        /// The officer signed in there.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        officer: Option<String>,
    },
    /// The ticket being served was called again.
    Recalled {
        /// The ticket's id.
        ticket: String,
        /// Its number, as read and spoken.
        label: String,
        /// The counter it was called to.
        counter: u16,
    },
    /// The citizen called did not come.
    NoShow {
        /// The ticket's id.
        ticket: String,
        /// The counter that called it.
        counter: u16,
    },
    /// An absent ticket went back in line at its place.
    Reactivated {
        /// The ticket's id.
        ticket: String,
    },
    /// The ticket being served went to another procedure and/or counter.
    Transferred {
        /// The ticket's id.
        ticket: String,
        /// The procedure it is in line for now.
        #[serde(rename = "service")]
        procedure: String,
        /// The counter that alone may call it, when one was named.
        counter: Option<u16>,
    },
    /// A citizen was served.
    Completed {
        /// The ticket's id.
        ticket: String,
        /// The counter that served it.
        counter: u16,
        /// From the call to completion.
        service_seconds: u32,
        /// The officer signed in there.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        officer: Option<String>,
        /// The dossier code the officer gave.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dossier: Option<String>,
    },
    /// A counter stopped taking citizens.
    CounterPaused {
        /// The counter.
        counter: u16,
    },
    /// A counter takes citizens again.
    CounterResumed {
        /// The counter.
        counter: u16,
    },
    /// A citizen rated the service.
    Rated {
        /// The ticket's id.
        ticket: String,
        /// How satisfied the citizen was.
        rating: Rating,
        /// The officer who served the ticket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        officer: Option<String>,
        /// The ticket's dossier code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dossier: Option<String>,
    },
    /// An officer signed in at a counter.
    OfficerSignedIn {
        /// The counter.
        counter: u16,
        /// The officer's id.
        officer: String,
    },
    /// The officer at a counter signed out (or another signed in there).
    OfficerSignedOut {
        /// The counter.
        counter: u16,
        /// The officer's id.
        officer: String,
    },
    /// A kiosk's ticket was refused because of the quota or the hours: demand the office
    /// did not meet, counted in the reports.
    IssueRefused {
        /// The procedure asked for.
        #[serde(rename = "service")]
        procedure: String,
        /// Why: `quota_reached`, `outside_hours` or `service_closed`.
        code: ErrorCode,
    },
    /// Staff were alerted: a citizen waiting too long, a counter paused too long, an
    /// unusual service. Raised once, when it first appears on `…/alerts`.
    Alert {
        /// What it is.
        alert: crate::alerts::QueueAlert,
    },
    /// The business day ended; tickets not served expire.
    DayClosed {
        /// The business day that ended.
        day: Date,
        /// The ids of the tickets that expired.
        expired: Vec<String>,
    },
}

/// The retained snapshot on `…/board`: everything a display needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// The `seq` of the last event it includes; a subscriber ignores a lower one.
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    /// When it was made.
    pub at: OffsetDateTime,
    /// The business day it shows; none before the first day opened.
    pub day: Option<Date>,
    /// The office's name, for the header.
    pub site_name: String,
    /// Newest first.
    pub calls: Vec<BoardCall>,
    /// Every counter, in configuration order.
    pub counters: Vec<BoardCounter>,
    /// The line for each procedure, in configuration order.
    pub waiting: Vec<BoardWaiting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// A call on the board.
pub struct BoardCall {
    /// The ticket's id.
    pub ticket: String,
    /// Its number, as read and spoken.
    pub label: String,
    /// Its procedure.
    #[serde(rename = "service")]
    pub procedure: String,
    /// The counter it was called to.
    pub counter: u16,
    #[serde(with = "time::serde::rfc3339")]
    /// When it was called, or last called again.
    pub at: OffsetDateTime,
    /// How many times it was called again.
    pub recall: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// What a counter is doing.
pub enum CounterStatus {
    /// Open, serving no one.
    Idle,
    /// Serving the ticket in `label`.
    Serving,
    /// Paused: taking no citizens for a while.
    Paused,
    /// Nobody is signed in there (when officers sign in).
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// A counter on the board.
pub struct BoardCounter {
    /// Its number.
    pub number: u16,
    /// Its name, as configured: "Quầy 3".
    pub name: String,
    /// What it is doing.
    pub status: CounterStatus,
    /// The number it is serving, if any.
    pub label: Option<String>,
    /// The name of the officer signed in there, when officers sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
}

/// What one counter serves now, on its own retained topic: all an LED number display
/// above the counter needs, in a message small enough for any microcontroller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterDisplay {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// The board's `seq` when this changed; a subscriber ignores a lower one.
    pub seq: u64,
    #[serde(flatten)]
    /// The counter's number, name, state and the number it serves.
    pub counter: BoardCounter,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// The line for one procedure on the board.
pub struct BoardWaiting {
    /// The procedure's id.
    #[serde(rename = "service")]
    pub procedure: String,
    /// Its Vietnamese name.
    pub name_vi: String,
    /// Its English name.
    pub name_en: String,
    /// Tickets waiting.
    pub waiting: u32,
    /// Of those, priority tickets.
    pub priority_waiting: u32,
    /// None when no counter serving it is open.
    pub wait_minutes: Option<u32>,
    /// Counters open now that serve it.
    pub open_counters: u32,
    /// Tickets issued for it today.
    pub issued: u32,
    /// Tickets left today; None without a quota.
    pub quota_left: Option<u32>,
    /// Whether it gives tickets at all (`enabled` in the configuration).
    pub enabled: bool,
    /// When its longest-waiting ticket was issued (the city's dashboard shows the wait).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub waiting_since: Option<OffsetDateTime>,
}

/// A ticket to print, on `…/dev/{printer}/job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrintJob {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// Unique to this printing: the ticket's id for the ticket as issued, another for each
    /// reprint. Empty in jobs of older authorities: the ticket's id then.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub job: String,
    /// The ticket to print.
    pub ticket: Ticket,
    /// The office's name, for the head of the ticket.
    pub site_name: String,
    /// The procedure's Vietnamese name.
    #[serde(rename = "service_vi")]
    pub procedure_vi: String,
    /// The procedure's English name.
    #[serde(rename = "service_en")]
    pub procedure_en: String,
    /// The citizen chose English: the English name is printed under the Vietnamese.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub english: bool,
    /// People waiting before it, when it was issued.
    pub ahead: u32,
    /// The estimated wait in minutes, when it was issued; none while no counter serving its
    /// procedure is open.
    pub wait_minutes: Option<u32>,
    /// The citizen's page for the ticket, printed as the QR; without it the QR holds the
    /// ticket's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_url: Option<String>,
}

impl PrintJob {
    /// What the printer keeps to print each job once.
    pub fn key(&self) -> &str {
        if self.job.is_empty() {
            &self.ticket.id
        } else {
            &self.job
        }
    }
}

/// A device's retained availability on `…/dev/{device}/status`. A printer's is a
/// [`PrinterStatus`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// The device is connected (its last will says false).
    pub online: bool,
    /// The authority's heartbeat: when it last said it is alive (every tick, 10 s).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub at: Option<OffsetDateTime>,
    /// The authority's: how far the system clock is behind the last event it recorded.
    /// The queue keeps the later time (and its business day) until the clock catches up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_behind_seconds: Option<i64>,
    /// The authority's: publications set aside since it started, because they could not
    /// be sent (each is in its log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<u64>,
}

impl DeviceStatus {
    /// A device's plain availability.
    pub fn online(online: bool) -> DeviceStatus {
        DeviceStatus {
            v: VERSION,
            online,
            at: None,
            clock_behind_seconds: None,
            set_aside: None,
        }
    }

    /// Whether a retained status (a device's, or a printer's [`PrinterStatus`]) says its
    /// device is online; an unreadable one says it is not.
    pub fn says_online(payload: &[u8]) -> bool {
        #[derive(Deserialize)]
        struct Online {
            #[serde(default)]
            online: bool,
        }
        serde_json::from_slice::<Online>(payload).is_ok_and(|s| s.online)
    }
}

/// A printer's retained status on `…/dev/{printer}/status`, published by its driver: what
/// the kiosk shows the citizen and the staff alerts say. Its last will is a plain
/// `{"v":1,"online":false}`, which reads as not ready with nothing else known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterStatus {
    /// The protocol version, [`VERSION`].
    pub v: u32,
    /// The driver is connected.
    pub online: bool,
    /// A ticket can be printed now.
    #[serde(default)]
    pub ready: bool,
    /// The paper sensors, when the printer answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The cover, when the printer answered.
    pub cover: Option<Cover>,
    /// Why it cannot print, when it cannot: what the alerts are made from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<PrinterFault>,
    /// The same in the driver's words, for the log and the IT person.
    #[serde(default)]
    pub detail: String,
    /// Jobs dropped since the driver started, not printed in time.
    #[serde(default)]
    pub dropped: u32,
    /// Tickets whose printing began and which may not have come out, oldest first.
    #[serde(default)]
    pub unsure: Vec<UnsureTicket>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// What the paper sensors say.
pub enum PaperLevel {
    /// Enough paper.
    Ok,
    /// The roll is near its end.
    NearEnd,
    /// No paper.
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// The printer's cover.
pub enum Cover {
    /// Closed.
    Closed,
    /// Open: nothing prints.
    Open,
}

/// Why a printer cannot print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterFault {
    /// No paper.
    PaperOut,
    /// The cover is open.
    CoverOpen,
    /// A mechanical or cutter error.
    Mechanical,
    /// The printer says it is offline, for no cause it names.
    Offline,
    /// It does not answer a status request, or answers nonsense.
    NoAnswer,
    /// Its port cannot be opened or written: unplugged, switched off, wrong device.
    Unreachable,
    /// The driver cannot write its spool, so it prints nothing.
    Spool,
}

/// A ticket a printer may not have printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsureTicket {
    /// The ticket's id.
    pub ticket: String,
    /// Its number, as read and spoken.
    pub label: String,
}

impl PrinterStatus {
    /// Reads a printer's retained status; anything unreadable is a printer not ready.
    pub fn parse(payload: &[u8]) -> PrinterStatus {
        serde_json::from_slice(payload).unwrap_or(PrinterStatus {
            v: VERSION,
            online: false,
            ready: false,
            paper: None,
            cover: None,
            faults: Vec::new(),
            detail: String::new(),
            dropped: 0,
            unsure: Vec::new(),
        })
    }

    /// Whether a citizen can be promised a printed ticket now.
    pub fn can_print(&self) -> bool {
        self.online && self.ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defect: 200 tokens made a 5 KB command, over the 4 KiB any command may be, and
    /// every citizen's page behind the first 160 stayed unanswered.
    #[test]
    fn regression_the_largest_follow_fits_in_a_command() {
        let tokens = vec!["Zq3k9Xw2mLp8Rt5Vb1Nc0A".to_string(); MAX_FOLLOWED];
        let envelope = CommandEnvelope::new(
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427".to_string(),
            Command::Follow { tokens },
        );
        let bytes = serde_json::to_vec(&envelope).unwrap();
        assert!(bytes.len() <= MAX_COMMAND_BYTES, "{} bytes", bytes.len());
        assert!(CommandEnvelope::parse(&bytes).is_ok());
    }

    #[test]
    fn on_the_wire_a_procedure_is_still_called_service() {
        fn json(value: &impl Serialize) -> serde_json::Value {
            serde_json::to_value(value).unwrap()
        }
        let issue = json(&Command::issue("cccd", None));
        assert_eq!(issue["service"], "cccd", "{issue}");
        let transfer = json(&Command::Transfer {
            counter: None,
            to_procedure: Some("cu-tru".into()),
            to_counter: None,
        });
        assert_eq!(transfer["to_service"], "cu-tru", "{transfer}");
        let job = crate::sample::print_job("1001");
        let printed = json(&job);
        assert_eq!(printed["ticket"]["service"], job.ticket.procedure.as_str());
        assert_eq!(
            printed["service_vi"],
            job.procedure_vi.as_str(),
            "{printed}"
        );
        assert_eq!(
            printed["service_en"],
            job.procedure_en.as_str(),
            "{printed}"
        );
        let board = crate::sample::morning(None).board;
        let shown = json(&board);
        assert_eq!(
            shown["waiting"][0]["service"],
            board.waiting[0].procedure.as_str()
        );
        assert_eq!(
            shown["calls"][0]["service"],
            board.calls[0].procedure.as_str()
        );
        assert_eq!(json(&ErrorCode::UnknownProcedure), "unknown_service");
        assert_eq!(json(&ErrorCode::ProcedureClosed), "service_closed");
    }

    #[test]
    fn a_status_is_online_only_when_it_says_so_in_a_readable_payload() {
        let printer = serde_json::to_vec(&PrinterStatus::parse(
            br#"{"v":1,"online":true,"ready":true}"#,
        ))
        .unwrap();
        assert!(DeviceStatus::says_online(&printer));
        assert!(DeviceStatus::says_online(
            &serde_json::to_vec(&DeviceStatus::online(true)).unwrap()
        ));
        assert!(!DeviceStatus::says_online(
            &serde_json::to_vec(&DeviceStatus::online(false)).unwrap()
        ));
        for unreadable in [&b"garbage"[..], br#"{"online":"yes"}"#, b"", br#"{"v":1}"#] {
            assert!(!DeviceStatus::says_online(unreadable), "{unreadable:?}");
        }
    }

    #[test]
    fn a_printers_status_reads_its_fields_and_its_last_will() {
        let status = PrinterStatus::parse(
            br#"{"v":1,"online":true,"ready":false,"paper":"out","cover":"closed","faults":["paper_out","offline"],"detail":"out of paper, offline","dropped":0,"unsure":[]}"#,
        );
        assert_eq!(status.paper, Some(PaperLevel::Out));
        assert_eq!(
            status.faults,
            [PrinterFault::PaperOut, PrinterFault::Offline]
        );
        assert!(!status.can_print());
        let will = PrinterStatus::parse(br#"{"v":1,"online":false}"#);
        assert!(!will.online && !will.ready && will.faults.is_empty());
        assert!(!PrinterStatus::parse(b"garbage").can_print());
    }

    #[test]
    fn a_priority_mark_names_the_reason_in_running_text() {
        assert_eq!(
            PriorityReason::Elderly.mark(false),
            "Ưu tiên: người cao tuổi"
        );
        assert_eq!(
            PriorityReason::Merit.mark(true),
            "Priority: person of meritorious service"
        );
    }

    #[test]
    fn the_documented_issue_command_parses() {
        let c = CommandEnvelope::parse(
            br#"{"v":1,"id":"a1","op":"issue","service":"cccd","priority":null,"extra":7}"#,
        )
        .unwrap();
        assert_eq!(c.command, Command::issue("cccd", None));
    }

    #[test]
    fn bad_payloads_say_what_is_wrong_and_keep_the_id() {
        let (id, e) = CommandEnvelope::parse(b"{not json").unwrap_err();
        assert_eq!((id, e.code), (None, ErrorCode::BadRequest));
        let (id, e) = CommandEnvelope::parse(br#"{"v":1,"id":"x","op":"fly"}"#).unwrap_err();
        assert_eq!(id.as_deref(), Some("x"));
        assert!(e.message_en.contains("unknown op \"fly\""), "{e}");
        let (_, e) = CommandEnvelope::parse(br#"{"v":2,"id":"x","op":"issue"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedVersion);
        let (_, e) = CommandEnvelope::parse(br#"{"v":1,"op":"call_next"}"#).unwrap_err();
        assert!(e.message_en.contains("\"id\""), "{e}");
        let (_, e) = CommandEnvelope::parse(br#"{"v":1,"id":"x","op":"issue"}"#).unwrap_err();
        assert!(e.message_en.contains("missing field `service`"), "{e}");
    }

    #[test]
    fn regression_a_huge_id_or_op_is_never_echoed_in_the_refusal() {
        let huge_id = format!(r#"{{"v":1,"id":"{}","op":"issue"}}"#, "x".repeat(1_048_400));
        let (id, e) = CommandEnvelope::parse(huge_id.as_bytes()).unwrap_err();
        assert_eq!((id, e.code), (None, ErrorCode::TooLarge));
        assert!(e.message_en.len() < 200, "{e}");
        let long_id = format!(r#"{{"v":1,"id":"{}","op":"issue"}}"#, "x".repeat(3000));
        let (id, e) = CommandEnvelope::parse(long_id.as_bytes()).unwrap_err();
        assert_eq!((id, e.code), (None, ErrorCode::BadRequest));
        assert!(e.message_en.contains("3000 characters"), "{e}");
        let long_op = format!(r#"{{"v":1,"id":"a","op":"{}"}}"#, "y".repeat(3000));
        let (id, e) = CommandEnvelope::parse(long_op.as_bytes()).unwrap_err();
        assert_eq!(id.as_deref(), Some("a"));
        assert!(e.message_en.len() + e.message.len() < 600, "{e}");
        assert!(!e.message_en.contains(&"y".repeat(61)), "{e}");
    }

    #[test]
    fn regression_ops_are_names_only() {
        for (op, wrong) in [("0", "a number"), ("9", "a number"), ("null", "null")] {
            let payload = format!(r#"{{"v":1,"id":"a","op":{op},"service":"cccd"}}"#);
            let (_, e) = CommandEnvelope::parse(payload.as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadRequest, "{op}");
            assert!(e.message_en.contains(wrong), "{op}: {e}");
        }
    }

    #[test]
    fn regression_a_v_or_id_of_the_wrong_type_is_named_as_such_not_missing() {
        let (_, e) = CommandEnvelope::parse(br#"{"v":"1","id":"a","op":"pause"}"#).unwrap_err();
        assert!(
            e.message_en.contains("must be the number 1, not a string"),
            "{e}"
        );
        let (id, e) = CommandEnvelope::parse(br#"{"v":1,"id":7,"op":"pause"}"#).unwrap_err();
        assert_eq!(id, None);
        assert!(e.message_en.contains("must be a string"), "{e}");
    }

    #[test]
    fn regression_the_id_limit_counts_characters_not_bytes() {
        // 128 Vietnamese letters are 256 bytes in UTF-8, and still a valid id.
        let id = "đ".repeat(MAX_ID_CHARS);
        let payload = format!(r#"{{"v":1,"id":"{id}","op":"pause"}}"#);
        assert_eq!(CommandEnvelope::parse(payload.as_bytes()).unwrap().id, id);
        let payload = format!(r#"{{"v":1,"id":"{id}đ","op":"pause"}}"#);
        assert!(CommandEnvelope::parse(payload.as_bytes()).is_err());
    }

    #[test]
    fn every_command_serializes_with_an_op_of_the_list() {
        let commands = [
            Command::issue("cccd", None),
            Command::CallNext {
                counter: None,
                dossier: None,
            },
            Command::Call {
                ticket: "t".into(),
                counter: None,
            },
            Command::Recall { counter: None },
            Command::NoShow { counter: None },
            Command::Reactivate {
                ticket: "t".into(),
                counter: None,
            },
            Command::Transfer {
                counter: None,
                to_procedure: None,
                to_counter: None,
            },
            Command::Complete {
                counter: None,
                dossier: None,
            },
            Command::Pause { counter: None },
            Command::Resume { counter: None },
            Command::Reprint {
                ticket: "t".into(),
                printer: None,
            },
            Command::Rate {
                ticket: "t".into(),
                rating: Rating::Satisfied,
            },
            Command::todays_tickets(),
        ];
        for (command, op) in commands.into_iter().zip(OPS) {
            let json = serde_json::to_vec(&CommandEnvelope::new("a", command.clone())).unwrap();
            assert_eq!(
                CommandEnvelope::parse(&json).unwrap().command,
                command,
                "{op}"
            );
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(value["op"], op);
        }
    }

    #[test]
    fn events_carry_their_type_beside_seq() {
        let e = Event {
            v: 1,
            seq: 9,
            at: time::macros::datetime!(2026-11-26 08:00 +7),
            kind: EventKind::CounterPaused { counter: 3 },
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], "counter_paused");
        assert_eq!(json["seq"], 9);
        assert_eq!(json["at"], "2026-11-26T08:00:00+07:00");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), e);
    }
}
