//! What the counter console shows and sends, without the UI toolkit: presses, replies,
//! board snapshots, device statuses and the clock in; commands out.
//!
//! One action at a time: while a command waits for its reply every button waits too, and
//! pressing the same action again after the authority did not answer sends the same
//! command id, so a double press never calls two citizens. A page that may deliver a
//! press late names the [`ConsoleModel::turn`] it saw, and a press made on a screen an
//! answer has since changed is not sent.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::alerts::{StaffAlerts, Unprinted};
use crate::calendar::{duration_words, hour_minute};
use crate::config::{Role, SiteConfig};
use crate::outstanding::{Due, Outstanding};
use crate::protocol::{
    Board, Command, CommandEnvelope, CounterStatus, DeviceStatus, Reply, Ticket, TicketState,
};
use time::OffsetDateTime;

/// The result of the last action, as the officer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// "Đã gọi số 1023", or the authority's reason for refusing.
    pub text: String,
    /// The action failed.
    pub error: bool,
    /// What the board should then show at this counter: (serving label, paused). Once
    /// it shows something else, another device acted here and the notice is stale.
    expect: (Option<String>, bool),
}

/// One counter's console: its tickets, its pending action, its alerts.
pub struct ConsoleModel {
    config: Arc<SiteConfig>,
    counter: u16,
    now: OffsetDateTime,
    connected: bool,
    authority_online: bool,
    paused: bool,
    /// Tickets this counter works with, from the last list: the one it serves, the ones
    /// it may call, its no-shows.
    tickets: Vec<Ticket>,
    /// The board `seq` the last list was asked at.
    listed_at: Option<u64>,
    board_seq: Option<u64>,
    action: Option<Outstanding>,
    /// The authority did not answer `action` in time.
    action_lost: bool,
    listing: Option<Outstanding>,
    /// The last action's outcome, until the counter moves on.
    pub notice: Option<Notice>,
    /// The transfer picker is open.
    pub transfer_open: bool,
    alerts: StaffAlerts,
    /// Actions answered so far.
    turn: u64,
    /// The name of the officer signed in here, as the board says.
    officer: Option<String>,
}

/// What the officer can do at the console: a button, a key, a row's "Gọi".
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// "Gọi số tiếp" (F1): completes the citizen being served, with the dossier code
    /// typed for them.
    CallNext {
        /// The dossier code (mã hồ sơ) typed or scanned, if any.
        #[serde(default)]
        dossier: Option<String>,
    },
    /// "Gọi lại" (F2).
    Recall,
    /// "Vắng mặt" (F3).
    NoShow,
    /// "Chuyển" (F4): opens the transfer picker.
    OpenTransfer,
    /// The picker closed without a choice.
    CloseTransfer,
    /// Transfer to another procedure.
    TransferToProcedure {
        /// Its id.
        procedure: String,
    },
    /// Transfer to another counter.
    TransferToCounter {
        /// Its number.
        counter: u16,
    },
    /// "Hoàn thành" (F5).
    Complete {
        /// The dossier code (mã hồ sơ) typed or scanned, if any.
        #[serde(default)]
        dossier: Option<String>,
    },
    /// "Đăng nhập": an officer signs in here.
    SignIn {
        /// The officer's id.
        officer: String,
        /// Their PIN.
        pin: String,
    },
    /// "Đăng xuất".
    SignOut,
    /// "Tạm dừng" / "Tiếp tục" (F6).
    PauseOrResume,
    /// "Gọi" on a waiting ticket.
    Call {
        /// The ticket's id.
        ticket: String,
    },
    /// "Vào lại hàng" on a no-show.
    Reactivate {
        /// The ticket's id.
        ticket: String,
    },
    /// "In lại" on a ticket a printer may not have printed.
    Reprint {
        /// The printer.
        printer: String,
        /// The ticket's id.
        ticket: String,
    },
}

/// A dossier code as typed: none when left empty.
fn typed(dossier: Option<String>) -> Option<String> {
    dossier
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
}

/// Everything the console shows, in the words the officer reads: what a window or a page
/// draws, deciding nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleScreen {
    /// "Quầy 3".
    pub counter_name: String,
    /// The procedures the counter serves, "Cấp CCCD · Đăng ký thường trú".
    pub procedures: String,
    /// "08:05".
    pub clock: String,
    /// The broker and the authority are both there.
    pub online: bool,
    /// The counter takes no citizens for now.
    pub paused: bool,
    /// An action waits for the authority's answer.
    pub busy: bool,
    /// The answers so far: a press names the one it was made on.
    pub turn: u64,
    /// The citizen being served.
    pub serving: Option<ServingRow>,
    /// Citizens the counter may call, by place in line.
    pub waiting: Vec<TicketRow>,
    /// Today's no-shows here, which can be put back in line.
    pub absent: Vec<TicketRow>,
    /// Staff alerts: printers, kiosks.
    pub alerts: Vec<String>,
    /// Tickets to reprint with one press.
    pub unprinted: Vec<Unprinted>,
    /// What the last action did, or why it failed.
    pub result: Option<ResultLine>,
    /// The transfer picker, while open.
    pub transfer: Option<TransferChoices>,
    /// The name of the officer signed in here.
    pub officer: Option<String>,
    /// Officers sign in and nobody is signed in here: the console shows the sign-in and
    /// nothing else can be done.
    pub sign_in: bool,
    /// Who may sign in: (id, name), in configuration order.
    pub officers: Vec<(String, String)>,
}

/// The ticket being served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServingRow {
    /// "1023".
    pub label: String,
    /// The procedure's name.
    pub procedure: String,
    /// How long it has been served, "04:12".
    pub served_for: String,
    /// The priority reason's name, or "".
    pub priority: String,
}

/// A ticket in one of the console's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketRow {
    /// The ticket's id, which an action names.
    pub id: String,
    /// "1023".
    pub label: String,
    /// The procedure's name.
    pub procedure: String,
    /// How long since it was issued, "12 phút".
    pub waited: String,
    /// The priority reason's name, or "".
    pub priority: String,
}

/// The last action's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultLine {
    /// "Đã gọi số 1023".
    pub text: String,
    /// It failed.
    pub error: bool,
}

/// Where the ticket being served can be sent: (id, name) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferChoices {
    /// Other procedures.
    pub procedures: Vec<(String, String)>,
    /// Other counters serving the ticket's procedure, by number.
    pub counters: Vec<(u16, String)>,
}

impl ConsoleModel {
    /// The console of counter `counter`, not yet connected.
    pub fn new(config: Arc<SiteConfig>, counter: u16, now: OffsetDateTime) -> ConsoleModel {
        ConsoleModel {
            config,
            counter,
            now,
            connected: false,
            authority_online: false,
            paused: false,
            tickets: Vec::new(),
            listed_at: None,
            board_seq: None,
            action: None,
            action_lost: false,
            listing: None,
            notice: None,
            transfer_open: false,
            alerts: StaffAlerts::default(),
            turn: 0,
            officer: None,
        }
    }

    /// Actions answered so far: a screen drawn at an older turn is out of date.
    pub fn turn(&self) -> u64 {
        self.turn
    }

    /// What the officer did: the command to send, if any.
    pub fn act(&mut self, action: Action) -> Option<CommandEnvelope> {
        let command = match action {
            Action::CallNext { dossier } => Command::CallNext {
                counter: None,
                dossier: typed(dossier),
            },
            Action::Recall => Command::Recall { counter: None },
            Action::NoShow => Command::NoShow { counter: None },
            Action::Complete { dossier } => Command::Complete {
                counter: None,
                dossier: typed(dossier),
            },
            Action::SignIn { officer, pin } => Command::SignIn {
                counter: None,
                officer,
                pin,
            },
            Action::SignOut => Command::SignOut { counter: None },
            Action::PauseOrResume if self.paused => Command::Resume { counter: None },
            Action::PauseOrResume => Command::Pause { counter: None },
            Action::OpenTransfer => {
                self.open_transfer();
                return None;
            }
            Action::CloseTransfer => {
                self.transfer_open = false;
                return None;
            }
            Action::TransferToProcedure { procedure } => Command::Transfer {
                counter: None,
                to_procedure: Some(procedure),
                to_counter: None,
            },
            Action::TransferToCounter { counter } => Command::Transfer {
                counter: None,
                to_procedure: None,
                to_counter: Some(counter),
            },
            Action::Call { ticket } => Command::Call {
                ticket,
                counter: None,
            },
            Action::Reactivate { ticket } => Command::Reactivate {
                ticket,
                counter: None,
            },
            Action::Reprint { printer, ticket } => Command::Reprint {
                ticket,
                printer: Some(printer),
            },
        };
        self.press(command)
    }

    /// An action taken on the screen of `turn`: done only if no answer came since, so
    /// the second click of a double click, arriving after the first was answered, is
    /// dropped.
    pub fn act_on(&mut self, turn: u64, action: Action) -> Option<CommandEnvelope> {
        (turn == self.turn).then(|| self.act(action)).flatten()
    }

    /// What the console shows now.
    pub fn screen(&self) -> ConsoleScreen {
        let now = self.now;
        let offset = self.config.site.utc_offset;
        let procedures: Vec<String> = self
            .config
            .counter(self.counter)
            .map(|c| {
                c.procedures
                    .iter()
                    .map(|p| self.procedure_name(p))
                    .collect()
            })
            .unwrap_or_default();
        let serving = self.serving().map(|t| ServingRow {
            label: t.label.clone(),
            procedure: self.procedure_name(&t.procedure),
            served_for: t.called_at.map_or(String::new(), |at| {
                let seconds = (now - at).whole_seconds().max(0);
                format!("{:02}:{:02}", seconds / 60, seconds % 60)
            }),
            priority: t.priority.map_or("", |p| p.name_vi()).to_string(),
        });
        let row = |t: &Ticket| TicketRow {
            id: t.id.clone(),
            label: t.label.clone(),
            procedure: self.procedure_name(&t.procedure),
            waited: duration_words(now - t.issued_at),
            priority: t.priority.map_or("", |p| p.name_vi()).to_string(),
        };
        ConsoleScreen {
            counter_name: self.config.counter_name(self.counter),
            procedures: procedures.join(" · "),
            clock: hour_minute(now, offset),
            online: self.online(),
            paused: self.paused,
            busy: self.busy(),
            turn: self.turn,
            serving,
            waiting: self.waiting().map(row).collect(),
            absent: self.absent().map(row).collect(),
            alerts: self.alerts(),
            unprinted: self.unprinted(),
            result: self.notice.as_ref().map(|n| ResultLine {
                text: n.text.clone(),
                error: n.error,
            }),
            transfer: self.transfer_open.then(|| TransferChoices {
                procedures: self.transfer_procedures(),
                counters: self.transfer_counters(),
            }),
            officer: self.officer.clone(),
            sign_in: self.sign_in_needed(),
            officers: self
                .config
                .officers
                .iter()
                .map(|o| (o.id.clone(), o.name.clone()))
                .collect(),
        }
    }

    /// Officers sign in and nobody is signed in here.
    pub fn sign_in_needed(&self) -> bool {
        self.config.officers_sign_in() && self.officer.is_none()
    }

    /// The broker and the authority are both there.
    pub fn online(&self) -> bool {
        self.connected && self.authority_online
    }

    /// The counter takes no citizens for now, as the board says.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// A command is waiting for its reply.
    pub fn busy(&self) -> bool {
        self.action.is_some() && !self.action_lost
    }

    /// The ticket being served here.
    pub fn serving(&self) -> Option<&Ticket> {
        self.tickets
            .iter()
            .find(|t| t.state == TicketState::Called && t.counter == Some(self.counter))
    }

    /// The tickets this counter may call, by place in line.
    pub fn waiting(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets
            .iter()
            .filter(|t| t.state == TicketState::Waiting)
    }

    /// Today's no-shows at this counter, which can be put back in line.
    pub fn absent(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets
            .iter()
            .filter(|t| t.state == TicketState::NoShow)
    }

    /// The staff alerts, in words.
    pub fn alerts(&self) -> Vec<String> {
        self.alerts.alerts(&self.config)
    }

    /// Tickets a printer may not have printed, for a reprint with one press.
    pub fn unprinted(&self) -> Vec<Unprinted> {
        self.alerts.unprinted()
    }

    /// The broker connection came or went; a new connection lists again.
    pub fn connected(&mut self, connected: bool) -> Option<CommandEnvelope> {
        self.connected = connected;
        if connected {
            self.listed_at = None;
            return self.list_if_stale();
        }
        None
    }

    /// A device's retained status: the authority's, or a kiosk's or printer's for the
    /// staff alerts.
    pub fn device_status(&mut self, device: &str, payload: &[u8]) {
        if device == "queue" {
            self.authority_online = DeviceStatus::says_online(payload);
            return;
        }
        match self.config.device(device).map(|d| d.role) {
            Some(Role::Printer) => self.alerts.printer_status(device, payload),
            Some(Role::Kiosk) => self.alerts.device_status(device, payload),
            _ => {}
        }
    }

    /// The queue's alerts, retained on `…/alerts`.
    pub fn queue_alerts(&mut self, payload: &[u8]) {
        self.alerts.queue_alerts(payload);
    }

    /// A board snapshot: the counter's pause state, and a new list when the queue moved.
    pub fn board(&mut self, board: &Board) -> Option<CommandEnvelope> {
        if self.board_seq.is_some_and(|seq| seq > board.seq) {
            return None;
        }
        self.board_seq = Some(board.seq);
        if let Some(c) = board.counters.iter().find(|c| c.number == self.counter) {
            self.paused = c.status == CounterStatus::Paused;
            self.officer.clone_from(&c.officer);
            let shown = (c.label.clone(), self.paused);
            if self.notice.as_ref().is_some_and(|n| n.expect != shown) {
                self.notice = None;
            }
        }
        self.list_if_stale()
    }

    /// Asks for the tickets of this counter unless the list is current or on its way.
    fn list_if_stale(&mut self) -> Option<CommandEnvelope> {
        if self.listing.is_some() || (self.listed_at.is_some() && self.listed_at >= self.board_seq)
        {
            return None;
        }
        self.listed_at = self.board_seq;
        let envelope = envelope(Command::List {
            procedure: None,
            state: None,
            counter: Some(self.counter),
            day: None,
        });
        self.listing = Some(Outstanding::sent(envelope.clone(), self.now));
        Some(envelope)
    }

    /// A command pressed: the command to send, or nothing while another one waits.
    fn press(&mut self, command: Command) -> Option<CommandEnvelope> {
        if self.busy() {
            return None;
        }
        self.transfer_open = false;
        if let Some(lost) = self
            .action
            .as_mut()
            .filter(|a| a.envelope.command == command)
        {
            // The same action after no answer: the same id, answered once.
            self.action_lost = false;
            return Some(lost.restart(self.now));
        }
        let envelope = envelope(command);
        self.action = Some(Outstanding::sent(envelope.clone(), self.now));
        self.action_lost = false;
        self.notice = None;
        Some(envelope)
    }

    /// Opens the transfer picker when a ticket is being served.
    fn open_transfer(&mut self) {
        self.transfer_open = self.serving().is_some() && !self.busy();
    }

    /// Procedures the ticket being served can be sent to: (id, name).
    pub fn transfer_procedures(&self) -> Vec<(String, String)> {
        let current = self.serving().map(|t| t.procedure.as_str());
        self.config
            .procedures
            .iter()
            .filter(|p| p.enabled && Some(p.id.as_str()) != current)
            .map(|p| (p.id.clone(), p.name_vi.clone()))
            .collect()
    }

    /// Other counters that serve the procedure of the ticket being served.
    pub fn transfer_counters(&self) -> Vec<(u16, String)> {
        let Some(procedure) = self.serving().map(|t| &t.procedure) else {
            return Vec::new();
        };
        self.config
            .counters
            .iter()
            .filter(|c| c.number != self.counter && c.procedures.contains(procedure))
            .map(|c| (c.number, c.name.clone()))
            .collect()
    }

    /// The authority's reply to the action or to the list.
    pub fn reply(&mut self, reply: Reply) -> Option<CommandEnvelope> {
        if self.listing.as_ref().is_some_and(|l| l.answered_by(&reply)) {
            self.listing = None;
            if let Some(tickets) = reply.tickets {
                self.tickets = tickets;
            }
            return self.list_if_stale();
        }
        let action = self.action.take_if(|a| a.answered_by(&reply))?;
        self.action_lost = false;
        self.turn += 1;
        let serving = self.serving().map(|t| t.label.clone());
        let expect = match (&reply.error, &action.envelope.command) {
            (Some(_), _) => (serving, self.paused),
            (None, Command::CallNext { .. } | Command::Call { .. } | Command::Recall { .. }) => {
                (reply.ticket.as_ref().map(|t| t.label.clone()), self.paused)
            }
            (
                None,
                Command::Complete { .. } | Command::NoShow { .. } | Command::Transfer { .. },
            ) => (None, self.paused),
            (None, Command::Pause { .. }) => (serving, true),
            (None, Command::Resume { .. }) => (serving, false),
            (None, _) => (serving, self.paused),
        };
        self.notice = Some(match (&reply.error, &reply.ticket) {
            (Some(error), _) => Notice {
                text: error.message.clone(),
                error: true,
                expect,
            },
            (None, ticket) => Notice {
                text: self.done_words(&action.envelope.command, ticket.as_ref()),
                error: false,
                expect,
            },
        });
        // What the action changed shows with the next list, asked now rather than when
        // the board moves: the console draws no conclusion of its own.
        self.listed_at = None;
        self.list_if_stale()
    }

    fn done_words(&self, command: &Command, ticket: Option<&Ticket>) -> String {
        let label = ticket.map_or("", |t| t.label.as_str());
        match command {
            Command::CallNext { .. } | Command::Call { .. } => format!("Đã gọi số {label}"),
            Command::Recall { .. } => format!("Đã gọi lại số {label}"),
            Command::NoShow { .. } => format!("Số {label}: công dân vắng mặt"),
            Command::Reactivate { .. } => format!("Số {label} đã vào lại hàng chờ"),
            Command::Complete {
                dossier: Some(dossier),
                ..
            } => format!("Đã hoàn thành số {label}, mã hồ sơ {dossier}"),
            Command::Complete { .. } => format!("Đã hoàn thành số {label}"),
            Command::Reprint { .. } => format!("Đã gửi lệnh in lại phiếu số {label}"),
            Command::Transfer {
                to_procedure,
                to_counter,
                ..
            } => {
                let target = match (to_counter, to_procedure) {
                    (Some(n), _) => self.config.counter_name(*n),
                    (None, Some(s)) => self.procedure_name(s),
                    (None, None) => String::new(),
                };
                format!("Đã chuyển số {label} sang {target}")
            }
            Command::SignIn { officer, .. } => {
                let name = self
                    .config
                    .officer(officer)
                    .map_or(officer.as_str(), |o| &o.name);
                format!("Đã đăng nhập: {name}")
            }
            Command::SignOut { .. } => "Đã đăng xuất".into(),
            Command::Pause { .. } => "Quầy đã tạm dừng nhận công dân".into(),
            Command::Resume { .. } => "Quầy tiếp tục nhận công dân".into(),
            _ => "Xong".into(),
        }
    }

    /// The clock moves: commands without a reply are sent again or given up.
    pub fn tick(&mut self, now: OffsetDateTime) -> Vec<CommandEnvelope> {
        self.now = now;
        let mut resend = Vec::new();
        if let Some(listing) = &mut self.listing {
            match listing.due(now) {
                Due::Wait => {}
                Due::Resend(envelope) => resend.push(envelope),
                Due::GiveUp => self.listing = None,
            }
        }
        let serving = self.serving().map(|t| t.label.clone());
        if let (Some(action), false) = (&mut self.action, self.action_lost) {
            match action.due(now) {
                Due::Wait => {}
                Due::Resend(envelope) => resend.push(envelope),
                Due::GiveUp => {
                    self.action_lost = true;
                    self.notice = Some(Notice {
                        expect: (serving, self.paused),
                        text: "Máy chủ hàng đợi chưa trả lời. Bấm lại đúng nút đó để thử \
                               lại; công dân không bị gọi hai lần."
                            .into(),
                        error: true,
                    });
                }
            }
        }
        resend
    }

    /// The procedure's Vietnamese name (its id if the site has no such procedure).
    pub fn procedure_name(&self, procedure: &str) -> String {
        self.config
            .procedure(procedure)
            .map_or(procedure.to_string(), |p| p.name_vi.clone())
    }
}

fn envelope(command: Command) -> CommandEnvelope {
    CommandEnvelope::new(uuid::Uuid::new_v4().to_string(), command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-11-26 09:00 +7);

    fn console() -> ConsoleModel {
        let mut m = ConsoleModel::new(Arc::new(SiteConfig::default_site()), 1, T);
        let _ = m.connected(true);
        m
    }

    #[test]
    fn a_second_click_made_on_the_screen_before_the_answer_is_dropped() {
        let mut m = console();
        let seen = m.screen().turn;
        let first = m
            .act_on(seen, Action::CallNext { dossier: None })
            .expect("the first click is sent");
        assert!(m.screen().busy);
        assert_eq!(m.act_on(seen, Action::CallNext { dossier: None }), None);
        let _ = m.reply(Reply::ok(first.id.clone()));
        assert!(!m.screen().busy);
        assert_eq!(
            m.act_on(seen, Action::CallNext { dossier: None }),
            None,
            "the click came from the screen before the answer"
        );
        let next = m
            .act_on(m.turn(), Action::CallNext { dossier: None })
            .expect("a click on the new screen is sent");
        assert_ne!(next.id, first.id);
    }

    #[test]
    fn the_screen_says_what_the_last_action_did() {
        let mut m = console();
        let sent = m.act(Action::PauseOrResume).expect("sent");
        assert_eq!(m.screen().result, None);
        let _ = m.reply(Reply::ok(sent.id));
        let screen = m.screen();
        assert_eq!(screen.counter_name, "Quầy 1");
        assert_eq!(
            screen.result,
            Some(ResultLine {
                text: "Quầy đã tạm dừng nhận công dân".into(),
                error: false
            })
        );
        assert_eq!(
            screen.transfer, None,
            "no one is served: nothing to transfer"
        );
    }
}
