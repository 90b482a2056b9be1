//! The command line: one [`clap::Args`] per subcommand, each with its own `run`, and
//! [`main`], which parses, sets up the logs and hands over.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::bench::BenchArgs;
use crate::clients::counter::CounterArgs;
use crate::clients::issue::{IssueArgs, ReprintArgs};
use crate::clients::report::ReportArgs;
use crate::clients::tickets::TicketsArgs;
use crate::clients::watch::WatchArgs;
use crate::roles::block_on;
use crate::roles::broker::BrokerArgs;
use crate::roles::city::CityArgs;
use crate::roles::demo::DemoArgs;
use crate::roles::printer::PrinterArgs;
use crate::roles::queue::QueueArgs;
use crate::roles::web::WebArgs;
use crate::roles::windows::{DisplayArgs, KioskArgs, RatingArgs};
use crate::shutdown::Shutdown;
use crate::site::{ConfigArgs, SiteArgs};

#[derive(Parser)]
#[command(
    name = "qms",
    version,
    about = "Hệ thống xếp hàng lấy số thứ tự — a queue-ticket system for one-stop offices",
    long_about = "Hệ thống xếp hàng lấy số thứ tự cho bộ phận một cửa.\n\
                  A queue-ticket system for one-stop offices. Every role is a subcommand; \
                  with no subcommand, `qms` runs the whole office on one machine (`qms demo`)."
)]
struct Cli {
    #[command(flatten)]
    site: SiteArgs,
    #[command(subcommand)]
    command: Option<QmsCommand>,
}

/// What `qms` is asked to do: a role that runs until stopped, or a client that says
/// what it did.
#[derive(Subcommand)]
enum QmsCommand {
    /// The whole office on one machine: the embedded broker, the queue authority, the
    /// virtual printer, and the kiosk, board, counter 1 console and rating windows (when
    /// there is a screen)
    Demo(DemoArgs),
    /// The queue authority: owns the queue and serves every device over MQTT
    Queue(QueueArgs),
    /// The citizen's touchscreen kiosk
    Kiosk(KioskArgs),
    /// The waiting-room board with the voice call
    Display(DisplayArgs),
    /// The ticket printer driver (ESC/POS on a serial port, or the virtual printer)
    Printer(PrinterArgs),
    /// The embedded MQTT broker alone, or `qms broker setup` for the office's Mosquitto
    Broker(BrokerArgs),
    /// The office's screens as web pages: the hall board at /board for a TV's browser
    Web(WebArgs),
    /// Print or check the site configuration
    #[command(subcommand)]
    Config(ConfigArgs),
    /// Take a ticket for a procedure, as a kiosk does, printed on the office's printer
    Issue(IssueArgs),
    /// Print a ticket of today again (`qms reprint 1023`)
    Reprint(ReprintArgs),
    /// The officer's console of a counter (`qms counter 3`), or one action at it
    /// (`qms counter 3 call-next`): call next, recall, no-show, transfer, complete, pause
    Counter(CounterArgs),
    /// The satisfaction rating screen facing the citizen at a counter
    Rating(RatingArgs),
    /// The figures of today, a day, a month or a period per procedure, counter and day,
    /// with the citizens' ratings
    Report(ReportArgs),
    /// List today's tickets, or a closed day's
    Tickets(TicketsArgs),
    /// Print the board and the events as they happen
    Watch(WatchArgs),
    /// Measure latency, durable throughput and memory (see BENCHMARKS.md)
    Bench(BenchArgs),
    /// Make an officer's PIN hash or an API token for qms.toml
    #[command(subcommand)]
    Secret(crate::secret::SecretArgs),
    /// The city tier: store every office's events from the city's NATS cluster in
    /// PostgreSQL, and serve the city's pages
    City(CityArgs),
}

impl QmsCommand {
    /// Whether it only says what it did: its log shows warnings and errors alone.
    fn quiet(&self) -> bool {
        match self {
            QmsCommand::Demo(_)
            | QmsCommand::Queue(_)
            | QmsCommand::Kiosk(_)
            | QmsCommand::Display(_)
            | QmsCommand::Printer(_)
            | QmsCommand::Web(_)
            | QmsCommand::Rating(_) => false,
            QmsCommand::City(city) => city.quiet(),
            QmsCommand::Broker(broker) => broker.is_setup(),
            QmsCommand::Counter(counter) => counter.is_action(),
            QmsCommand::Config(_)
            | QmsCommand::Issue(_)
            | QmsCommand::Reprint(_)
            | QmsCommand::Report(_)
            | QmsCommand::Tickets(_)
            | QmsCommand::Watch(_)
            | QmsCommand::Bench(_)
            | QmsCommand::Secret(_) => true,
        }
    }

    fn run(self, site: &SiteArgs) -> anyhow::Result<ExitCode> {
        // `qms config` loads the configuration itself: `print` without --config prints the
        // default.
        let config = || site.load();
        let done = |ran: anyhow::Result<()>| ran.map(|()| ExitCode::SUCCESS);
        let shutdown = Shutdown::default();
        match self {
            QmsCommand::Config(action) => action.run(site),
            QmsCommand::Demo(demo) => done(demo.run(config()?)),
            QmsCommand::Queue(queue) => done(block_on(queue.run(config()?, shutdown))),
            QmsCommand::Kiosk(kiosk) => done(kiosk.run(config()?)),
            QmsCommand::Display(display) => done(display.run(config()?)),
            QmsCommand::Printer(printer) => done(block_on(printer.run(config()?, shutdown))),
            QmsCommand::Broker(broker) => done(block_on(broker.run(config()?, shutdown))),
            QmsCommand::Web(web) => done(block_on(web.run(config()?, shutdown))),
            QmsCommand::Issue(issue) => block_on(issue.run(&config()?)),
            QmsCommand::Reprint(reprint) => block_on(reprint.run(&config()?)),
            QmsCommand::Counter(counter) => counter.run(config()?),
            QmsCommand::Rating(rating) => done(rating.run(config()?)),
            QmsCommand::Report(report) => done(block_on(report.run(&config()?))),
            QmsCommand::Tickets(tickets) => block_on(tickets.run(&config()?)),
            QmsCommand::Watch(watch) => done(block_on(watch.run(&config()?, shutdown))),
            QmsCommand::Bench(bench) => done(block_on(bench.run(&config()?))),
            QmsCommand::Secret(secret) => done(secret.run()),
            QmsCommand::City(city) => done(block_on(city.run(shutdown))),
        }
    }
}

/// Runs `qms` with the process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or_else(|| QmsCommand::Demo(DemoArgs::default()));
    // rumqttd logs every client that goes away as an error; RUST_LOG=rumqttd=info shows it.
    init_logs(if command.quiet() {
        "warn,rumqttd=off"
    } else {
        "info,rumqttd=off"
    });
    match command.run(&cli.site) {
        Ok(code) => code,
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("qms: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only for a person at a terminal, not in a log file or journal.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal)
        .init();
}
