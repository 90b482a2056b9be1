//! The site configuration (`qms.toml`): parsed from text, validated, with errors that
//! name the field and the line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time, UtcOffset, Weekday};

use crate::numwords::Dialect;

/// The configuration every office starts from: a ward police reception desk.
pub const DEFAULT_CONFIG: &str = include_str!("../qms.default.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// A site's configuration (`qms.toml`): the office, its hours, procedures, counters and
/// devices, how to reach the broker and where to keep the queue.
pub struct SiteConfig {
    /// The office.
    pub site: Site,
    #[serde(default)]
    /// Opening hours, per weekday.
    pub hours: Hours,
    #[serde(rename = "procedure")]
    /// The procedures citizens take tickets for, in the kiosk's order.
    pub procedures: Vec<Procedure>,
    #[serde(rename = "counter")]
    /// The counters.
    pub counters: Vec<Counter>,
    #[serde(default)]
    /// How priority tickets are called.
    pub priority: PriorityPolicy,
    #[serde(rename = "device", default)]
    /// Every device that may connect.
    pub devices: Vec<Device>,
    #[serde(default)]
    /// The broker the devices meet on.
    pub broker: BrokerConfig,
    #[serde(default)]
    /// Where the authority keeps the queue.
    pub store: StoreConfig,
    #[serde(default)]
    /// The hall board's voice.
    pub display: DisplayConfig,
    #[serde(default)]
    /// `qms web`: where the office's web pages are served.
    pub web: WebConfig,
    #[serde(rename = "officer", default, skip_serializing_if = "Vec::is_empty")]
    /// The officers who sign in at the counters. With none, a counter is staffed while
    /// its console is online, as before officers were configured.
    pub officers: Vec<Officer>,
    #[serde(default)]
    /// When staff are alerted.
    pub alerts: AlertLimits,
}

/// An officer (cán bộ) who signs in at a counter with a PIN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Officer {
    /// What is recorded with each call, service and rating: "cb-an".
    pub id: String,
    /// The name on the console and in reports: "Nguyễn Văn An".
    pub name: String,
    /// The PIN, hashed: `qms secret pin` makes it.
    pub pin_hash: crate::secret::PinHash,
    /// The head of the office (or a deputy): may sign in on the report page `/report`.
    #[serde(default)]
    pub head: bool,
}

/// The limits past which staff are alerted (never on the public board).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertLimits {
    /// A procedure's oldest waiting citizen has waited longer than this.
    pub wait_minutes: u32,
    /// A counter has been paused longer than this.
    pub pause_minutes: u32,
    /// A service is unusual ("phiên bất thường") when it takes this many times more than
    /// the procedure's usual, or this many times less.
    pub unusual_factor: f64,
}

impl Default for AlertLimits {
    fn default() -> Self {
        AlertLimits {
            wait_minutes: 45,
            pause_minutes: 30,
            unusual_factor: 4.0,
        }
    }
}

/// A system that reads the office's API (the one-stop system, the province's rating
/// system), with its own token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    /// Who it is, for the log: "mot-cua".
    pub name: String,
    /// The token, hashed: `qms secret token` makes a token and its hash.
    pub token_hash: crate::secret::TokenHash,
}

/// Where `qms web` serves the office's pages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// The address to listen on, host:port: "0.0.0.0:8080" for every screen of the LAN.
    pub listen: String,
    /// HTTPS too, host:port ("0.0.0.0:8443"): signing in from another machine needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_listen: Option<String>,
    /// The HTTPS certificate (PEM), e.g. the `web.crt` that `qms broker setup` makes with
    /// the office CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<String>,
    /// Its private key (PEM), e.g. `web.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<String>,
    /// Where citizens' phones reach the pages, e.g. "http://192.168.1.10:8080" on the
    /// office's guest Wi-Fi, or a public address that reaches the office: the ticket's QR
    /// holds it and the ticket's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The systems that may read the API under `/api/v1/`.
    #[serde(rename = "token", default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<ApiToken>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: "0.0.0.0:8080".into(),
            tls_listen: None,
            tls_cert: None,
            tls_key: None,
            public_url: None,
            tokens: Vec::new(),
        }
    }
}

/// The waiting-room board.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayConfig {
    /// The line scrolling along the bottom of the board.
    pub notice: String,
    /// The command that plays a WAV file, given as its last argument.
    pub player: Vec<String>,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig {
            notice: "Công dân có thể nộp hồ sơ trực tuyến qua ứng dụng VNeID và Cổng dịch vụ công quốc gia.".into(),
            player: vec!["aplay".into(), "-q".into()],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// The office.
pub struct Site {
    /// Its id in MQTT topics: lower-case letters, digits, '-' or '_'.
    pub id: String,
    /// Its name, as the screens and tickets show it: "Công an phường Sài Gòn".
    pub name: String,
    #[serde(default)]
    /// Its English name, for the kiosk in English; empty for the Vietnamese one.
    pub name_en: String,
    #[serde(default = "default_offset", with = "offset_text")]
    /// Its offset from UTC: the business day and every clock shown are in it.
    pub utc_offset: UtcOffset,
    #[serde(default)]
    /// How the board's voice reads numbers.
    pub dialect: Dialect,
}

impl Site {
    /// The business day `at` falls in, in the site's time zone.
    pub fn business_day(&self, at: OffsetDateTime) -> Date {
        at.to_offset(self.utc_offset).date()
    }
}

fn default_offset() -> UtcOffset {
    time::macros::offset!(+7)
}

/// Opening hours per weekday.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    #[serde(default)]
    /// Monday.
    pub mon: Vec<OpenRange>,
    #[serde(default)]
    /// Tuesday.
    pub tue: Vec<OpenRange>,
    #[serde(default)]
    /// Wednesday.
    pub wed: Vec<OpenRange>,
    #[serde(default)]
    /// Thursday.
    pub thu: Vec<OpenRange>,
    #[serde(default)]
    /// Friday.
    pub fri: Vec<OpenRange>,
    #[serde(default)]
    /// Saturday.
    pub sat: Vec<OpenRange>,
    #[serde(default)]
    /// Sunday.
    pub sun: Vec<OpenRange>,
}

/// "24:00" as the end of a range: the last instant of the day.
const END_OF_DAY: Time = time::macros::time!(23:59:59.999_999_999);

impl Hours {
    /// Open every day, all day: for demonstrations.
    pub fn always() -> Hours {
        let all = vec![OpenRange {
            start: Time::MIDNIGHT,
            end: END_OF_DAY,
        }];
        Hours {
            mon: all.clone(),
            tue: all.clone(),
            wed: all.clone(),
            thu: all.clone(),
            fri: all.clone(),
            sat: all.clone(),
            sun: all,
        }
    }

    /// The opening ranges of `day`.
    pub fn on(&self, day: Weekday) -> &[OpenRange] {
        match day {
            Weekday::Monday => &self.mon,
            Weekday::Tuesday => &self.tue,
            Weekday::Wednesday => &self.wed,
            Weekday::Thursday => &self.thu,
            Weekday::Friday => &self.fri,
            Weekday::Saturday => &self.sat,
            Weekday::Sunday => &self.sun,
        }
    }

    /// Whether `local` (site time) falls in an opening range.
    pub fn is_open(&self, local: OffsetDateTime) -> bool {
        let now = local.time();
        self.on(local.weekday())
            .iter()
            .any(|r| r.start <= now && now < r.end)
    }

    /// The next opening time after `local`, within a week.
    pub fn next_opening(&self, local: OffsetDateTime) -> Option<OffsetDateTime> {
        (0..8).find_map(|days| {
            let date = local.date() + time::Duration::days(days);
            self.on(date.weekday())
                .iter()
                .map(|r| date.with_time(r.start).assume_offset(local.offset()))
                .find(|start| *start > local)
        })
    }
}

/// A time range "07:30-11:30" in site time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenRange {
    /// When it opens.
    pub start: Time,
    /// When it closes.
    pub end: Time,
}

impl std::str::FromStr for OpenRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("\"{s}\" is not a time range like \"07:30-11:30\"");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let parse = |t: &str| -> Result<Time, String> {
            let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
            let h: u8 = h.parse().map_err(|_| bad())?;
            let m: u8 = m.parse().map_err(|_| bad())?;
            if (h, m) == (24, 0) {
                return Ok(END_OF_DAY);
            }
            Time::from_hms(h, m, 0).map_err(|_| bad())
        };
        let range = OpenRange {
            start: parse(a)?,
            end: parse(b)?,
        };
        if range.start >= range.end {
            return Err(format!("\"{s}\" ends before it starts"));
        }
        Ok(range)
    }
}

impl fmt::Display for OpenRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |t: Time| {
            if t == END_OF_DAY {
                "24:00".to_string()
            } else {
                format!("{:02}:{:02}", t.hour(), t.minute())
            }
        };
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

impl Serialize for OpenRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OpenRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// A procedure (thủ tục) citizens take tickets for.
pub struct Procedure {
    /// Its id in commands and reports: lower-case letters, digits, '-' or '_'.
    pub id: String,
    /// Its Vietnamese name.
    pub name_vi: String,
    /// Its English name.
    pub name_en: String,
    /// The block of numbers its tickets get: "1001-1999".
    pub numbers: Numbering,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Tickets it gives a day, at most; none for no limit.
    pub daily_quota: Option<u32>,
    #[serde(default = "default_service_minutes")]
    /// How long serving one citizen takes, before there are served tickets to measure.
    pub avg_service_minutes: f64,
    #[serde(default = "enabled")]
    /// Whether it gives tickets.
    pub enabled: bool,
    /// The kiosk's pictogram: card, house, document, fine, phone or info.
    #[serde(default = "default_icon")]
    pub icon: String,
}

/// Pictograms the kiosk can draw.
pub const ICONS: [&str; 6] = ["card", "house", "document", "fine", "phone", "info"];

fn default_icon() -> String {
    "info".into()
}

fn default_service_minutes() -> f64 {
    10.0
}

fn enabled() -> bool {
    true
}

/// How a procedure's tickets are labelled: "1001-1999" or "A001-A999".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbering {
    /// Letters before the digits: "A" in "A001".
    pub prefix: String,
    /// The first number.
    pub first: u32,
    /// The last number.
    pub last: u32,
    /// Digits after the prefix, zero-padded; 0 for a plain block.
    pub width: usize,
}

impl Numbering {
    /// The label of the `index`-th ticket of the day (0-based), or None past the block.
    pub fn label(&self, index: u32) -> Option<String> {
        let n = self.first.checked_add(index)?;
        (n <= self.last).then(|| format!("{}{:0width$}", self.prefix, n, width = self.width))
    }

    /// How many numbers the block holds.
    pub fn capacity(&self) -> u32 {
        self.last - self.first + 1
    }
}

impl std::str::FromStr for Numbering {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("\"{s}\" is not a number block like \"1001-1999\" or \"A001-A999\"");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let split = |t: &str| {
            let at = t.find(|c: char| c.is_ascii_digit()).unwrap_or(t.len());
            let (p, d) = t.split_at(at);
            (p.to_string(), d.to_string())
        };
        let (pa, da) = split(a.trim());
        let (pb, db) = split(b.trim());
        if pa != pb || !pa.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(bad());
        }
        let first: u32 = da.parse().map_err(|_| bad())?;
        let last: u32 = db.parse().map_err(|_| bad())?;
        if first > last {
            return Err(format!("\"{s}\" ends before it starts"));
        }
        let width = if pa.is_empty() {
            0
        } else {
            if da.len() != db.len() {
                return Err(format!("\"{s}\": both ends need the same number of digits"));
            }
            da.len()
        };
        Ok(Numbering {
            prefix: pa,
            first,
            last,
            width,
        })
    }
}

impl fmt::Display for Numbering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.width;
        write!(
            f,
            "{p}{a:0w$}-{p}{b:0w$}",
            p = self.prefix,
            a = self.first,
            b = self.last
        )
    }
}

impl Serialize for Numbering {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Numbering {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// A counter (quầy).
pub struct Counter {
    /// Its number, as called: "quầy số 3".
    pub number: u16,
    /// Its name on screens: "Quầy 3".
    pub name: String,
    /// The ids of the procedures it serves.
    pub procedures: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// How priority tickets are called.
pub struct PriorityPolicy {
    /// A priority ticket is called after this many normal ones (0: priority always first).
    pub every: u32,
}

impl Default for PriorityPolicy {
    fn default() -> Self {
        PriorityPolicy { every: 2 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// What a device is: what it may send, and what it reads.
pub enum Role {
    /// A citizen's touchscreen: issues tickets.
    Kiosk,
    /// An officer's console at one counter.
    Counter,
    /// A board in the hall.
    Display,
    /// A ticket printer's driver.
    Printer,
    /// The rating screen at one counter.
    Rating,
    /// The command line and the office head: any command.
    Admin,
    /// The queue authority.
    Queue,
    /// `qms web`: the office's screens as web pages (the board, for now).
    Web,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// A device that may connect.
pub struct Device {
    /// Its id: the MQTT client id and username.
    pub id: String,
    /// What it is.
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The counter it belongs to (a console or a rating screen).
    pub counter: Option<u16>,
    /// For a kiosk: the printer device that prints its tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printer: Option<String>,
    /// For a printer: how it is connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PrinterPort>,
}

/// A ticket printer's serial connection and paper.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterPort {
    /// The serial device, e.g. "/dev/ttyUSB0", or "virtual" for the built-in virtual
    /// printer (demonstrations).
    pub path: String,
    #[serde(default = "default_baud")]
    /// The serial speed.
    pub baud: u32,
    #[serde(default)]
    /// Flow control between the host and the printer.
    pub flow: FlowControl,
    /// 58 or 80.
    #[serde(default = "default_paper")]
    pub paper_mm: u8,
    /// A ticket not printed by then is dropped: the citizen has the number on screen.
    #[serde(default = "default_drop_after")]
    pub drop_after_seconds: u64,
    /// How Vietnamese lines are printed.
    #[serde(default)]
    pub text: PrinterText,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// How a printer prints Vietnamese lines.
pub enum PrinterText {
    /// Drawn on the host into raster images: any ESC/POS printer prints them right.
    #[default]
    Raster,
    /// In the printer's own font with the TCVN-3 code pages (`ESC t 30/31`, Epson):
    /// a tenth of the bytes, for printers known to carry those pages.
    Tcvn3,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
/// Flow control on a printer's serial line.
pub enum FlowControl {
    #[default]
    /// None.
    None,
    /// Software: XON/XOFF bytes.
    XonXoff,
    /// Hardware: the RTS/CTS lines.
    RtsCts,
}

fn default_baud() -> u32 {
    38400
}

fn default_paper() -> u8 {
    80
}

fn default_drop_after() -> u64 {
    120
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// The broker the devices meet on.
pub struct BrokerConfig {
    /// Run the broker inside the authority's process (one machine), else use the one at
    /// `address`.
    pub embedded: bool,
    /// Where the broker listens, host:port.
    pub address: String,
    /// A folder of this machine with a file per device id holding its broker password
    /// (made by `qms broker setup`); the MQTT username is the device id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<String>,
    /// The office CA's certificate: connect with TLS and trust only it. A device with
    /// `{secrets}/{device}.crt` and `.key` also presents its client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            embedded: true,
            address: "127.0.0.1:1884".into(),
            secrets: None,
            ca_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// Where the authority keeps the queue.
pub struct StoreConfig {
    /// The database folder.
    pub path: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: "qms-data".into(),
        }
    }
}

mod offset_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::UtcOffset;

    pub fn serialize<S: Serializer>(o: &UtcOffset, s: S) -> Result<S::Ok, S::Error> {
        let (h, m, _) = o.as_hms();
        let sign = if o.is_negative() { '-' } else { '+' };
        s.collect_str(&format_args!("{sign}{:02}:{:02}", h.abs(), m.abs()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
        let text = String::deserialize(d)?;
        let format = time::macros::format_description!("[offset_hour]:[offset_minute]");
        UtcOffset::parse(&text, &format)
            .ok()
            .filter(|o| (-12 * 3600..=14 * 3600).contains(&o.whole_seconds()))
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "\"{text}\" is not a UTC offset from \"-12:00\" to \"+14:00\", like \"+07:00\""
                ))
            })
    }
}

/// One thing wrong in a configuration, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{field}: {message}", line.map(|l| format!("line {l}, ")).unwrap_or_default())]
pub struct ConfigProblem {
    /// 1-based line in the source text, when known.
    pub line: Option<usize>,
    /// The field, e.g. `counter[3].procedures`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A configuration that cannot be used: every problem found, in the order of the file,
/// so that one `qms config check` shows all there is to mend. A text TOML cannot read
/// has one problem, where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Never empty.
    pub problems: Vec<ConfigProblem>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                many.iter().try_for_each(|p| write!(f, "\n  {p}"))
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl SiteConfig {
    /// Parses and validates a configuration text. The text is first brought to Unicode
    /// NFC: a name typed with combining marks (`a` + U+0306 + U+0300) is then the same
    /// letters (`ằ`) as everywhere else, which a printer's code page can print.
    pub fn parse(text: &str) -> Result<SiteConfig, ConfigError> {
        use unicode_normalization::UnicodeNormalization;
        let text = &text.nfc().collect::<String>();
        let config: SiteConfig = toml::from_str(text)
            .map_err(|e| ConfigProblem {
                line: e.span().map(|s| line_at(text, s.start)),
                field: e
                    .span()
                    .and_then(|s| field_at(text, s.start))
                    .unwrap_or_else(|| String::from("qms.toml")),
                // Some syntax errors have no message of their own, only their display.
                message: Some(e.message().trim())
                    .filter(|m| !m.is_empty())
                    .map_or_else(|| e.to_string(), str::to_string),
            })
            .map_err(|problem| ConfigError {
                problems: vec![problem],
            })?;
        let mut problems = config.problems(text);
        if problems.is_empty() {
            return Ok(config);
        }
        // Unknown lines (none is expected) last.
        problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        Err(ConfigError { problems })
    }

    /// The embedded default configuration.
    pub fn default_site() -> SiteConfig {
        SiteConfig::parse(DEFAULT_CONFIG).expect("the embedded default configuration is valid")
    }

    /// Everything wrong in a configuration read from `text` (for the lines).
    fn problems(&self, text: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let err = |table: &str, index: Option<usize>, key: &str, message: String| ConfigProblem {
            line: find_line(text, table, index, key),
            field: match index {
                Some(i) => format!("{table}[{}].{key}", i + 1),
                None => format!("{table}.{key}"),
            },
            message,
        };
        let id_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        if !id_ok(&self.site.id) {
            problems.push(err(
                "site",
                None,
                "id",
                format!(
                    "\"{}\" must be lower-case letters, digits, '-' or '_' (it is part of MQTT topics)",
                    self.site.id
                ),
            ));
        }
        if self.procedures.is_empty() {
            problems.push(err(
                "procedure",
                None,
                "id",
                "at least one [[procedure]] is needed".into(),
            ));
        }
        let mut ids = BTreeSet::new();
        for (i, p) in self.procedures.iter().enumerate() {
            if !id_ok(&p.id) {
                problems.push(err(
                    "procedure",
                    Some(i),
                    "id",
                    format!(
                        "\"{}\" must be lower-case letters, digits, '-' or '_'",
                        p.id
                    ),
                ));
            }
            if !ids.insert(p.id.as_str()) {
                problems.push(err(
                    "procedure",
                    Some(i),
                    "id",
                    format!("\"{}\" is used twice", p.id),
                ));
            }
            if p.name_vi.trim().is_empty() {
                problems.push(err(
                    "procedure",
                    Some(i),
                    "name_vi",
                    "must not be empty".into(),
                ));
            }
            if !(p.avg_service_minutes > 0.0 && p.avg_service_minutes < 600.0) {
                problems.push(err(
                    "procedure",
                    Some(i),
                    "avg_service_minutes",
                    "must be between 0 and 600 minutes".into(),
                ));
            }
            if !ICONS.contains(&p.icon.as_str()) {
                problems.push(err(
                    "procedure",
                    Some(i),
                    "icon",
                    format!("\"{}\" is not one of {}", p.icon, ICONS.join(", ")),
                ));
            }
            if p.daily_quota == Some(0) {
                problems.push(err(
                    "procedure",
                    Some(i),
                    "daily_quota",
                    "0 would refuse every citizen; leave it out for no quota, or set enabled = false".into(),
                ));
            }
        }
        // Blocks sorted by prefix and start: two overlap only if neighbours do.
        let mut blocks: Vec<usize> = (0..self.procedures.len()).collect();
        blocks.sort_by(|&a, &b| {
            let (a, b) = (&self.procedures[a].numbers, &self.procedures[b].numbers);
            (&a.prefix, a.first).cmp(&(&b.prefix, b.first))
        });
        for pair in blocks.windows(2) {
            let (j, i) = (pair[0].min(pair[1]), pair[0].max(pair[1]));
            let (q, p) = (&self.procedures[j], &self.procedures[i]);
            if q.numbers.prefix == p.numbers.prefix
                && q.numbers.first <= p.numbers.last
                && p.numbers.first <= q.numbers.last
            {
                problems.push(err(
                    "procedure",
                    Some(i),
                    "numbers",
                    format!(
                        "{} overlaps {} of procedure[{}] \"{}\": a number would mean two procedures",
                        p.numbers,
                        q.numbers,
                        j + 1,
                        q.id
                    ),
                ));
            }
        }
        let mut numbers = BTreeSet::new();
        for (i, c) in self.counters.iter().enumerate() {
            if c.number == 0 || !numbers.insert(c.number) {
                problems.push(err(
                    "counter",
                    Some(i),
                    "number",
                    format!("{} must be a positive number used once", c.number),
                ));
            }
            for p in &c.procedures {
                if !ids.contains(p.as_str()) {
                    problems.push(err(
                        "counter",
                        Some(i),
                        "procedures",
                        format!("unknown procedure \"{p}\""),
                    ));
                }
            }
        }
        let mut devices = BTreeSet::new();
        for (i, d) in self.devices.iter().enumerate() {
            if d.id.is_empty() || d.id.contains(['/', '+', '#']) || !devices.insert(&d.id) {
                problems.push(err(
                    "device",
                    Some(i),
                    "id",
                    format!(
                        "\"{}\" must be unique, not empty, without '/', '+' or '#'",
                        d.id
                    ),
                ));
            }
            let needs_counter = matches!(d.role, Role::Counter | Role::Rating);
            match (needs_counter, d.counter) {
                (true, None) => problems.push(err(
                    "device",
                    Some(i),
                    "counter",
                    format!("a {:?} device needs the counter it belongs to", d.role).to_lowercase(),
                )),
                (true, Some(n)) if !numbers.contains(&n) => problems.push(err(
                    "device",
                    Some(i),
                    "counter",
                    format!("no [[counter]] has number {n}"),
                )),
                _ => {}
            }
        }
        for (i, d) in self.devices.iter().enumerate() {
            if let Some(port) = &d.port {
                if ![58, 80].contains(&port.paper_mm) {
                    problems.push(err(
                        "device",
                        Some(i),
                        "port",
                        format!(
                            "paper_mm = {} : thermal rolls are 58 or 80 mm",
                            port.paper_mm
                        ),
                    ));
                }
                if !(1200..=921_600).contains(&port.baud) {
                    problems.push(err(
                        "device",
                        Some(i),
                        "port",
                        format!(
                            "baud = {} is not a serial speed (9600, 19200, 38400, 115200)",
                            port.baud
                        ),
                    ));
                }
            }
            if let Some(printer) = &d.printer {
                let is_printer = self
                    .devices
                    .iter()
                    .any(|p| &p.id == printer && p.role == Role::Printer);
                if !is_printer {
                    problems.push(err(
                        "device",
                        Some(i),
                        "printer",
                        format!("\"{printer}\" is not a device with role = \"printer\""),
                    ));
                }
            }
        }
        if self.display.player.is_empty() {
            problems.push(err(
                "display",
                None,
                "player",
                "needs a command, e.g. [\"aplay\", \"-q\"]".into(),
            ));
        }
        let port_ok = self
            .broker
            .address
            .rsplit_once(':')
            .is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
        if !port_ok {
            problems.push(err(
                "broker",
                None,
                "address",
                format!(
                    "\"{}\" is not host:port with a port from 1 to 65535, e.g. \"127.0.0.1:1883\"",
                    self.broker.address
                ),
            ));
        }
        if self.web.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(err(
                "web",
                None,
                "listen",
                format!(
                    "\"{}\" is not an IP address and port to listen on, e.g. \"0.0.0.0:8080\"",
                    self.web.listen
                ),
            ));
        }
        if let Some(tls_listen) = &self.web.tls_listen {
            if tls_listen.parse::<std::net::SocketAddr>().is_err() {
                problems.push(err(
                    "web",
                    None,
                    "tls_listen",
                    format!(
                        "\"{tls_listen}\" is not an IP address and port, e.g. \"0.0.0.0:8443\""
                    ),
                ));
            }
            if self.web.tls_cert.is_none() || self.web.tls_key.is_none() {
                problems.push(err(
                    "web",
                    None,
                    "tls_listen",
                    "needs tls_cert and tls_key (qms broker setup makes web.crt and web.key)"
                        .into(),
                ));
            }
        }
        if let Some(url) = &self.web.public_url {
            let scheme = url.starts_with("http://") || url.starts_with("https://");
            if !scheme || url.contains(char::is_whitespace) || url.ends_with('/') {
                problems.push(err(
                    "web",
                    None,
                    "public_url",
                    format!("\"{url}\" is not an address like \"http://192.168.1.10:8080\" (no / at the end)"),
                ));
            }
        }
        let mut officer_ids = BTreeSet::new();
        for (i, o) in self.officers.iter().enumerate() {
            if !id_ok(&o.id) || o.id.len() > 32 {
                problems.push(err(
                    "officer",
                    Some(i),
                    "id",
                    format!(
                        "\"{}\" must be 1 to 32 lower-case letters, digits, '-' or '_'",
                        o.id
                    ),
                ));
            }
            if !officer_ids.insert(o.id.as_str()) {
                problems.push(err(
                    "officer",
                    Some(i),
                    "id",
                    format!("\"{}\" is used twice", o.id),
                ));
            }
            if o.name.trim().is_empty() {
                problems.push(err("officer", Some(i), "name", "must not be empty".into()));
            }
        }
        let mut token_names = BTreeSet::new();
        for (i, t) in self.web.tokens.iter().enumerate() {
            if !id_ok(&t.name) || !token_names.insert(t.name.as_str()) {
                problems.push(err(
                    "web.token",
                    Some(i),
                    "name",
                    format!(
                        "\"{}\" must be lower-case letters, digits, '-' or '_', used once",
                        t.name
                    ),
                ));
            }
        }
        if !(self.alerts.unusual_factor >= 1.5 && self.alerts.unusual_factor <= 100.0) {
            problems.push(err(
                "alerts",
                None,
                "unusual_factor",
                "must be from 1.5 to 100 (how many times longer or shorter than usual)".into(),
            ));
        }
        if self.alerts.wait_minutes == 0 || self.alerts.pause_minutes == 0 {
            problems.push(err(
                "alerts",
                None,
                "wait_minutes",
                "wait_minutes and pause_minutes must be at least 1".into(),
            ));
        }
        if self.store.path.trim().is_empty() {
            problems.push(err(
                "store",
                None,
                "path",
                "must name the database folder, e.g. \"/var/lib/qms\"".into(),
            ));
        }
        if self.broker.embedded && self.broker.ca_file.is_some() {
            problems.push(err(
                "broker",
                None,
                "ca_file",
                "the embedded broker has no TLS: set embedded = false and address = the \
                 office's Mosquitto (see broker-config/README.md)"
                    .into(),
            ));
        }
        problems
    }

    /// The procedure with id `id`.
    pub fn procedure(&self, id: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.id == id)
    }

    /// The counter with number `number`.
    pub fn counter(&self, number: u16) -> Option<&Counter> {
        self.counters.iter().find(|c| c.number == number)
    }

    /// What people read for counter `number`: its configured name, else "Quầy 3".
    pub fn counter_name(&self, number: u16) -> String {
        self.counter(number)
            .map_or_else(|| format!("Quầy {number}"), |c| c.name.clone())
    }

    /// Counter `number`'s device of role `role`: its console or its rating screen.
    pub fn counter_device(&self, number: u16, role: Role) -> Option<&Device> {
        self.devices
            .iter()
            .find(|d| d.role == role && d.counter == Some(number))
    }

    /// The officer with id `id`.
    pub fn officer(&self, id: &str) -> Option<&Officer> {
        self.officers.iter().find(|o| o.id == id)
    }

    /// Whether officers sign in at the counters: some officer is not only the head (an
    /// office that lists only its head keeps a counter staffed while its console is on).
    pub fn officers_sign_in(&self) -> bool {
        self.officers.iter().any(|o| !o.head)
    }

    /// The device with id `id`.
    pub fn device(&self, id: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
    }

    /// The counters that serve each procedure.
    pub fn counters_by_procedure(&self) -> BTreeMap<&str, Vec<u16>> {
        let mut map: BTreeMap<&str, Vec<u16>> = self
            .procedures
            .iter()
            .map(|p| (p.id.as_str(), Vec::new()))
            .collect();
        for c in &self.counters {
            for p in &c.procedures {
                if let Some(list) = map.get_mut(p.as_str()) {
                    list.push(c.number);
                }
            }
        }
        map
    }

    /// The configuration as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a configuration always serializes")
    }
}

fn line_at(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

/// The field whose value starts at `byte`, as `table[n].key`: the key of its line and the
/// table the line is in.
fn field_at(text: &str, byte: usize) -> Option<String> {
    let line = line_at(text, byte);
    let mut table: Option<(String, Option<usize>)> = None;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for row in text.lines().take(line - 1) {
        let row = row.trim();
        if let Some(name) = row.strip_prefix("[[").and_then(|r| r.split_once("]]")) {
            let name = name.0.trim().to_string();
            let n = seen.entry(name.clone()).or_insert(0);
            *n += 1;
            table = Some((name, Some(*n)));
        } else if let Some(name) = row.strip_prefix('[').and_then(|r| r.split_once(']')) {
            table = Some((name.0.trim().to_string(), None));
        }
    }
    let row = text.lines().nth(line - 1)?;
    let key = row.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    Some(match table {
        Some((name, Some(n))) => format!("{name}[{n}].{key}"),
        Some((name, None)) => format!("{name}.{key}"),
        None => key.to_string(),
    })
}

/// The line of `key` inside the `index`-th `[[table]]` (or `[table]`), when present.
fn find_line(text: &str, table: &str, index: Option<usize>, key: &str) -> Option<usize> {
    let header = match index {
        Some(_) => format!("[[{table}]]"),
        None => format!("[{table}]"),
    };
    let mut seen = 0usize;
    let mut inside = false;
    let mut header_line = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == header && {
                seen += 1;
                index.is_none_or(|i| seen == i + 1)
            };
            if inside {
                header_line = Some(n + 1);
            }
            continue;
        }
        if inside {
            if let Some(rest) = line.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return Some(n + 1);
                }
            }
        }
    }
    header_line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one problem `text` has.
    fn only_problem(text: &str) -> ConfigProblem {
        let mut e = SiteConfig::parse(text).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e}");
        e.problems.remove(0)
    }

    #[test]
    fn https_without_a_certificate_and_a_bad_public_address_are_refused() {
        let with = |lines: &str| {
            DEFAULT_CONFIG.replace(
                "listen = \"0.0.0.0:8080\"",
                &format!("listen = \"0.0.0.0:8080\"\n{lines}"),
            )
        };
        let e = only_problem(&with("tls_listen = \"0.0.0.0:8443\""));
        assert_eq!(e.field, "web.tls_listen");
        assert!(e.message.contains("tls_cert and tls_key"), "{e:?}");
        let e = only_problem(&with("public_url = \"192.168.1.10:8080/\""));
        assert_eq!(e.field, "web.public_url");
        let fine = with(
            "tls_listen = \"0.0.0.0:8443\"\ntls_cert = \"web.crt\"\ntls_key = \"web.key\"\n\
             public_url = \"https://hcm.example.vn/p-ben-thanh\"",
        );
        let config = SiteConfig::parse(&fine).unwrap();
        assert_eq!(config.web.tls_listen.as_deref(), Some("0.0.0.0:8443"));
    }

    #[test]
    fn every_problem_is_reported_at_once_in_the_order_of_the_file() {
        let text = DEFAULT_CONFIG
            .replacen("\"2001-2999\"", "\"1901-2999\"", 1)
            .replacen("counter = 5", "counter = 9", 1)
            .replace("path = \"qms-data\"", "path = \"\"");
        let e = SiteConfig::parse(&text).unwrap_err();
        let fields: Vec<&str> = e.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["procedure[2].numbers", "device[9].counter", "store.path"],
            "{e}"
        );
        let lines: Vec<usize> = e.problems.iter().map(|p| p.line.unwrap()).collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
        let shown = e.to_string();
        assert!(shown.starts_with("3 problems:\n  line "), "{shown}");
        assert_eq!(shown.lines().count(), 4, "{shown}");
    }

    #[test]
    fn the_default_configuration_is_valid_and_lists_the_ward_procedures() {
        let c = SiteConfig::default_site();
        assert_eq!(c.site.name, "Công an phường Sài Gòn");
        let ids: Vec<_> = c.procedures.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "cccd",
                "cu-tru",
                "xac-nhan-cu-tru",
                "xu-phat",
                "vneid",
                "chung"
            ]
        );
        assert_eq!(c.site.utc_offset, time::macros::offset!(+7));
        assert_eq!(c.counters_by_procedure()["cccd"], vec![1, 2]);
    }

    #[test]
    fn printing_and_parsing_again_gives_the_same_configuration() {
        let c = SiteConfig::default_site();
        let again = SiteConfig::parse(&c.to_toml()).unwrap();
        assert_eq!(again.to_toml(), c.to_toml());
    }

    /// The defect: `qms config print` wrote `officer = []` at the top, so a printed
    /// configuration with an `[[officer]]` appended, as the README says to, was refused.
    #[test]
    fn regression_a_printed_configuration_takes_an_appended_officer() {
        let hash = crate::secret::PinHash::of("2468");
        let text = format!(
            "{}\n[[officer]]\nid = \"cb-an\"\nname = \"Nguyễn Văn An\"\npin_hash = \"{hash}\"\n",
            SiteConfig::default_site().to_toml()
        );
        let config = SiteConfig::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.officers.len(), 1);
    }

    #[test]
    fn an_unknown_procedure_on_a_counter_names_the_field_and_line() {
        let text = DEFAULT_CONFIG.replacen(
            "procedures = [\"cu-tru\", \"xac-nhan-cu-tru\"]",
            "procedures = [\"cu-tru\", \"xac-nhan\"]",
            1,
        );
        let e = only_problem(&text);
        assert_eq!(e.field, "counter[3].procedures");
        assert!(e.message.contains("\"xac-nhan\""), "{e}");
        let line = text
            .lines()
            .position(|l| l.contains("\"xac-nhan\"]"))
            .unwrap()
            + 1;
        assert_eq!(e.line, Some(line));
    }

    #[test]
    fn a_misspelt_key_is_refused_with_its_line() {
        let text = DEFAULT_CONFIG.replacen("daily_quota = 200", "daily_qouta = 200", 1);
        let e = only_problem(&text);
        assert!(e.message.contains("daily_qouta"), "{e}");
        let line = text
            .lines()
            .position(|l| l.contains("daily_qouta"))
            .unwrap()
            + 1;
        assert_eq!(e.line, Some(line));
    }

    #[test]
    fn regression_a_value_of_the_wrong_type_names_its_field() {
        let text =
            DEFAULT_CONFIG.replacen("avg_service_minutes = ", "avg_service_minutes = \"x\" #", 1);
        let e = only_problem(&text);
        assert_eq!(e.field, "procedure[1].avg_service_minutes", "{e}");
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn regression_an_offset_port_or_store_path_out_of_range_is_refused() {
        let offset = DEFAULT_CONFIG.replace("utc_offset = \"+07:00\"", "utc_offset = \"+25:00\"");
        assert_ne!(offset, DEFAULT_CONFIG);
        let e = only_problem(&offset);
        assert!(e.message.contains("+14:00"), "{e}");
        let port = DEFAULT_CONFIG.replace("127.0.0.1:1884", "127.0.0.1:99999");
        assert_ne!(port, DEFAULT_CONFIG);
        let e = only_problem(&port);
        assert_eq!(e.field, "broker.address", "{e}");
        let store = DEFAULT_CONFIG.replace("path = \"qms-data\"", "path = \"\"");
        assert_ne!(store, DEFAULT_CONFIG);
        let e = only_problem(&store);
        assert_eq!(e.field, "store.path", "{e}");
    }

    #[test]
    fn regression_many_procedures_are_checked_without_comparing_every_pair() {
        let mut config = SiteConfig::default_site();
        let template = config.procedures[0].clone();
        config.procedures.extend((0..20_000u32).map(|i| {
            let mut p = template.clone();
            p.id = format!("p{i}");
            p.numbers = format!("Z{:06}-Z{:06}", i * 10 + 1, i * 10 + 9)
                .parse()
                .unwrap();
            p
        }));
        let text = config.to_toml();
        SiteConfig::parse(&text).unwrap();
        let clash = text.replacen("\"Z199991-Z199999\"", "\"Z000005-Z000009\"", 1);
        assert_ne!(clash, text);
        let e = only_problem(&clash);
        assert!(e.message.contains("overlaps"), "{e}");
    }

    #[test]
    fn overlapping_number_blocks_are_refused() {
        let text = DEFAULT_CONFIG.replacen("\"2001-2999\"", "\"1901-2999\"", 1);
        let e = only_problem(&text);
        assert_eq!(e.field, "procedure[2].numbers");
        assert!(e.message.contains("overlaps"), "{e}");
    }

    #[test]
    fn bad_hours_and_offsets_say_what_was_expected() {
        let text = DEFAULT_CONFIG.replacen("\"13:30-17:00\"", "\"13:30-7:00\"", 1);
        assert!(only_problem(&text)
            .message
            .contains("ends before it starts"));
        let text = DEFAULT_CONFIG.replacen("\"+07:00\"", "\"GMT+7\"", 1);
        assert!(only_problem(&text).message.contains("UTC offset"));
    }

    #[test]
    fn a_counter_device_must_name_an_existing_counter() {
        let text = DEFAULT_CONFIG.replacen("counter = 5", "counter = 9", 1);
        let e = only_problem(&text);
        assert_eq!(e.field, "device[9].counter");
    }

    #[test]
    fn numbering_labels_blocks_and_prefixes() {
        let block: Numbering = "1001-1999".parse().unwrap();
        assert_eq!(block.label(0).as_deref(), Some("1001"));
        assert_eq!(block.label(998).as_deref(), Some("1999"));
        assert_eq!(block.label(999), None);
        let prefixed: Numbering = "A001-A999".parse().unwrap();
        assert_eq!(prefixed.label(22).as_deref(), Some("A023"));
        assert!("A01-A999".parse::<Numbering>().is_err());
        assert!("a001-a999".parse::<Numbering>().is_err());
    }

    #[test]
    fn opening_hours_know_the_next_opening() {
        let hours = SiteConfig::default_site().hours;
        // Saturday 2026-11-28 12:00 +07:00: closed until Monday 07:30.
        let sat_noon = time::macros::datetime!(2026-11-28 12:00 +7);
        assert!(!hours.is_open(sat_noon));
        assert_eq!(
            hours.next_opening(sat_noon),
            Some(time::macros::datetime!(2026-11-30 07:30 +7))
        );
        assert!(hours.is_open(time::macros::datetime!(2026-11-30 07:30 +7)));
        assert!(!hours.is_open(time::macros::datetime!(2026-11-30 11:30 +7)));
        let always = Hours::always();
        assert!(always.is_open(time::macros::datetime!(2026-11-30 23:59:59.5 +7)));
        assert_eq!(always.mon[0].to_string(), "00:00-24:00");
        assert_eq!("00:00-24:00".parse::<OpenRange>().unwrap(), always.mon[0]);
    }

    #[test]
    fn officers_tokens_and_alert_limits_are_checked_with_what_to_do() {
        let with = |extra: &str| SiteConfig::parse(&format!("{DEFAULT_CONFIG}\n{extra}"));
        let hash = crate::secret::PinHash::of("2468");
        let ok = with(&format!(
            "[[officer]]\nid = \"cb-an\"\nname = \"Nguyễn Văn An\"\npin_hash = \"{hash}\"\n"
        ))
        .unwrap();
        assert!(ok.officers_sign_in());
        assert!(ok.officer("cb-an").unwrap().pin_hash.matches("2468"));
        let error = with("[[officer]]\nid = \"cb-an\"\nname = \"An\"\npin_hash = \"2468\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("qms secret pin"), "{error}");
        let error = with(&format!(
            "[[officer]]\nid = \"Cán bộ\"\nname = \"\"\npin_hash = \"{hash}\"\n"
        ))
        .unwrap_err();
        let fields: Vec<&str> = error.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["officer[1].id", "officer[1].name"], "{error}");
        let head_only = with(&format!(
            "[[officer]]\nid = \"truong\"\nname = \"Trưởng\"\npin_hash = \"{hash}\"\nhead = true\n"
        ))
        .unwrap();
        assert!(
            !head_only.officers_sign_in(),
            "the head alone does not staff counters"
        );
        let text = DEFAULT_CONFIG.replace("unusual_factor = 4.0", "unusual_factor = 1.0");
        let error = SiteConfig::parse(&text).unwrap_err().to_string();
        assert!(error.contains("alerts.unusual_factor"), "{error}");
    }
}
