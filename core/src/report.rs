//! The figures of a day or a period for the office head, from what each business day
//! left ([`DayRecord`]: its tickets and the tickets refused): per procedure, counter,
//! officer, hour of the day and day, how many were issued, served, absent, transferred,
//! expired and refused, how long citizens waited and were served (median, p90, max) and
//! how they rated the service. As a terminal table, CSV for Excel, or JSON; the HTML page
//! with charts is drawn from the same figures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::calendar::day_month_year;
use crate::config::SiteConfig;
use crate::protocol::{ErrorCode, Event, Rating, Ticket, TicketState};
use crate::QueueState;

/// A ticket refused at the kiosk: demand the office did not meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The procedure asked for.
    #[serde(rename = "service")]
    pub procedure: String,
    /// Why: the quota, the hours, the procedure switched off.
    pub code: ErrorCode,
}

/// What a business day leaves for the reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayRecord {
    /// The business day.
    pub day: Date,
    /// Its tickets, as they ended the day (or are now, for today).
    pub tickets: Vec<Ticket>,
    /// The tickets refused.
    #[serde(default)]
    pub refused: Vec<Refusal>,
}

impl DayRecord {
    /// The record of `day` from its events.
    pub fn of_events(day: Date, events: &[Event]) -> DayRecord {
        DayRecord::of_state(day, &QueueState::replayed(events))
    }

    /// The record of the day `state` holds.
    pub fn of_state(day: Date, state: &QueueState) -> DayRecord {
        DayRecord {
            day,
            tickets: state.tickets().cloned().collect(),
            refused: state.refused().to_vec(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

/// How long something took over a group of tickets, in seconds. The median and p90 are
/// by nearest rank: of n sorted values, the ⌈n·p⌉-th (so the median of 4 is the 2nd).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    /// How many tickets.
    pub count: u32,
    /// The median.
    pub median_seconds: u32,
    /// 90 of 100 took no longer.
    pub p90_seconds: u32,
    /// The longest.
    pub max_seconds: u32,
}

impl Spread {
    /// The spread of `seconds`, none for no values; sorts them.
    pub fn of(seconds: &mut [u32]) -> Option<Spread> {
        if seconds.is_empty() {
            return None;
        }
        seconds.sort_unstable();
        let n = seconds.len();
        let rank = |p: usize| seconds[(n * p).div_ceil(100).max(1) - 1];
        Some(Spread {
            count: n as u32,
            median_seconds: rank(50),
            p90_seconds: rank(90),
            max_seconds: seconds[n - 1],
        })
    }
}

/// Seconds as whole minutes, rounded.
pub fn minutes(seconds: u32) -> u32 {
    (seconds + 30) / 60
}

/// The figures of a group of tickets (a procedure, a counter, an officer, an hour, a day).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Tickets issued. A ticket is issued once, for the procedure it was issued for: a
    /// transfer does not count it again where it went.
    pub issued: u32,
    /// For a procedure: tickets issued for another and transferred to it. The figures
    /// below count tickets where they ended up.
    pub transferred_in: u32,
    /// For a procedure: its tickets transferred to another.
    pub transferred_out: u32,
    /// Tickets served.
    pub served: u32,
    /// Tickets called whose citizen did not come.
    pub no_show: u32,
    /// Still waiting or being served.
    pub open: u32,
    /// Not served when their day closed.
    pub expired: u32,
    /// Tickets refused at the kiosk (quota, hours, procedure off).
    pub refused: u32,
    /// From issue to the first call, over the tickets called.
    pub wait: Option<Spread>,
    /// From the call to completion, over the tickets served.
    pub service: Option<Spread>,
    /// The ratings given.
    pub ratings: Ratings,
}

/// Collects the figures of one group.
#[derive(Default)]
struct Tally {
    figures: Figures,
    waits: Vec<u32>,
    services: Vec<u32>,
}

fn seconds_between(from: OffsetDateTime, to: OffsetDateTime) -> u32 {
    u32::try_from((to - from).whole_seconds()).unwrap_or(0)
}

impl Tally {
    /// Counts where the ticket ended up; `issued` says whether it was issued here too.
    fn ticket(&mut self, t: &Ticket, issued: bool) {
        let f = &mut self.figures;
        f.issued += u32::from(issued);
        match t.state {
            TicketState::Completed => f.served += 1,
            TicketState::NoShow => f.no_show += 1,
            TicketState::Waiting | TicketState::Called => f.open += 1,
            TicketState::Expired => f.expired += 1,
        }
        if let Some(called) = t.called_at {
            self.waits.push(seconds_between(t.issued_at, called));
            if let (TicketState::Completed, Some(done)) = (t.state, t.completed_at) {
                self.services.push(seconds_between(called, done));
            }
        }
        if let Some(rating) = t.rating {
            f.ratings.add(rating);
        }
    }

    fn done(mut self) -> Figures {
        self.figures.wait = Spread::of(&mut self.waits);
        self.figures.service = Spread::of(&mut self.services);
        self.figures
    }
}

/// One row of a report: a procedure, a counter or an officer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The procedure's id, the counter's number, the officer's id.
    pub key: String,
    /// Its name as people read it.
    pub name: String,
    /// Its figures.
    pub figures: Figures,
}

/// The figures of the tickets issued in one hour of the day (site time), over the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourRow {
    /// 0 to 23: 8 is 08:00–08:59.
    pub hour: u8,
    /// Its figures.
    pub figures: Figures,
}

/// One day of a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayRow {
    /// The business day.
    pub day: Date,
    /// Its figures.
    pub figures: Figures,
}

/// The waits, counted in bands of [`WAIT_BAND_MINUTES`]; the last band is open-ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitBand {
    /// From this many minutes.
    pub from_minutes: u32,
    /// To under this many; none for the last band.
    pub to_minutes: Option<u32>,
    /// Citizens who waited that long.
    pub count: u32,
}

/// The width of a band of the wait distribution.
pub const WAIT_BAND_MINUTES: u32 = 10;
/// Bands of the wait distribution: 0–10 … 80–90, 90 and more.
const WAIT_BANDS: u32 = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// The figures of one or more business days.
pub struct Report {
    /// The office.
    pub site_name: String,
    /// The first business day covered.
    pub from: Date,
    /// The last business day covered.
    pub to: Date,
    /// Every ticket of the period.
    pub total: Figures,
    /// Per procedure, in configuration order.
    pub procedures: Vec<Row>,
    /// Per counter (the tickets it called last), by number.
    pub counters: Vec<Row>,
    /// Per officer (the tickets they called or served last), in configuration order, then
    /// officers no longer configured; empty where officers do not sign in.
    pub officers: Vec<Row>,
    /// Per hour of the day the tickets were issued in; hours with none are left out.
    pub hours: Vec<HourRow>,
    /// The hour the most tickets were issued in.
    pub busiest_hour: Option<u8>,
    /// Each day that had tickets, when the report covers more than one day.
    pub days: Vec<DayRow>,
    /// How long citizens waited to be called.
    pub wait_bands: Vec<WaitBand>,
}

impl Report {
    /// The report of business days `from` to `to` from what they left.
    pub fn of(config: &SiteConfig, from: Date, to: Date, days: &[DayRecord]) -> Report {
        let offset = config.site.utc_offset;
        let mut total = Tally::default();
        let mut procedures: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut counters: BTreeMap<u16, Tally> = BTreeMap::new();
        let mut officers: BTreeMap<&str, Tally> = BTreeMap::new();
        let mut hours: BTreeMap<u8, Tally> = BTreeMap::new();
        let mut day_rows = Vec::new();
        for record in days.iter().filter(|d| (from..=to).contains(&d.day)) {
            let mut day = Tally::default();
            for t in &record.tickets {
                let issued_for = t.issued_for.as_deref().unwrap_or(&t.procedure);
                total.ticket(t, true);
                day.ticket(t, true);
                hours
                    .entry(t.issued_at.to_offset(offset).hour())
                    .or_default()
                    .ticket(t, true);
                let here = procedures.entry(&t.procedure).or_default();
                here.ticket(t, issued_for == t.procedure);
                if issued_for != t.procedure {
                    here.figures.transferred_in += 1;
                    let origin = procedures.entry(issued_for).or_default();
                    origin.figures.issued += 1;
                    origin.figures.transferred_out += 1;
                }
                if let Some(counter) = t.counter {
                    counters.entry(counter).or_default().ticket(t, true);
                }
                if let Some(officer) = &t.officer {
                    officers.entry(officer).or_default().ticket(t, true);
                }
            }
            for r in &record.refused {
                total.figures.refused += 1;
                day.figures.refused += 1;
                procedures.entry(&r.procedure).or_default().figures.refused += 1;
                let hour = r.at.to_offset(offset).hour();
                hours.entry(hour).or_default().figures.refused += 1;
            }
            if !record.tickets.is_empty() || !record.refused.is_empty() {
                day_rows.push(DayRow {
                    day: record.day,
                    figures: day.done(),
                });
            }
        }
        let mut wait_bands: Vec<WaitBand> = (0..WAIT_BANDS)
            .map(|i| WaitBand {
                from_minutes: i * WAIT_BAND_MINUTES,
                to_minutes: (i + 1 < WAIT_BANDS).then_some((i + 1) * WAIT_BAND_MINUTES),
                count: 0,
            })
            .collect();
        for wait in &total.waits {
            let band = (wait / 60 / WAIT_BAND_MINUTES).min(WAIT_BANDS - 1);
            wait_bands[band as usize].count += 1;
        }
        let procedures = config
            .procedures
            .iter()
            .map(|p| Row {
                key: p.id.clone(),
                name: p.name_vi.clone(),
                figures: procedures
                    .remove(p.id.as_str())
                    .map_or_else(Figures::default, Tally::done),
            })
            .collect();
        let counters = config
            .counters
            .iter()
            .map(|c| Row {
                key: c.number.to_string(),
                name: c.name.clone(),
                figures: counters
                    .remove(&c.number)
                    .map_or_else(Figures::default, Tally::done),
            })
            .collect();
        let mut officer_rows: Vec<Row> = config
            .officers
            .iter()
            .map(|o| Row {
                key: o.id.clone(),
                name: o.name.clone(),
                figures: officers
                    .remove(o.id.as_str())
                    .map_or_else(Figures::default, Tally::done),
            })
            .collect();
        officer_rows.extend(officers.into_iter().map(|(id, tally)| Row {
            key: id.to_string(),
            name: id.to_string(),
            figures: tally.done(),
        }));
        let hours: Vec<HourRow> = hours
            .into_iter()
            .map(|(hour, tally)| HourRow {
                hour,
                figures: tally.done(),
            })
            .collect();
        let busiest_hour = hours
            .iter()
            .filter(|h| h.figures.issued > 0)
            .max_by_key(|h| (h.figures.issued, std::cmp::Reverse(h.hour)))
            .map(|h| h.hour);
        Report {
            site_name: config.site.name.clone(),
            from,
            to,
            total: total.done(),
            procedures,
            counters,
            officers: officer_rows,
            hours,
            busiest_hour,
            days: if from == to { Vec::new() } else { day_rows },
            wait_bands,
        }
    }

    /// "ngày 26/11/2026" or "từ ngày 01/11/2026 đến ngày 30/11/2026".
    pub fn period_words(&self) -> String {
        if self.from == self.to {
            format!("ngày {}", day_month_year(self.from))
        } else {
            format!(
                "từ ngày {} đến ngày {}",
                day_month_year(self.from),
                day_month_year(self.to)
            )
        }
    }

    /// Every row of the tables, in the order they are printed, with its section.
    pub fn sections(&self) -> Vec<(&'static str, String, &Figures)> {
        let mut rows: Vec<(&'static str, String, &Figures)> = Vec::new();
        for r in &self.procedures {
            rows.push(("Thủ tục", r.name.clone(), &r.figures));
        }
        for r in &self.counters {
            rows.push(("Quầy", r.name.clone(), &r.figures));
        }
        for r in &self.officers {
            rows.push(("Cán bộ", r.name.clone(), &r.figures));
        }
        for h in &self.hours {
            rows.push(("Giờ", hour_words(h.hour), &h.figures));
        }
        for d in &self.days {
            rows.push(("Ngày", day_month_year(d.day), &d.figures));
        }
        let total = if self.from == self.to {
            "Cả ngày"
        } else {
            "Tổng cộng"
        };
        rows.push(("Tổng", total.to_string(), &self.total));
        rows
    }

    /// The report as a table in Vietnamese, for a terminal or a text file.
    pub fn to_text(&self) -> String {
        let mut out = format!("Báo cáo {} — {}\n", self.period_words(), self.site_name);
        let header: Vec<String> = COLUMNS.iter().map(|c| c.short.to_string()).collect();
        out += &format!("{:<36} {}\n", "", aligned(&header));
        let mut section = "";
        for (name_of_section, name, figures) in self.sections() {
            if name_of_section != section {
                section = name_of_section;
                out += &format!("— {section}\n");
            }
            let name: String = name.chars().take(36).collect();
            let cells: Vec<String> = COLUMNS.iter().map(|c| (c.text)(figures)).collect();
            out += &format!("{name:<36} {}\n", aligned(&cells));
        }
        if let Some(hour) = self.busiest_hour {
            out += &format!("Giờ đông nhất: {}\n", hour_words(hour));
        }
        let r = &self.total.ratings;
        out += &format!(
            "Đánh giá: {} rất hài lòng, {} hài lòng, {} chưa hài lòng\n",
            r.very_satisfied, r.satisfied, r.unsatisfied
        );
        out
    }

    /// The report as CSV for Excel: UTF-8 with a byte-order mark (without it Excel reads
    /// Vietnamese as Windows-1252), CRLF lines, whole numbers only, times in minutes.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let mut header = vec!["Mục".to_string(), "Tên".to_string()];
        header.extend(COLUMNS.iter().map(|c| c.long.to_string()));
        header.extend(RATING_COLUMNS.iter().map(|c| c.to_string()));
        csv_line(&mut out, &header);
        for (section, name, f) in self.sections() {
            let mut cells = vec![section.to_string(), name];
            cells.extend(COLUMNS.iter().map(|c| (c.csv)(f)));
            let r = &f.ratings;
            cells.extend([r.very_satisfied, r.satisfied, r.unsatisfied].map(|n| n.to_string()));
            csv_line(&mut out, &cells);
        }
        out
    }
}

/// "08:00–08:59".
pub fn hour_words(hour: u8) -> String {
    format!("{hour:02}:00–{hour:02}:59")
}

fn aligned(cells: &[String]) -> String {
    COLUMNS
        .iter()
        .zip(cells)
        .map(|(c, cell)| format!("{cell:>width$}", width = c.width))
        .collect::<Vec<_>>()
        .join(" ")
}

fn csv_line(out: &mut String, cells: &[String]) {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect();
    out.push_str(&quoted.join(","));
    out.push_str("\r\n");
}

/// A column of the tables.
pub struct Column {
    /// In the terminal table's header.
    pub short: &'static str,
    /// In the CSV's and the page's header.
    pub long: &'static str,
    width: usize,
    /// The cell, for people: "12ph", "—".
    pub text: fn(&Figures) -> String,
    csv: fn(&Figures) -> String,
}

fn minutes_text(spread: Option<Spread>, pick: fn(&Spread) -> u32) -> String {
    spread.map_or("—".to_string(), |s| format!("{}ph", minutes(pick(&s))))
}

fn minutes_csv(spread: Option<Spread>, pick: fn(&Spread) -> u32) -> String {
    spread.map_or(String::new(), |s| minutes(pick(&s)).to_string())
}

macro_rules! count_column {
    ($short:literal, $long:literal, $width:literal, $field:ident) => {
        Column {
            short: $short,
            long: $long,
            width: $width,
            text: |f| f.$field.to_string(),
            csv: |f| f.$field.to_string(),
        }
    };
}

macro_rules! time_column {
    ($short:literal, $long:literal, $spread:ident, $pick:ident) => {
        Column {
            short: $short,
            long: $long,
            width: 7,
            text: |f| minutes_text(f.$spread, |s| s.$pick),
            csv: |f| minutes_csv(f.$spread, |s| s.$pick),
        }
    };
}

/// The columns of every table of a report, in order.
pub const COLUMNS: [Column; 15] = [
    count_column!("Đã cấp", "Đã cấp số", 6, issued),
    count_column!("Xong", "Đã giải quyết", 5, served),
    count_column!("Vắng", "Vắng mặt", 5, no_show),
    count_column!("Chờ", "Đang chờ/đang phục vụ", 4, open),
    count_column!("Hết hạn", "Hết hạn", 7, expired),
    count_column!("Từ chối", "Từ chối (hết số, ngoài giờ)", 7, refused),
    count_column!("Ch.đi", "Chuyển đi", 5, transferred_out),
    count_column!("Ch.đến", "Nhận chuyển", 6, transferred_in),
    time_column!("Chờ TV", "Chờ trung vị (phút)", wait, median_seconds),
    time_column!("Chờ P90", "Chờ P90 (phút)", wait, p90_seconds),
    time_column!("Chờ max", "Chờ lâu nhất (phút)", wait, max_seconds),
    time_column!("XL TV", "Xử lý trung vị (phút)", service, median_seconds),
    time_column!("XL P90", "Xử lý P90 (phút)", service, p90_seconds),
    time_column!("XL max", "Xử lý lâu nhất (phút)", service, max_seconds),
    Column {
        short: "Hài lòng",
        long: "Hài lòng (%)",
        width: 10,
        text: |f| {
            f.ratings.satisfied_percent().map_or("—".to_string(), |p| {
                format!("{p}% ({})", f.ratings.total())
            })
        },
        csv: |f| {
            f.ratings
                .satisfied_percent()
                .map_or(String::new(), |p| p.to_string())
        },
    },
];

const RATING_COLUMNS: [&str; 3] = ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"];

#[cfg(test)]
mod tests;
