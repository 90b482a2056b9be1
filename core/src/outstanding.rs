//! A command on its way to the authority, for devices with a screen: sent again with the
//! same id (so the authority answers it once) until its reply comes or the device gives
//! up and says so.

use time::{Duration, OffsetDateTime};

use crate::protocol::{CommandEnvelope, Reply};

/// No reply within this time: the command is sent again, same id.
pub const RESEND_AFTER: Duration = Duration::seconds(2);
/// No reply within this time: the person in front of the screen is told.
pub const GIVE_UP_AFTER: Duration = Duration::seconds(8);

#[derive(Debug, Clone, PartialEq)]
/// A command sent and not yet answered.
pub struct Outstanding {
    /// The command, as sent.
    pub envelope: CommandEnvelope,
    first_sent: OffsetDateTime,
    last_sent: OffsetDateTime,
}

/// What the clock says about an outstanding command.
#[derive(Debug, Clone, PartialEq)]
pub enum Due {
    /// Not yet: wait for the reply.
    Wait,
    /// Send this again, with the same id.
    Resend(CommandEnvelope),
    /// No reply in time: tell the person.
    GiveUp,
}

impl Outstanding {
    /// `envelope` was sent at `now`.
    pub fn sent(envelope: CommandEnvelope, now: OffsetDateTime) -> Outstanding {
        Outstanding {
            envelope,
            first_sent: now,
            last_sent: now,
        }
    }

    /// Whether `reply` answers this command.
    pub fn answered_by(&self, reply: &Reply) -> bool {
        reply.id.as_deref() == Some(self.envelope.id.as_str())
    }

    /// What to do at `now`.
    pub fn due(&mut self, now: OffsetDateTime) -> Due {
        if now - self.first_sent >= GIVE_UP_AFTER {
            Due::GiveUp
        } else if now - self.last_sent >= RESEND_AFTER {
            self.last_sent = now;
            Due::Resend(self.envelope.clone())
        } else {
            Due::Wait
        }
    }

    /// Tries again from now, with the same id.
    pub fn restart(&mut self, now: OffsetDateTime) -> CommandEnvelope {
        self.first_sent = now;
        self.last_sent = now;
        self.envelope.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Command;
    use time::macros::datetime;

    #[test]
    fn a_command_is_resent_with_its_id_then_given_up() {
        let t = datetime!(2026-11-26 08:00 +7);
        let envelope = CommandEnvelope::new("c1", Command::Recall { counter: None });
        let mut o = Outstanding::sent(envelope.clone(), t);
        assert_eq!(o.due(t + Duration::seconds(1)), Due::Wait);
        assert_eq!(o.due(t + RESEND_AFTER), Due::Resend(envelope.clone()));
        assert_eq!(o.due(t + RESEND_AFTER + Duration::seconds(1)), Due::Wait);
        assert_eq!(o.due(t + GIVE_UP_AFTER), Due::GiveUp);
        assert_eq!(o.restart(t + GIVE_UP_AFTER), envelope);
        assert_eq!(o.due(t + GIVE_UP_AFTER + Duration::seconds(1)), Due::Wait);
        assert!(o.answered_by(&Reply::ok("c1".into())));
        assert!(!o.answered_by(&Reply::ok("c2".into())));
    }
}
