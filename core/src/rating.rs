//! What the rating screen shows and sends, without the UI toolkit: when the counter
//! completes a ticket, the citizen is asked once; one tap sends the rating, a thank-you
//! follows, and an unanswered question goes away by itself.

use crate::outstanding::{Due, Outstanding};
use crate::protocol::{Command, CommandEnvelope, EventKind, Rating, Reply};
use time::{Duration, OffsetDateTime};
use tracing::warn;

/// Nobody tapped within this time: back to the welcome screen, quietly.
pub const ASK_FOR: Duration = Duration::seconds(60);
/// How long the thank-you stays.
pub const THANKS_FOR: Duration = Duration::seconds(5);

/// What the rating screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Screen {
    /// The welcome, between citizens.
    Idle,
    /// The three faces, for the ticket just completed.
    Ask,
    /// The thank-you.
    Thanks,
}

/// One counter's rating screen.
pub struct RatingModel {
    counter: u16,
    /// What it shows.
    pub screen: Screen,
    /// The id of the ticket asked about.
    pub ticket: Option<String>,
    since: OffsetDateTime,
    now: OffsetDateTime,
    sending: Option<Outstanding>,
}

impl RatingModel {
    /// The rating screen of counter `counter`, at its welcome.
    pub fn new(counter: u16, now: OffsetDateTime) -> RatingModel {
        RatingModel {
            counter,
            screen: Screen::Idle,
            ticket: None,
            since: now,
            now,
            sending: None,
        }
    }

    fn show(&mut self, screen: Screen) {
        self.screen = screen;
        self.since = self.now;
    }

    /// An event of the queue: a ticket completed at this counter is asked about.
    pub fn event(&mut self, event: &EventKind) {
        if let EventKind::Completed {
            ticket, counter, ..
        } = event
        {
            if *counter == self.counter {
                self.ticket = Some(ticket.clone());
                self.show(Screen::Ask);
            }
        }
    }

    /// The number of the ticket asked about: its id is the business day and the label,
    /// "20261126-1023".
    pub fn label(&self) -> Option<&str> {
        let id = self.ticket.as_deref()?;
        Some(id.split_once('-').map_or(id, |(_, label)| label))
    }

    /// A tap on a face: the rating to send; the thank-you shows at once.
    pub fn tap(&mut self, rating: Rating) -> Option<CommandEnvelope> {
        if self.screen != Screen::Ask {
            return None;
        }
        let ticket = self.ticket.clone()?;
        let envelope = CommandEnvelope::new(
            uuid::Uuid::new_v4().to_string(),
            Command::Rate { ticket, rating },
        );
        self.sending = Some(Outstanding::sent(envelope.clone(), self.now));
        self.show(Screen::Thanks);
        Some(envelope)
    }

    /// The authority's answer to a rating sent.
    pub fn reply(&mut self, reply: &Reply) {
        if self.sending.as_ref().is_some_and(|s| s.answered_by(reply)) {
            self.sending = None;
            if let Some(error) = &reply.error {
                warn!(cause = %error, "rating refused");
            }
        }
    }

    /// The clock moves: an unanswered rating is sent again; screens time out.
    pub fn tick(&mut self, now: OffsetDateTime) -> Option<CommandEnvelope> {
        self.now = now;
        let limit = match self.screen {
            Screen::Idle => None,
            Screen::Ask => Some(ASK_FOR),
            Screen::Thanks => Some(THANKS_FOR),
        };
        if limit.is_some_and(|limit| now - self.since >= limit) {
            self.ticket = None;
            self.show(Screen::Idle);
        }
        match self.sending.as_mut()?.due(now) {
            Due::Wait => None,
            Due::Resend(envelope) => Some(envelope),
            Due::GiveUp => {
                warn!("the rating got no reply from the queue authority; it is not counted");
                self.sending = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T: OffsetDateTime = datetime!(2026-11-26 09:00 +7);

    fn completed(counter: u16) -> EventKind {
        EventKind::Completed {
            ticket: "20261126-1004".into(),
            counter,
            service_seconds: 300,
            officer: None,
            dossier: None,
        }
    }

    #[test]
    fn a_ticket_completed_at_this_counter_is_asked_about_once() {
        let mut m = RatingModel::new(3, T);
        m.event(&completed(2));
        assert_eq!(m.screen, Screen::Idle, "another counter's ticket");
        assert_eq!(m.tap(Rating::Satisfied), None);
        m.event(&completed(3));
        assert_eq!(m.screen, Screen::Ask);
        assert_eq!(m.label(), Some("1004"));
        let sent = m.tap(Rating::VerySatisfied).expect("a rating");
        assert_eq!(
            sent.command,
            Command::Rate {
                ticket: "20261126-1004".into(),
                rating: Rating::VerySatisfied
            }
        );
        assert_eq!(m.screen, Screen::Thanks);
        assert_eq!(m.tap(Rating::Unsatisfied), None, "one tap only");
        let again = m
            .tick(T + Duration::seconds(2))
            .expect("no reply: sent again");
        assert_eq!(again.id, sent.id);
        m.reply(&Reply::ok(sent.id));
        assert_eq!(m.tick(T + Duration::seconds(4)), None);
        m.tick(T + THANKS_FOR);
        assert_eq!(m.screen, Screen::Idle);
    }

    #[test]
    fn nobody_tapping_goes_back_quietly() {
        let mut m = RatingModel::new(3, T);
        m.event(&completed(3));
        assert_eq!(m.tick(T + ASK_FOR - Duration::seconds(1)), None);
        assert_eq!(m.screen, Screen::Ask);
        assert_eq!(m.tick(T + ASK_FOR), None, "nothing is sent");
        assert_eq!((m.screen, m.ticket.clone()), (Screen::Idle, None));
    }
}
