//! Busy days made by the real queue, minute by minute, for the report's pictures and the
//! year benchmark: citizens arrive over the office hours with a morning peak, officers
//! sign in at every counter, call, serve for about their procedure's time, now and then
//! mark an absence or transfer, and most citizens rate. The same seed makes the same days.

use time::{Date, Duration, OffsetDateTime, Time};

use crate::config::{Officer, SiteConfig};
use crate::protocol::{Command, Event, PriorityReason, Rating, TicketState};
use crate::secret::PinHash;
use crate::{Actor, Answer, QueueState};

/// The officers of the generated office: (id, name), one per counter. Their PIN is 2468.
pub const OFFICERS: [(&str, &str); 5] = [
    ("cb-an", "Nguyễn Văn An"),
    ("cb-binh", "Trần Thị Bình"),
    ("cb-chi", "Lê Minh Chi"),
    ("cb-dung", "Phạm Quốc Dũng"),
    ("cb-giang", "Võ Thu Giang"),
];

/// The default office with its five officers, who sign in with PIN 2468.
pub fn office() -> SiteConfig {
    let mut config = SiteConfig::default_site();
    let hash = PinHash::of("2468");
    config.officers = OFFICERS
        .iter()
        .map(|(id, name)| Officer {
            id: id.to_string(),
            name: name.to_string(),
            pin_hash: hash.clone(),
            head: false,
        })
        .collect();
    config
}

/// A small deterministic random source (xorshift64*): no dependency, same seed same days.
pub struct Dice(u64);

impl Dice {
    /// From a seed (any value).
    pub fn new(seed: u64) -> Dice {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n.max(1)
    }

    /// True `percent` times in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One business day of about `tickets` citizens at `config`'s office (which should be
/// [`office`] or have officers for its counters), as the events the authority would
/// have stored, the day opened and closed.
pub fn day(config: &SiteConfig, day: Date, tickets: u32, dice: &mut Dice) -> Vec<Event> {
    let offset = config.site.utc_offset;
    let mut state = QueueState::default();
    let mut events = Vec::new();
    let at = |minute: i64| {
        day.with_time(Time::from_hms(7, 30, 0).expect("a time"))
            .assume_offset(offset)
            + Duration::minutes(minute)
    };
    let mut run = |state: &mut QueueState, device: &str, command: Command, now: OffsetDateTime| {
        let actor = Actor::of(config, device).expect("a device of the office");
        let outcome = state.execute(config, &actor, &command, now);
        events.extend(outcome.events);
        outcome.answer
    };
    // Office hours 07:30–11:30 and 13:30–17:00: minutes 0–240 and 360–570.
    let open: Vec<i64> = (0..240).chain(360..570).collect();
    let counters: Vec<u16> = config.counters.iter().map(|c| c.number).collect();
    for (i, number) in counters.iter().enumerate() {
        if let Some((officer, _)) = OFFICERS.get(i) {
            let sign_in = Command::SignIn {
                counter: None,
                officer: officer.to_string(),
                pin: "2468".into(),
            };
            let _ = run(&mut state, &format!("counter-{number}"), sign_in, at(0));
        }
    }
    // Arrivals: a peak in the first two hours of the morning.
    let mut arrivals: Vec<i64> = (0..tickets)
        .map(|_| {
            if dice.chance(55) {
                dice.below(120) as i64
            } else {
                open[dice.below(open.len() as u64) as usize]
            }
        })
        .collect();
    arrivals.sort_unstable();
    let procedures: Vec<(&str, f64)> = config
        .procedures
        .iter()
        .filter(|p| p.enabled)
        .map(|p| (p.id.as_str(), p.avg_service_minutes))
        .collect();
    // Per counter: the minute its current service ends.
    let mut busy_until: Vec<Option<i64>> = vec![None; counters.len()];
    let mut next_arrival = 0;
    for minute in 0..600 {
        let now = at(minute);
        while next_arrival < arrivals.len() && arrivals[next_arrival] <= minute {
            next_arrival += 1;
            // Căn cước cards are the most asked for.
            let index = if dice.chance(25) {
                0
            } else {
                dice.below(procedures.len() as u64) as usize
            };
            let priority = dice.chance(8).then_some(PriorityReason::Elderly);
            let _ = run(
                &mut state,
                "kiosk-1",
                Command::issue(procedures[index].0, priority),
                now,
            );
        }
        for (i, number) in counters.iter().enumerate() {
            let device = format!("counter-{number}");
            if busy_until[i].is_some_and(|end| end > minute) {
                continue;
            }
            if busy_until[i].take().is_some() {
                let finish = if dice.chance(4) {
                    Command::NoShow { counter: None }
                } else if dice.chance(3) {
                    let to = procedures[dice.below(procedures.len() as u64) as usize].0;
                    Command::Transfer {
                        counter: None,
                        to_procedure: Some(to.to_string()),
                        to_counter: None,
                    }
                } else {
                    Command::Complete {
                        counter: None,
                        dossier: Some(format!(
                            "000.00.14.H29-{}-{:04}",
                            day.to_string().replace('-', ""),
                            dice.below(10_000)
                        )),
                    }
                };
                if let Ok(Answer::Ticket { ticket, .. }) = run(&mut state, &device, finish, now) {
                    if ticket.state == TicketState::Completed && dice.chance(70) {
                        let rating = match dice.below(10) {
                            0 => Rating::Unsatisfied,
                            1..=4 => Rating::Satisfied,
                            _ => Rating::VerySatisfied,
                        };
                        let rate = Command::Rate {
                            ticket: ticket.id,
                            rating,
                        };
                        let _ = run(&mut state, "admin", rate, now);
                    }
                }
            }
            if !open.contains(&minute) {
                continue;
            }
            let call = Command::CallNext {
                counter: None,
                dossier: None,
            };
            if let Ok(Answer::Ticket { ticket, .. }) = run(&mut state, &device, call, now) {
                let usual = procedures
                    .iter()
                    .find(|p| p.0 == ticket.procedure)
                    .map_or(8.0, |p| p.1);
                let minutes = (usual * (0.4 + dice.below(70) as f64 / 100.0)).ceil() as i64;
                busy_until[i] = Some(minute + minutes.max(1));
            }
        }
    }
    // The day closes when the next one opens: the authority's own roll-over.
    let next = (day + Duration::days(1))
        .with_time(Time::MIDNIGHT)
        .assume_offset(offset);
    let closed = state.roll_over(config, next);
    events.extend(
        closed
            .into_iter()
            .take_while(|e| !matches!(e.kind, crate::protocol::EventKind::DayOpened { .. })),
    );
    events
}

/// The office's working days (Monday to Saturday) from `from` to `to`, each of about
/// `tickets` citizens, as the events the authority would have stored.
pub fn days(
    config: &SiteConfig,
    from: Date,
    to: Date,
    tickets: u32,
    dice: &mut Dice,
) -> Vec<(Date, Vec<Event>)> {
    let mut days = Vec::new();
    let mut date = from;
    while date <= to {
        if date.weekday() != time::Weekday::Sunday {
            days.push((date, day(config, date, tickets, dice)));
        }
        let Some(next) = date.next_day() else { break };
        date = next;
    }
    days
}

/// What those days leave for the reports.
pub fn records(
    config: &SiteConfig,
    from: Date,
    to: Date,
    tickets: u32,
    dice: &mut Dice,
) -> Vec<crate::report::DayRecord> {
    days(config, from, to, tickets, dice)
        .into_iter()
        .map(|(date, events)| crate::report::DayRecord::of_events(date, &events))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::DayRecord;

    #[test]
    fn a_generated_day_is_busy_complete_and_the_same_for_the_same_seed() {
        let config = office();
        let day = time::macros::date!(2026 - 11 - 26);
        let events = super::day(&config, day, 300, &mut Dice::new(7));
        let record = DayRecord::of_events(day, &events);
        assert!(record.tickets.len() >= 250, "{}", record.tickets.len());
        let served = record
            .tickets
            .iter()
            .filter(|t| t.state == TicketState::Completed)
            .count();
        assert!(served > 150, "{served} served");
        assert!(record.tickets.iter().any(|t| t.rating.is_some()));
        assert!(record.tickets.iter().any(|t| t.issued_for.is_some()));
        assert!(record
            .tickets
            .iter()
            .all(|t| t.state != TicketState::Waiting));
        assert!(record
            .tickets
            .iter()
            .filter(|t| t.state == TicketState::Completed)
            .all(|t| t.officer.is_some()));
        let again = super::day(&config, day, 300, &mut Dice::new(7));
        assert_eq!(again, events);
    }
}
