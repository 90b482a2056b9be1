//! What the kiosk shows and sends, without the UI toolkit: taps, replies, board snapshots,
//! the printer's status and the clock in; screens and `issue` commands out.

use std::sync::Arc;

use qms_core::calendar::reopening;
use qms_core::config::SiteConfig;
use qms_core::outstanding::{Due, Outstanding};
use qms_core::protocol::{
    Board, Command, CommandEnvelope, PrinterStatus, PriorityReason, Reply, Ticket,
};
use time::{Duration, OffsetDateTime};

/// A screen other than home goes back home after this long untouched.
pub const IDLE_AFTER: Duration = Duration::seconds(30);
/// The ticket screen goes back home sooner.
pub const TICKET_SHOWN_FOR: Duration = Duration::seconds(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    Priority,
    Sending,
    Ticket,
    Failed,
}

/// Why a procedure gives no ticket right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    Open,
    Quota,
    /// With the next opening time, "7:30", when known.
    Hours(Option<String>),
    Disabled,
}

/// One procedure button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureView {
    pub id: String,
    pub name: String,
    pub subtitle: String,
    pub icon: String,
    pub waiting: u32,
    pub wait_minutes: Option<u32>,
    pub closed: Closed,
}

/// The printer as its retained status describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printer {
    /// Online, with paper and the cover closed. Not ready (offline, out of paper, cover
    /// open, or never heard from): the number is shown on screen to be noted down.
    pub ready: bool,
    /// Tickets whose printing began but may not have come out, by id.
    pub unsure: Vec<String>,
}

impl Printer {
    pub fn ready() -> Printer {
        Printer {
            ready: true,
            unsure: Vec::new(),
        }
    }

    pub fn not_ready() -> Printer {
        Printer::default()
    }

    /// Reads a printer's retained status ([`PrinterStatus`]).
    pub fn from_status(payload: &[u8]) -> Printer {
        let status = PrinterStatus::parse(payload);
        Printer {
            ready: status.can_print(),
            unsure: status.unsure.into_iter().map(|t| t.ticket).collect(),
        }
    }
}

pub struct KioskModel {
    config: Arc<SiteConfig>,
    device: String,
    pub english: bool,
    pub screen: Screen,
    pub priority: Option<PriorityReason>,
    board: Option<Board>,
    pub printer: Printer,
    pub online: bool,
    pending: Option<Outstanding>,
    /// The ticket on the ticket screen, with people ahead and the wait.
    pub shown: Option<(Ticket, u32, Option<u32>)>,
    /// The address of the shown ticket's page, for the QR on the screen.
    pub follow_url: Option<String>,
    /// The authority's reason for a refusal, in the kiosk's language.
    pub refusal: Option<String>,
    last_touch: OffsetDateTime,
    now: OffsetDateTime,
}

impl KioskModel {
    pub fn new(config: Arc<SiteConfig>, device: &str, now: OffsetDateTime) -> KioskModel {
        KioskModel {
            config,
            device: device.to_string(),
            english: false,
            screen: Screen::Home,
            priority: None,
            board: None,
            printer: Printer::not_ready(),
            online: false,
            pending: None,
            shown: None,
            follow_url: None,
            refusal: None,
            last_touch: now,
            now,
        }
    }

    pub fn config(&self) -> &SiteConfig {
        &self.config
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    pub fn pending_id(&self) -> Option<String> {
        self.pending.as_ref().map(|p| p.envelope.id.clone())
    }

    fn touched(&mut self) {
        self.last_touch = self.now;
    }

    /// A newer board snapshot replaces the one shown; an older one is ignored.
    pub fn board(&mut self, board: Board) {
        if self.board.as_ref().is_none_or(|b| b.seq <= board.seq) {
            self.board = Some(board);
        }
    }

    /// The procedure buttons, in configuration order.
    pub fn procedures(&self) -> Vec<ProcedureView> {
        let local = self.now.to_offset(self.config.site.utc_offset);
        let open_now = self.config.hours.is_open(local);
        let reopens = self
            .config
            .hours
            .next_opening(local)
            .map(|next| reopening(next, local));
        self.config
            .procedures
            .iter()
            .map(|p| {
                let live = self
                    .board
                    .as_ref()
                    .and_then(|b| b.waiting.iter().find(|w| w.procedure == p.id));
                let closed = if !p.enabled || live.is_some_and(|w| !w.enabled) {
                    Closed::Disabled
                } else if !open_now {
                    Closed::Hours(reopens.clone())
                } else if live.is_some_and(|w| w.quota_left == Some(0)) {
                    Closed::Quota
                } else {
                    Closed::Open
                };
                let (name, subtitle) = if self.english {
                    (&p.name_en, &p.name_vi)
                } else {
                    (&p.name_vi, &p.name_en)
                };
                ProcedureView {
                    id: p.id.clone(),
                    name: name.clone(),
                    subtitle: subtitle.clone(),
                    icon: p.icon.clone(),
                    waiting: live.map_or(0, |w| w.waiting),
                    wait_minutes: live.map_or(Some(0), |w| w.wait_minutes),
                    closed,
                }
            })
            .collect()
    }

    /// A tap on a procedure: the `issue` command to send, unless it cannot be served or a
    /// command is already on its way.
    pub fn choose_procedure(&mut self, procedure: &str) -> Option<CommandEnvelope> {
        self.touched();
        if self.pending.is_some() {
            return None;
        }
        let view = self.procedures().into_iter().find(|p| p.id == procedure)?;
        if view.closed != Closed::Open {
            return None;
        }
        let envelope = CommandEnvelope::new(
            uuid::Uuid::new_v4().to_string(),
            Command::Issue {
                procedure: procedure.to_string(),
                priority: self.priority,
                english: self.english,
                printer: None,
            },
        );
        self.pending = Some(Outstanding::sent(envelope.clone(), self.now));
        self.screen = Screen::Sending;
        Some(envelope)
    }

    /// Whether the ticket on screen may not have come out of the printer.
    pub fn shown_unsure(&self) -> bool {
        self.shown
            .as_ref()
            .is_some_and(|(t, _, _)| self.printer.unsure.contains(&t.id))
    }

    /// "Print again" on the ticket screen: the `reprint` command to send.
    pub fn reprint(&mut self) -> Option<CommandEnvelope> {
        self.touched();
        if self.pending.is_some() {
            return None;
        }
        let (ticket, _, _) = self.shown.as_ref()?;
        let envelope = CommandEnvelope::new(
            uuid::Uuid::new_v4().to_string(),
            Command::Reprint {
                ticket: ticket.id.clone(),
                printer: None,
            },
        );
        self.pending = Some(Outstanding::sent(envelope.clone(), self.now));
        self.screen = Screen::Sending;
        Some(envelope)
    }

    /// The authority's reply: only the one for the command on its way counts.
    pub fn reply(&mut self, reply: Reply) {
        if !self.pending.as_ref().is_some_and(|p| p.answered_by(&reply)) {
            return;
        }
        self.pending = None;
        self.touched();
        self.follow_url = reply.follow_url.clone();
        match (reply.ticket, reply.error) {
            (Some(ticket), _) => {
                self.shown = Some((ticket, reply.ahead.unwrap_or(0), reply.wait_minutes));
                self.refusal = None;
                self.priority = None;
                self.screen = Screen::Ticket;
            }
            (None, error) => {
                let message = error.map(|e| {
                    if self.english {
                        e.message_en
                    } else {
                        e.message
                    }
                });
                self.refusal = Some(message.unwrap_or_default());
                self.screen = Screen::Failed;
            }
        }
    }

    /// The clock moves: the command is sent again, the citizen is told that nothing came,
    /// or an idle screen goes home. Returns a command to send again.
    pub fn tick(&mut self, now: OffsetDateTime) -> Option<CommandEnvelope> {
        self.now = now;
        if let Some(issue) = &mut self.pending {
            if self.screen == Screen::Sending {
                match issue.due(now) {
                    Due::Wait => {}
                    Due::Resend(envelope) => return Some(envelope),
                    Due::GiveUp => {
                        self.refusal = None;
                        self.screen = Screen::Failed;
                        self.last_touch = now;
                    }
                }
            }
            return None;
        }
        let limit = match self.screen {
            // A home screen left in English or with a priority chosen is reset for the
            // next citizen.
            Screen::Home if !self.english && self.priority.is_none() => return None,
            Screen::Home => IDLE_AFTER,
            Screen::Ticket => TICKET_SHOWN_FOR,
            _ => IDLE_AFTER,
        };
        if now - self.last_touch >= limit {
            self.go_home();
        }
        None
    }

    /// "Try again" after no reply: the same command id, so the authority answers once.
    pub fn retry(&mut self) -> Option<CommandEnvelope> {
        self.touched();
        let envelope = self.pending.as_mut()?.restart(self.now);
        self.screen = Screen::Sending;
        Some(envelope)
    }

    /// "Done" or "back to start": home, in Vietnamese for the next citizen, with a
    /// command that got no reply forgotten.
    pub fn go_home(&mut self) {
        self.english = false;
        self.pending = None;
        self.shown = None;
        self.follow_url = None;
        self.refusal = None;
        self.priority = None;
        self.screen = Screen::Home;
    }

    pub fn open_priority(&mut self) {
        self.touched();
        self.screen = Screen::Priority;
    }

    pub fn choose_priority(&mut self, reason: PriorityReason) {
        self.touched();
        self.priority = Some(reason);
        self.screen = Screen::Home;
    }

    pub fn cancel_priority(&mut self) {
        self.touched();
        self.priority = None;
        self.screen = Screen::Home;
    }

    pub fn toggle_language(&mut self) {
        self.touched();
        self.english = !self.english;
    }

    /// The name of the procedure on the ticket screen.
    pub fn procedure_name(&self, procedure: &str) -> String {
        self.config
            .procedure(procedure)
            .map_or(procedure.to_string(), |p| {
                if self.english {
                    p.name_en.clone()
                } else {
                    p.name_vi.clone()
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qms_core::protocol::{CommandError, ErrorCode, Reply};
    use time::macros::datetime;

    const MORNING: OffsetDateTime = datetime!(2026-11-26 08:00 +7);

    fn model() -> KioskModel {
        KioskModel::new(Arc::new(SiteConfig::default_site()), "kiosk-1", MORNING)
    }

    #[test]
    fn a_tap_sends_one_issue_and_waits() {
        let mut m = model();
        let sent = m.choose_procedure("cccd").expect("a command");
        assert!(
            matches!(sent.command, Command::Issue { ref procedure, priority: None, english: false, .. } if procedure == "cccd")
        );
        assert_eq!(m.screen, Screen::Sending);
        assert_eq!(
            m.choose_procedure("cccd"),
            None,
            "a second tap sends nothing"
        );
    }

    #[test]
    fn without_a_reply_the_same_id_is_sent_again_then_the_citizen_is_told() {
        let mut m = model();
        let sent = m.choose_procedure("cccd").unwrap();
        assert_eq!(m.tick(MORNING + Duration::seconds(1)), None);
        let again = m.tick(MORNING + Duration::seconds(2)).expect("sent again");
        assert_eq!(again.id, sent.id);
        assert_eq!(m.tick(MORNING + Duration::seconds(8)), None);
        assert_eq!((m.screen, m.refusal.clone()), (Screen::Failed, None));
        let retried = m.retry().expect("retry");
        assert_eq!(retried.id, sent.id, "a retry reuses the command id");
        // A late reply to that id still shows the ticket.
        let mut reply = qms_core::sample::morning(None).reply;
        reply.id = Some(sent.id.clone());
        m.reply(reply);
        assert_eq!(m.screen, Screen::Ticket);
    }

    #[test]
    fn a_refusal_is_shown_in_the_kiosk_language() {
        let mut m = model();
        m.toggle_language();
        let sent = m.choose_procedure("cccd").unwrap();
        let error = CommandError::new(
            ErrorCode::QuotaReached,
            "Hết số hôm nay",
            "no more tickets today",
        );
        m.reply(Reply::error(Some(sent.id), error));
        assert_eq!(m.screen, Screen::Failed);
        assert_eq!(m.refusal.as_deref(), Some("no more tickets today"));
    }

    #[test]
    fn out_of_hours_procedures_say_when_the_office_reopens() {
        let mut m = model();
        m.tick(datetime!(2026-11-26 12:00 +7));
        let views = m.procedures();
        assert_eq!(views[0].closed, Closed::Hours(Some("13:30".into())));
        assert_eq!(m.choose_procedure("cccd"), None);
    }

    #[test]
    fn an_idle_screen_goes_home_and_forgets_the_priority() {
        let mut m = model();
        m.open_priority();
        m.choose_priority(PriorityReason::Elderly);
        m.open_priority();
        m.tick(MORNING + IDLE_AFTER);
        assert_eq!((m.screen, m.priority), (Screen::Home, None));
    }

    #[test]
    fn printer_status_is_ready_only_when_it_says_so() {
        assert_eq!(
            Printer::from_status(br#"{"v":1,"online":true,"ready":true,"paper":"ok"}"#),
            Printer::ready()
        );
        assert_eq!(
            Printer::from_status(br#"{"v":1,"online":true,"ready":false,"paper":"out"}"#),
            Printer::not_ready()
        );
        assert_eq!(
            Printer::from_status(br#"{"v":1,"online":true}"#),
            Printer::not_ready(),
            "connected but its state not yet read"
        );
        assert_eq!(
            Printer::from_status(br#"{"v":1,"online":false}"#),
            Printer::not_ready()
        );
        assert_eq!(Printer::from_status(b"garbage"), Printer::not_ready());
        let unsure = br#"{"v":1,"online":true,"ready":true,"unsure":[{"ticket":"20261126-1023","label":"1023"}]}"#;
        assert_eq!(Printer::from_status(unsure).unsure, ["20261126-1023"]);
    }

    /// The defect: the kiosk stayed in English for the next citizen.
    #[test]
    fn the_kiosk_stays_in_english_after_it_returns_home() {
        let mut m = model();
        m.toggle_language();
        assert!(m.english);
        m.go_home();
        assert!(!m.english, "done: Vietnamese again");
        m.toggle_language();
        m.tick(MORNING + IDLE_AFTER);
        assert!(!m.english, "idle: Vietnamese again");
        m.toggle_language();
        m.open_priority();
        m.cancel_priority();
        assert!(m.english, "one citizen's own steps keep the language");
    }
}
