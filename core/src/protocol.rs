//! Protocol v1: the JSON payloads every device exchanges over MQTT.
//!
//! Every payload is an object with `"v": 1`; unknown fields are ignored so that newer
//! devices can talk to an older authority.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

pub const VERSION: u32 = 1;

/// Why a citizen is called ahead of the line. No personal data is kept, only the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityReason {
    Elderly,
    Disabled,
    Pregnant,
    SmallChild,
    /// Người có công với cách mạng.
    Merit,
}

impl PriorityReason {
    pub fn name_vi(self) -> &'static str {
        match self {
            PriorityReason::Elderly => "Người cao tuổi",
            PriorityReason::Disabled => "Người khuyết tật",
            PriorityReason::Pregnant => "Phụ nữ mang thai",
            PriorityReason::SmallChild => "Người đưa theo con nhỏ",
            PriorityReason::Merit => "Người có công với cách mạng",
        }
    }

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
pub enum Rating {
    VerySatisfied,
    Satisfied,
    Unsatisfied,
}

/// A command sent by a device on `…/dev/{device}/cmd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    Issue {
        service: String,
        #[serde(default)]
        priority: Option<PriorityReason>,
    },
    CallNext {
        #[serde(default)]
        counter: Option<u16>,
    },
    /// Call a given waiting ticket.
    Call {
        ticket: String,
        #[serde(default)]
        counter: Option<u16>,
    },
    Recall {
        #[serde(default)]
        counter: Option<u16>,
    },
    NoShow {
        #[serde(default)]
        counter: Option<u16>,
    },
    /// Put a no-show ticket back in line at its original place.
    Reactivate {
        ticket: String,
        #[serde(default)]
        counter: Option<u16>,
    },
    /// Send the ticket being served to another procedure and/or counter.
    Transfer {
        #[serde(default)]
        counter: Option<u16>,
        #[serde(default)]
        to_service: Option<String>,
        #[serde(default)]
        to_counter: Option<u16>,
    },
    Complete {
        #[serde(default)]
        counter: Option<u16>,
    },
    Pause {
        #[serde(default)]
        counter: Option<u16>,
    },
    Resume {
        #[serde(default)]
        counter: Option<u16>,
    },
    Reprint {
        ticket: String,
    },
    Rate {
        ticket: String,
        rating: Rating,
    },
    /// The tickets of a business day (today unless `day` is given), by place in line;
    /// read-only.
    List {
        #[serde(default)]
        service: Option<String>,
        #[serde(default)]
        state: Option<TicketState>,
        /// Only what this counter works with: the waiting tickets it may call, and the
        /// tickets it is serving or marked as no-show.
        #[serde(default)]
        counter: Option<u16>,
        /// A closed business day ("2026-11-25"), read from the authority's store.
        #[serde(default)]
        day: Option<Date>,
    },
}

impl Command {
    /// `list` with no filter: every ticket of today.
    pub fn todays_tickets() -> Command {
        Command::List {
            service: None,
            state: None,
            counter: None,
            day: None,
        }
    }

    /// Whether the command changes the queue (and so is stored for idempotency).
    pub fn is_write(&self) -> bool {
        !matches!(self, Command::List { .. })
    }
}

/// A command with its envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    pub v: u32,
    pub id: String,
    #[serde(flatten)]
    pub command: Command,
}

impl CommandEnvelope {
    pub fn new(id: impl Into<String>, command: Command) -> Self {
        CommandEnvelope {
            v: VERSION,
            id: id.into(),
            command,
        }
    }

    /// Parses a command payload; the error carries the command id when one was readable.
    pub fn parse(payload: &[u8]) -> Result<CommandEnvelope, (Option<String>, CommandError)> {
        let value: serde_json::Value = serde_json::from_slice(payload).map_err(|e| {
            (
                None,
                CommandError::new(
                    ErrorCode::BadRequest,
                    format!("Nội dung lệnh không phải JSON hợp lệ: {e}"),
                    format!("the payload is not valid JSON: {e}"),
                ),
            )
        })?;
        let id = value.get("id").and_then(|i| i.as_str()).map(str::to_string);
        let fail = |message_en: String| {
            (
                id.clone(),
                CommandError::new(
                    ErrorCode::BadRequest,
                    format!("Lệnh không hợp lệ: {message_en}"),
                    message_en,
                ),
            )
        };
        if !value.is_object() {
            return Err(fail("the payload must be a JSON object".into()));
        }
        match value.get("v").and_then(|v| v.as_u64()) {
            Some(1) => {}
            Some(other) => {
                return Err((
                    id.clone(),
                    CommandError::new(
                        ErrorCode::UnsupportedVersion,
                        format!("Phiên bản giao thức {other} chưa được hỗ trợ"),
                        format!("protocol version {other} is not supported (this is v1)"),
                    ),
                ))
            }
            None => return Err(fail("field \"v\" (protocol version, 1) is missing".into())),
        }
        match &id {
            Some(i) if !i.is_empty() && i.len() <= 128 => {}
            _ => {
                return Err(fail(
                    "field \"id\" (a unique command id, 1 to 128 characters) is missing".into(),
                ))
            }
        }
        serde_json::from_value(value).map_err(|e| fail(e.to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    Called,
    Completed,
    NoShow,
    Expired,
}

/// A ticket. It carries no personal data: no name, no ID-card number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Unique: the business day and the label, e.g. `20261126-1023`.
    pub id: String,
    /// What the citizen reads and hears: `1023`, `A023`.
    pub label: String,
    pub service: String,
    #[serde(default)]
    pub priority: Option<PriorityReason>,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    pub issued_by: String,
    pub state: TicketState,
    /// Place in line: the sequence number of the event that issued it. A transfer or a
    /// re-activation keeps it, so the citizen is not sent to the back of the line.
    pub queue_key: u64,
    #[serde(default)]
    pub counter: Option<u16>,
    /// Set by a transfer to a given counter: only that counter may call it.
    #[serde(default)]
    pub target_counter: Option<u16>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub called_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub recalls: u32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub rating: Option<Rating>,
}

/// A reply on `…/dev/{device}/reply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub v: u32,
    /// The command's id; null only when the payload had no readable id.
    pub id: Option<String>,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
    /// People waiting before this ticket for its procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ahead: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tickets: Option<Vec<Ticket>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CommandError>,
}

impl Reply {
    pub fn ok(id: String) -> Reply {
        Reply {
            v: VERSION,
            id: Some(id),
            ok: true,
            ticket: None,
            ahead: None,
            wait_minutes: None,
            tickets: None,
            error: None,
        }
    }

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
pub enum ErrorCode {
    BadRequest,
    UnsupportedVersion,
    UnknownDevice,
    Forbidden,
    UnknownService,
    ServiceClosed,
    OutsideHours,
    QuotaReached,
    UnknownCounter,
    UnknownTicket,
    InvalidState,
    NobodyWaiting,
    NotServing,
    /// The answer would not fit one message: ask for less.
    TooLarge,
    Internal,
}

/// Why a command was refused, in words the kiosk or console can show as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code:?}: {message_en}")]
pub struct CommandError {
    pub code: ErrorCode,
    /// Vietnamese, for the screen.
    pub message: String,
    pub message_en: String,
}

impl CommandError {
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
    pub v: u32,
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    DayOpened {
        day: Date,
    },
    Issued {
        ticket: Ticket,
    },
    Called {
        ticket: String,
        label: String,
        counter: u16,
    },
    Recalled {
        ticket: String,
        label: String,
        counter: u16,
    },
    NoShow {
        ticket: String,
        counter: u16,
    },
    Reactivated {
        ticket: String,
    },
    Transferred {
        ticket: String,
        service: String,
        counter: Option<u16>,
    },
    Completed {
        ticket: String,
        counter: u16,
        service_seconds: u32,
    },
    CounterPaused {
        counter: u16,
    },
    CounterResumed {
        counter: u16,
    },
    Rated {
        ticket: String,
        rating: Rating,
    },
    /// The business day ended; tickets not served expire.
    DayClosed {
        day: Date,
        expired: Vec<String>,
    },
}

/// The retained snapshot on `…/board`: everything a display needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub v: u32,
    /// The `seq` of the last event it includes; a subscriber ignores a lower one.
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub day: Option<Date>,
    pub site_name: String,
    /// Newest first.
    pub calls: Vec<BoardCall>,
    pub counters: Vec<BoardCounter>,
    pub waiting: Vec<BoardWaiting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardCall {
    pub ticket: String,
    pub label: String,
    pub service: String,
    pub counter: u16,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub recall: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterStatus {
    Idle,
    Serving,
    Paused,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardCounter {
    pub number: u16,
    pub name: String,
    pub status: CounterStatus,
    pub label: Option<String>,
}

/// What one counter serves now, on its own retained topic: all an LED number display
/// above the counter needs, in a message small enough for any microcontroller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterDisplay {
    pub v: u32,
    /// The board's `seq` when this changed; a subscriber ignores a lower one.
    pub seq: u64,
    #[serde(flatten)]
    pub counter: BoardCounter,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardWaiting {
    pub service: String,
    pub name_vi: String,
    pub name_en: String,
    pub waiting: u32,
    pub priority_waiting: u32,
    /// None when no counter serving it is open.
    pub wait_minutes: Option<u32>,
    pub open_counters: u32,
    pub issued: u32,
    /// Tickets left today; None without a quota.
    pub quota_left: Option<u32>,
    pub enabled: bool,
}

/// A ticket to print, on `…/dev/{printer}/job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrintJob {
    pub v: u32,
    pub ticket: Ticket,
    pub site_name: String,
    pub service_vi: String,
    pub service_en: String,
    pub ahead: u32,
    pub wait_minutes: Option<u32>,
}

/// A device's retained availability on `…/dev/{device}/status`. Devices add fields of
/// their own (a printer: `ready`, `paper`, `cover`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub v: u32,
    pub online: bool,
    /// The authority's heartbeat: when it last said it is alive (every tick, 10 s).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_issue_command_parses() {
        let c = CommandEnvelope::parse(
            br#"{"v":1,"id":"a1","op":"issue","service":"cccd","priority":null,"extra":7}"#,
        )
        .unwrap();
        assert_eq!(
            c.command,
            Command::Issue {
                service: "cccd".into(),
                priority: None
            }
        );
    }

    #[test]
    fn bad_payloads_say_what_is_wrong_and_keep_the_id() {
        let (id, e) = CommandEnvelope::parse(b"{not json").unwrap_err();
        assert_eq!((id, e.code), (None, ErrorCode::BadRequest));
        let (id, e) = CommandEnvelope::parse(br#"{"v":1,"id":"x","op":"fly"}"#).unwrap_err();
        assert_eq!(id.as_deref(), Some("x"));
        assert!(e.message_en.contains("unknown variant `fly`"), "{e}");
        let (_, e) = CommandEnvelope::parse(br#"{"v":2,"id":"x","op":"issue"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedVersion);
        let (_, e) = CommandEnvelope::parse(br#"{"v":1,"op":"call_next"}"#).unwrap_err();
        assert!(e.message_en.contains("\"id\""), "{e}");
        let (_, e) = CommandEnvelope::parse(br#"{"v":1,"id":"x","op":"issue"}"#).unwrap_err();
        assert!(e.message_en.contains("missing field `service`"), "{e}");
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
