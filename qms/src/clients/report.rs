//! `qms report`: the figures of today, a closed day, a month or a range of days, asked of
//! the authority one business day at a time (a day's tickets fit one reply; a month's
//! may not).

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use qms_core::protocol::{Command, CommandError, ErrorCode, Ticket};
use qms_core::report::Report;
use qms_core::SiteConfig;
use time::{Date, Month, OffsetDateTime};

use crate::device::DeviceClient;
use crate::site::client_options;

/// The longest period one report covers.
const MAX_DAYS: i64 = 366;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// One business day, e.g. 2026-11-25 [default: today]
    #[arg(long, value_parser = parse_day, conflicts_with_all = ["month", "from", "to"])]
    day: Option<Date>,
    /// A month, e.g. 2026-11 (up to today when it is the current one)
    #[arg(long, value_parser = parse_month, conflicts_with_all = ["from", "to"])]
    month: Option<(i32, Month)>,
    /// The first day of a period, with --to
    #[arg(long, value_parser = parse_day, requires = "to")]
    from: Option<Date>,
    /// The last day of a period, with --from
    #[arg(long, value_parser = parse_day, requires = "from")]
    to: Option<Date>,
    /// Print the figures as JSON
    #[arg(long)]
    json: bool,
    #[arg(long, default_value = "admin")]
    device: String,
}

impl ReportArgs {
    /// The first and last business day asked for, `today` being the site's.
    fn period(&self, today: Date) -> anyhow::Result<(Date, Date)> {
        let (from, to) = match (self.day, self.month, self.from, self.to) {
            (Some(day), ..) => (day, day),
            (_, Some((year, month)), ..) => {
                let first = Date::from_calendar_date(year, month, 1)?;
                let last = first.replace_day(time::util::days_in_month(month, year))?;
                (first, last.min(today))
            }
            (_, _, Some(from), Some(to)) => (from, to),
            _ => (today, today),
        };
        if from > today {
            bail!("{from} has not come yet: there is nothing to report");
        }
        if from > to {
            bail!("the period starts after it ends: {from} is after {to}");
        }
        if (to - from).whole_days() >= MAX_DAYS {
            bail!("a report covers at most {MAX_DAYS} days: split {from} to {to}");
        }
        Ok((from, to))
    }

    /// Asks the authority for each day's tickets and prints the report.
    pub async fn run(self, config: &SiteConfig) -> anyhow::Result<()> {
        let (args, timeout) = (self, super::CLIENT_TIMEOUT);
        let (from, to) = args.period(config.site.business_day(OffsetDateTime::now_utc()))?;
        let options = client_options(config, &args.device)?;
        let mut client = DeviceClient::connect(options, &[], timeout).await?;
        let mut tickets = Vec::new();
        let mut day = from;
        while day <= to {
            let day_tickets = match tickets_of(&mut client, day, None, timeout).await? {
                Ok(all) => all,
                // A day too busy for one message: one procedure at a time.
                Err(refused) if refused.code == ErrorCode::TooLarge => {
                    let mut all = Vec::new();
                    for procedure in &config.procedures {
                        let some = tickets_of(&mut client, day, Some(&procedure.id), timeout);
                        all.extend(some.await?.map_err(refusal)?);
                    }
                    all
                }
                Err(refused) => return Err(refusal(refused)),
            };
            // An authority older than `day` ignores it and answers with today's tickets.
            if let Some(t) = day_tickets
                .iter()
                .find(|t| config.site.business_day(t.issued_at) != day)
            {
                bail!(
                    "asked for {day}, the queue authority answered with ticket {} of another day: \
                     it is older than this qms and cannot report other days; update it",
                    t.id
                );
            }
            tickets.extend(day_tickets);
            day = day.next_day().context("the calendar ends")?;
        }
        client.close().await;
        let report = Report::of(config, from, to, &tickets);
        if args.json {
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
        } else {
            super::emit(&report.to_text())?;
        }
        Ok(())
    }
}

fn refusal(error: CommandError) -> anyhow::Error {
    anyhow!("{} ({})", error.message, error.message_en)
}

/// The tickets of `day` (of one procedure, when given), or the authority's refusal.
async fn tickets_of(
    client: &mut DeviceClient,
    day: Date,
    procedure: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<Result<Vec<Ticket>, CommandError>> {
    let list = Command::List {
        procedure: procedure.map(str::to_string),
        state: None,
        counter: None,
        day: Some(day),
    };
    let reply = client
        .send(list, timeout)
        .await
        .with_context(|| format!("asking for the tickets of {day}"))?;
    Ok(match reply.error {
        Some(error) => Err(error),
        None => Ok(reply.tickets.unwrap_or_default()),
    })
}

pub(crate) fn parse_day(text: &str) -> Result<Date, String> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("\"{text}\" is not a day like 2026-11-25"))
}

fn parse_month(text: &str) -> Result<(i32, Month), String> {
    let bad = || format!("\"{text}\" is not a month like 2026-11");
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u8 = month.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    Ok((year, month))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use time::macros::date;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        report: ReportArgs,
    }

    fn period(args: &[&str]) -> Result<(Date, Date), String> {
        let today = date!(2026 - 11 - 27);
        let cli = Cli::try_parse_from(std::iter::once("report").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.report.period(today).map_err(|e| e.to_string())
    }

    #[test]
    fn the_period_is_today_a_day_a_month_or_a_range() {
        let today = date!(2026 - 11 - 27);
        assert_eq!(period(&[]), Ok((today, today)));
        let day = date!(2026 - 11 - 03);
        assert_eq!(period(&["--day", "2026-11-03"]), Ok((day, day)));
        assert_eq!(
            period(&["--month", "2026-10"]),
            Ok((date!(2026 - 10 - 01), date!(2026 - 10 - 31)))
        );
        assert_eq!(
            period(&["--month", "2024-02"]),
            Ok((date!(2024 - 02 - 01), date!(2024 - 02 - 29)))
        );
        assert_eq!(
            period(&["--month", "2026-11"]),
            Ok((date!(2026 - 11 - 01), today)),
            "the current month ends today"
        );
        assert_eq!(
            period(&["--from", "2026-11-20", "--to", "2026-11-24"]),
            Ok((date!(2026 - 11 - 20), date!(2026 - 11 - 24)))
        );
    }

    #[test]
    fn a_bad_period_is_refused_with_what_was_wrong() {
        let refused = |args: &[&str], words: &str| {
            let error = period(args).expect_err("refused");
            assert!(error.contains(words), "{args:?}: {error}");
        };
        refused(&["--day", "25/11/2026"], "is not a day like 2026-11-25");
        refused(&["--month", "2026-13"], "is not a month like 2026-11");
        refused(&["--from", "2026-11-20"], "--to");
        refused(
            &["--day", "2026-11-20", "--month", "2026-11"],
            "cannot be used with",
        );
        refused(
            &["--from", "2026-11-24", "--to", "2026-11-20"],
            "starts after it ends",
        );
        refused(
            &["--from", "2025-01-01", "--to", "2026-11-20"],
            "at most 366 days",
        );
        refused(&["--month", "2026-12"], "2026-12-01 has not come yet");
    }
}
