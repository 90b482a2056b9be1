//! A morning at the default office, made by the real queue: for the screenshots and
//! the UI tests.

use std::sync::Arc;

use crate::config::{Role, SiteConfig};
use crate::protocol::{
    Board, Command, CommandEnvelope, PrintJob, PriorityReason, Reply, Ticket, TicketState, VERSION,
};
use crate::{Actor, Answer, QueueState};
use time::{Duration, OffsetDateTime};

/// A sample office and its board, for tests and screenshots.
pub struct Sample {
    /// The office's configuration.
    pub config: Arc<SiteConfig>,
    /// The moment the sample is taken.
    pub now: OffsetDateTime,
    /// The board at that moment.
    pub board: Board,
    /// The reply to the next ticket taken at the kiosk.
    pub reply: Reply,
    /// The queue itself, to answer more commands.
    pub state: QueueState,
}

impl Sample {
    /// Answers `envelope` from `device` as the authority would, at `now`, and moves the
    /// board on.
    pub fn answer(&mut self, device: &str, envelope: &CommandEnvelope) -> Reply {
        let answer = Actor::of(&self.config, device).and_then(|actor| {
            self.state
                .execute(&self.config, &actor, &envelope.command, self.now)
                .answer
        });
        self.board = self.state.board(&self.config, self.now);
        Answer::reply(&envelope.id, answer)
    }
}

/// Thursday 26 November 2026 at 08:40: a dozen citizens waiting, two counters calling,
/// every counter's console online. `quota` sets the Căn cước card's daily quota (the
/// default is 200).
pub fn morning(quota: Option<u32>) -> Sample {
    let mut config = SiteConfig::default_site();
    config.procedures[0].daily_quota = quota;
    let now = time::macros::datetime!(2026-11-26 08:40 +7);
    let mut state = QueueState::default();
    for device in config.devices.iter().filter(|d| d.role == Role::Counter) {
        state.device_online(&device.id, true);
    }
    let kiosk = Actor::of(&config, "kiosk-1").expect("the default office has kiosk-1");
    let run = |state: &mut QueueState, actor: &Actor, command: Command, at: OffsetDateTime| {
        state.execute(&config, actor, &command, at).answer
    };
    let procedures = [
        "cccd",
        "cu-tru",
        "cccd",
        "vneid",
        "xac-nhan-cu-tru",
        "cccd",
        "xu-phat",
    ];
    for (i, procedure) in procedures.iter().cycle().take(13).enumerate() {
        let priority = (i == 4).then_some(PriorityReason::Elderly);
        let issue = Command::issue(procedure.to_string(), priority);
        let _ = run(
            &mut state,
            &kiosk,
            issue,
            now - Duration::minutes(40 - i as i64 * 3),
        );
    }
    for counter in [1, 3] {
        let officer =
            Actor::of(&config, &format!("counter-{counter}")).expect("configured counter");
        let call = Command::CallNext {
            counter: None,
            dossier: None,
        };
        let _ = run(&mut state, &officer, call, now - Duration::minutes(2));
    }
    let issue = Command::issue("cccd", None);
    let reply = Answer::reply("sample", run(&mut state, &kiosk, issue, now));
    let board = state.board(&config, now);
    Sample {
        config: Arc::new(config),
        now,
        board,
        reply,
        state,
    }
}

/// The print job of ticket `label` for the Căn cước card, issued at 08:41 that morning
/// with 5 people ahead and about 25 minutes to wait.
pub fn print_job(label: &str) -> PrintJob {
    PrintJob {
        v: VERSION,
        job: String::new(),
        ticket: Ticket {
            id: format!("20261126-{label}"),
            label: label.into(),
            procedure: "cccd".into(),
            priority: None,
            issued_at: time::macros::datetime!(2026-11-26 08:41 +7),
            issued_by: "kiosk-1".into(),
            issued_for: None,
            state: TicketState::Waiting,
            queue_key: 40,
            counter: None,
            target_counter: None,
            called_at: None,
            recalls: 0,
            completed_at: None,
            rating: None,
            officer: None,
            dossier: None,
        },
        site_name: "Công an phường Sài Gòn".into(),
        procedure_vi: "Cấp, đổi, cấp lại thẻ Căn cước".into(),
        procedure_en: "Citizen ID card: issue, renew, replace".into(),
        english: false,
        ahead: 5,
        wait_minutes: Some(25),
        follow_url: None,
    }
}
