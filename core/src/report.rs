//! The figures of a day or a period from its tickets, for the office head: per procedure,
//! per counter and per day, how many were issued, served and absent, how long citizens
//! waited and were served, and how they rated the service.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use crate::calendar::day_month_year;
use crate::config::SiteConfig;
use crate::protocol::{Rating, Ticket, TicketState};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
/// The citizens' ratings, counted.
pub struct Ratings {
    /// Rất hài lòng.
    pub very_satisfied: u32,
    /// Hài lòng.
    pub satisfied: u32,
    /// Chưa hài lòng.
    pub unsatisfied: u32,
}

impl Ratings {
    fn add(&mut self, rating: Rating) {
        match rating {
            Rating::VerySatisfied => self.very_satisfied += 1,
            Rating::Satisfied => self.satisfied += 1,
            Rating::Unsatisfied => self.unsatisfied += 1,
        }
    }

    /// All ratings given.
    pub fn total(&self) -> u32 {
        self.very_satisfied + self.satisfied + self.unsatisfied
    }

    /// The share of ratings that were satisfied or very satisfied, in percent.
    pub fn satisfied_percent(&self) -> Option<u32> {
        let total = self.total();
        (total > 0).then(|| ((self.very_satisfied + self.satisfied) * 100 + total / 2) / total)
    }
}

/// The figures of a group of tickets (a procedure, a counter, the whole day).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Tickets issued: for a procedure, those issued for it, wherever they went.
    pub issued: u32,
    /// For a procedure: tickets issued for another and transferred to it. The rest of the
    /// figures count the tickets where they ended up.
    pub transferred_in: u32,
    /// Tickets served.
    pub served: u32,
    /// Tickets called whose citizen did not come.
    pub no_show: u32,
    /// Still waiting or being served.
    pub open: u32,
    /// Tickets not served when their day closed.
    pub expired: u32,
    /// From issue to the first call, over the tickets called.
    pub mean_wait_minutes: Option<u32>,
    /// The longest wait from issue to the first call.
    pub max_wait_minutes: Option<u32>,
    /// From the call to completion, over the tickets served.
    pub mean_service_minutes: Option<u32>,
    /// The ratings given.
    pub ratings: Ratings,
}

impl Figures {
    fn of<'t>(tickets: impl Iterator<Item = &'t Ticket>) -> Figures {
        let mut f = Figures::default();
        let mut waits = Vec::new();
        let mut service_times = Vec::new();
        for t in tickets {
            f.issued += 1;
            match t.state {
                TicketState::Completed => f.served += 1,
                TicketState::NoShow => f.no_show += 1,
                TicketState::Waiting | TicketState::Called => f.open += 1,
                TicketState::Expired => f.expired += 1,
            }
            if let Some(called) = t.called_at {
                waits.push((called - t.issued_at).whole_seconds());
                if let Some(done) = t.completed_at {
                    service_times.push((done - called).whole_seconds());
                }
            }
            if let Some(rating) = t.rating {
                f.ratings.add(rating);
            }
        }
        let minutes = |seconds: i64| u32::try_from((seconds + 30) / 60).unwrap_or(0);
        let mean = |xs: &[i64]| {
            (!xs.is_empty()).then(|| minutes(xs.iter().sum::<i64>() / xs.len() as i64))
        };
        f.mean_wait_minutes = mean(&waits);
        f.max_wait_minutes = waits.iter().max().map(|s| minutes(*s));
        f.mean_service_minutes = mean(&service_times);
        f
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
/// The figures of one or more business days, in total and per procedure, counter and day.
pub struct Report {
    /// The first and last business day covered.
    pub from: Date,
    /// The last business day covered.
    pub to: Date,
    /// Every ticket of the period.
    pub total: Figures,
    /// (procedure id, name, figures), in configuration order.
    pub procedures: Vec<(String, String, Figures)>,
    /// (counter number, name, figures of the tickets it called last), by number.
    pub counters: Vec<(u16, String, Figures)>,
    /// Each day that had tickets, when the report covers more than one day.
    pub days: Vec<(Date, Figures)>,
}

impl Report {
    /// The report of the business days `from` to `to` from their tickets.
    pub fn of(config: &SiteConfig, from: Date, to: Date, tickets: &[Ticket]) -> Report {
        let mut by_day: BTreeMap<Date, Vec<&Ticket>> = BTreeMap::new();
        if from != to {
            for t in tickets {
                let day = config.site.business_day(t.issued_at);
                by_day.entry(day).or_default().push(t);
            }
        }
        Report {
            from,
            to,
            total: Figures::of(tickets.iter()),
            procedures: config
                .procedures
                .iter()
                .map(|p| {
                    let mut figures = Figures::of(tickets.iter().filter(|t| t.procedure == p.id));
                    let issued_for =
                        |t: &&Ticket| t.issued_for.as_ref().unwrap_or(&t.procedure) == &p.id;
                    figures.issued = tickets.iter().filter(issued_for).count() as u32;
                    figures.transferred_in = tickets
                        .iter()
                        .filter(|t| t.procedure == p.id && t.issued_for.is_some())
                        .count() as u32;
                    (p.id.clone(), p.name_vi.clone(), figures)
                })
                .collect(),
            counters: config
                .counters
                .iter()
                .map(|c| {
                    let figures =
                        Figures::of(tickets.iter().filter(|t| t.counter == Some(c.number)));
                    (c.number, c.name.clone(), figures)
                })
                .collect(),
            days: by_day
                .into_iter()
                .map(|(day, tickets)| (day, Figures::of(tickets.into_iter())))
                .collect(),
        }
    }

    /// The report as a table in Vietnamese, for a terminal or a text file.
    pub fn to_text(&self) -> String {
        let mut out = if self.from == self.to {
            format!("Báo cáo ngày {}\n", day_month_year(self.from))
        } else {
            format!(
                "Báo cáo từ ngày {} đến ngày {}\n",
                day_month_year(self.from),
                day_month_year(self.to)
            )
        };
        out += &format!(
            "{:<44} {:>9} {:>5} {:>5} {:>5} {:>7} {:>11} {:>8} {:>8} {:>10}\n",
            "",
            "Đã cấp số",
            "Xong",
            "Vắng",
            "Chờ",
            "Hết giờ",
            "Nhận chuyển",
            "Chờ TB",
            "Xử lý TB",
            "Hài lòng"
        );
        let row = |out: &mut String, name: &str, f: &Figures| {
            let minutes = |m: Option<u32>| m.map_or("—".to_string(), |m| format!("{m} ph"));
            let satisfied = f.ratings.satisfied_percent().map_or("—".to_string(), |p| {
                format!("{p}% ({})", f.ratings.total())
            });
            let name: String = name.chars().take(44).collect();
            out.push_str(&format!(
                "{name:<44} {:>9} {:>5} {:>5} {:>5} {:>7} {:>11} {:>8} {:>8} {:>10}\n",
                f.issued,
                f.served,
                f.no_show,
                f.open,
                f.expired,
                f.transferred_in,
                minutes(f.mean_wait_minutes),
                minutes(f.mean_service_minutes),
                satisfied,
            ));
        };
        for (_, name, f) in &self.procedures {
            row(&mut out, name, f);
        }
        for (_, name, f) in &self.counters {
            row(&mut out, name, f);
        }
        for (day, f) in &self.days {
            row(&mut out, &format!("Ngày {}", day_month_year(*day)), f);
        }
        let total = if self.from == self.to {
            "Cả ngày"
        } else {
            "Tổng cộng"
        };
        row(&mut out, total, &self.total);
        let r = &self.total.ratings;
        out.push_str(&format!(
            "Đánh giá: {} rất hài lòng, {} hài lòng, {} chưa hài lòng\n",
            r.very_satisfied, r.satisfied, r.unsatisfied
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Command;
    use crate::{Actor, Answer, QueueState};
    use time::macros::datetime;
    use time::Duration;

    #[test]
    fn waits_services_absences_and_ratings_are_counted_where_they_happened() {
        let mut config = SiteConfig::default_site();
        config.hours = crate::config::Hours::always();
        let mut state = QueueState::default();
        let start = datetime!(2026-11-26 08:00 +7);
        let mut run = |device: &str, command: Command, minute: i64| {
            let actor = Actor::of(&config, device).unwrap();
            let at = start + Duration::minutes(minute);
            state.execute(&config, &actor, &command, at).answer.unwrap()
        };
        for minute in 0..3 {
            let issue = Command::issue("cccd", None);
            run("kiosk-1", issue, minute);
        }
        let call_next = || Command::CallNext { counter: None };
        let Answer::Ticket { ticket: first, .. } = run("counter-1", call_next(), 10) else {
            panic!("a ticket is called");
        };
        run("counter-1", Command::Complete { counter: None }, 16);
        let rate = Command::Rate {
            ticket: first.id,
            rating: Rating::VerySatisfied,
        };
        run("admin", rate, 17);
        run("counter-1", call_next(), 20);
        run("counter-1", Command::NoShow { counter: None }, 22);
        let list = Command::todays_tickets();
        let Answer::Tickets(tickets) = run("admin", list, 30) else {
            panic!("a list");
        };
        let day = time::macros::date!(2026 - 11 - 26);
        let report = Report::of(&config, day, day, &tickets);
        assert!(report.days.is_empty(), "one day has no rows per day");
        let cccd = &report.procedures[0].2;
        assert_eq!(
            (cccd.issued, cccd.served, cccd.no_show, cccd.open),
            (3, 1, 1, 1)
        );
        // Waits of 10 and 19 minutes; one service of 6.
        assert_eq!(cccd.mean_wait_minutes, Some(15));
        assert_eq!(cccd.max_wait_minutes, Some(19));
        assert_eq!(cccd.mean_service_minutes, Some(6));
        assert_eq!(cccd.ratings.very_satisfied, 1);
        assert_eq!(cccd.ratings.satisfied_percent(), Some(100));
        let counter_1 = &report.counters[0].2;
        assert_eq!((counter_1.served, counter_1.no_show), (1, 1));
        assert_eq!(report.counters[1].2, Figures::default());
        let text = report.to_text();
        assert!(text.contains("Đánh giá: 1 rất hài lòng, 0 hài lòng, 0 chưa hài lòng"));
        assert!(text.lines().any(|l| l.starts_with("Cả ngày")), "{text}");
        assert!(text.starts_with("Báo cáo ngày 26/11/2026\n"), "{text}");
    }

    /// The defects: the "Cấp" column read as part of "Cấp, đổi, cấp lại thẻ Căn cước", and
    /// a transferred ticket counted as issued for the procedure it was moved to.
    #[test]
    fn the_report_counts_a_transferred_ticket_where_it_was_issued() {
        let mut config = SiteConfig::default_site();
        config.hours = crate::config::Hours::always();
        let mut state = QueueState::default();
        let at = datetime!(2026-11-26 08:00 +7);
        let mut run = |device: &str, command: Command| {
            let actor = Actor::of(&config, device).unwrap();
            state.execute(&config, &actor, &command, at).answer.unwrap()
        };
        run("kiosk-1", Command::issue("cccd", None));
        run("kiosk-1", Command::issue("cccd", None));
        run("counter-1", Command::CallNext { counter: None });
        let transfer = Command::Transfer {
            counter: None,
            to_procedure: Some("cu-tru".into()),
            to_counter: None,
        };
        run("counter-1", transfer);
        let Answer::Tickets(tickets) = run("admin", Command::todays_tickets()) else {
            panic!("a list");
        };
        let day = time::macros::date!(2026 - 11 - 26);
        let report = Report::of(&config, day, day, &tickets);
        let of = |id: &str| &report.procedures.iter().find(|p| p.0 == id).unwrap().2;
        assert_eq!((of("cccd").issued, of("cccd").transferred_in), (2, 0));
        assert_eq!((of("cu-tru").issued, of("cu-tru").transferred_in), (0, 1));
        assert_eq!(of("cu-tru").open, 1, "it waits in the residence line");
        let text = report.to_text();
        let header = text.lines().nth(1).unwrap();
        assert!(
            header.contains("Đã cấp số") && header.contains("Nhận chuyển"),
            "{text}"
        );
        assert!(!header.split_whitespace().any(|w| w == "Cấp"), "{text}");
    }

    #[test]
    fn a_period_adds_up_its_days_and_shows_each() {
        let mut config = SiteConfig::default_site();
        config.hours = crate::config::Hours::always();
        let mut state = QueueState::default();
        let actor = |device: &str| Actor::of(&config, device).unwrap();
        let mut tickets = Vec::new();
        // One ticket at 06:30 on the 24th in Hồ Chí Minh City (still the 23rd in UTC), two
        // on the 26th; nobody came on the 25th.
        for (at, count) in [
            (datetime!(2026-11-23 23:30 UTC), 1),
            (datetime!(2026-11-26 08:00 +7), 2),
        ] {
            for _ in 0..count {
                let issue = Command::issue("cu-tru", None);
                state.execute(&config, &actor("kiosk-1"), &issue, at);
            }
            let list = Command::todays_tickets();
            let outcome = state.execute(&config, &actor("admin"), &list, at);
            let Ok(Answer::Tickets(day_tickets)) = outcome.answer else {
                panic!("a list");
            };
            tickets.extend(day_tickets);
        }
        let (from, to) = (
            time::macros::date!(2026 - 11 - 24),
            time::macros::date!(2026 - 11 - 26),
        );
        let report = Report::of(&config, from, to, &tickets);
        assert_eq!(report.total.issued, 3);
        let days: Vec<(Date, u32)> = report.days.iter().map(|(d, f)| (*d, f.issued)).collect();
        assert_eq!(days, [(from, 1), (to, 2)]);
        let text = report.to_text();
        assert!(
            text.starts_with("Báo cáo từ ngày 24/11/2026 đến ngày 26/11/2026\n"),
            "{text}"
        );
        let row = |label: &str| {
            let line = text.lines().find(|l| l.starts_with(label));
            let line = line.unwrap_or_else(|| panic!("a row {label}: {text}"));
            line[label.len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(row("Ngày 24/11/2026"), "1");
        assert_eq!(row("Ngày 26/11/2026"), "2");
        assert_eq!(row("Tổng cộng"), "3");
        assert!(!text.contains("Cả ngày"), "{text}");
    }
}
