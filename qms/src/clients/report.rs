//! `qms report`: the figures of today, a closed day, a month or a range of days, asked of
//! the authority, which reads the closed days from its archive; as a table, JSON, CSV or
//! an HTML page with charts.

use anyhow::{anyhow, bail, Context};
use qms_core::protocol::Command;
use qms_core::SiteConfig;
use time::{Date, Month, OffsetDateTime};

use crate::device::DeviceClient;
use crate::site::client_options;

use qms_core::protocol::MAX_REPORT_DAYS as MAX_DAYS;

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
    /// How to print it
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
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

    /// Asks the authority for the report and prints it.
    pub async fn run(self, config: &SiteConfig) -> anyhow::Result<()> {
        let (args, timeout) = (self, super::CLIENT_TIMEOUT);
        let (from, to) = args.period(config.site.business_day(OffsetDateTime::now_utc()))?;
        let options = client_options(config, &args.device)?;
        let mut client = DeviceClient::connect(options, &[], timeout).await?;
        let reply = client
            .send(Command::Report { from, to }, timeout)
            .await
            .with_context(|| format!("asking for the report of {from} to {to}"))?;
        client.close().await;
        if let Some(error) = reply.error {
            bail!("{} ({})", error.message, error.message_en);
        }
        let report = reply.report.ok_or_else(|| {
            anyhow!(
                "the queue authority answered without a report: it is older than this qms; \
                 update it"
            )
        })?;
        match args.format {
            Format::Text => super::emit(&report.to_text())?,
            Format::Json => super::emit(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
            Format::Csv => super::emit(&report.to_csv())?,
            Format::Html => super::emit(&qms_report::html(&report))?,
        }
        Ok(())
    }
}

/// How `qms report` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// A table for the terminal.
    Text,
    /// The figures as JSON.
    Json,
    /// CSV for Excel (UTF-8 with BOM).
    Csv,
    /// A self-contained page with charts, for the browser and for A4.
    Html,
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
