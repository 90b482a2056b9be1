//! Command-line parsing and the roles of `qms`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use qms_bus::BusOptions;
use qms_core::calendar::hour_minute;
use qms_core::config::{Hours, Role as ConfigRole};
use qms_core::protocol::{Board, Command, Event, EventKind, PriorityReason, Reply, TicketState};
use qms_core::SiteConfig;
use qms_queue::QueueOptions;
use slint::ComponentHandle;
use tracing::info;

use crate::device::DeviceClient;

/// How long a command-line client waits for the authority.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// Site configuration file [default: ./qms.toml if present, else the built-in default]
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Broker to use, host:port (overrides [broker] address and turns the embedded broker off)
    #[arg(long, global = true)]
    broker: Option<String>,
    #[command(subcommand)]
    command: Option<Role>,
}

#[derive(Subcommand)]
enum Role {
    /// The whole office on one machine: the embedded broker, the queue authority, the
    /// virtual printer, and the kiosk, board, counter 1 console and rating windows (when
    /// there is a screen)
    Demo {
        /// Where the embedded broker listens [default: [broker] address]
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Database folder [default: [store] path]
        #[arg(long)]
        data: Option<PathBuf>,
        /// Keep the configured opening hours (the demo is open all day otherwise)
        #[arg(long)]
        real_hours: bool,
    },
    /// The queue authority: owns the queue and serves every device over MQTT
    Queue {
        /// Database folder [default: [store] path]
        #[arg(long)]
        data: Option<PathBuf>,
        /// Also run the embedded broker in this process
        #[arg(long)]
        with_broker: bool,
        /// Where the embedded broker listens, with --with-broker [default: [broker] address]
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Ignore the configured opening hours: open all day
        #[arg(long)]
        always_open: bool,
    },
    /// The citizen's touchscreen kiosk
    Kiosk {
        /// Device to act as: a kiosk in the site configuration
        #[arg(long, default_value = "kiosk-1")]
        device: String,
    },
    /// The waiting-room board with the voice call
    Display {
        /// Device to act as: a display in the site configuration
        #[arg(long, default_value = "display-hall")]
        device: String,
    },
    /// The ticket printer driver (ESC/POS on a serial port, or the virtual printer)
    Printer {
        /// Device to act as: a printer in the site configuration
        #[arg(long, default_value = "printer-1")]
        device: String,
        /// Where the virtual printer writes each ticket as PNG and text
        #[arg(long, default_value = "printed-tickets")]
        tickets: PathBuf,
    },
    /// The embedded MQTT broker alone, or `qms broker setup` for the office's Mosquitto
    Broker {
        /// Address to listen on [default: [broker] address]
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[command(subcommand)]
        action: Option<BrokerAction>,
    },
    /// Print or check the site configuration
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Take a ticket for a procedure, as a kiosk does, printed on the office's printer
    Issue {
        /// Procedure id, e.g. cccd
        procedure: String,
        #[arg(long, value_enum)]
        priority: Option<Priority>,
        /// The printer (a device id) to print the ticket on [default: the office's
        /// printer, when it has exactly one]
        #[arg(long, conflicts_with = "no_print")]
        print: Option<String>,
        /// Do not print the ticket
        #[arg(long)]
        no_print: bool,
        /// Device to act as (another device's id takes that device's connection)
        #[arg(long, default_value = "admin")]
        device: String,
        /// Print the raw JSON reply
        #[arg(long)]
        json: bool,
    },
    /// Print a ticket of today again (`qms reprint 1023`)
    Reprint {
        /// The ticket's number or id
        ticket: String,
        /// The printer (a device id) to print it on [default: the office's printer when
        /// it has exactly one, else the printer of the kiosk that issued the ticket]
        #[arg(long)]
        print: Option<String>,
        #[arg(long, default_value = "admin")]
        device: String,
        #[arg(long)]
        json: bool,
    },
    /// The officer's console of a counter (`qms counter 3`), or one action at it
    /// (`qms counter 3 call-next`): call next, recall, no-show, transfer, complete, pause
    Counter {
        /// Counter number
        #[arg(required_unless_present = "counter_option")]
        counter: Option<u16>,
        /// Counter number, as an option
        #[arg(long = "counter", conflicts_with = "counter")]
        counter_option: Option<u16>,
        #[command(subcommand)]
        action: Option<CounterAction>,
        /// Device to act as [default: the console is the counter's device in the site
        /// configuration; an action is sent as admin]
        #[arg(long, global = true)]
        device: Option<String>,
        /// Print the raw JSON reply
        #[arg(long, global = true)]
        json: bool,
    },
    /// The satisfaction rating screen facing the citizen at a counter
    Rating {
        /// Counter number
        #[arg(long)]
        counter: u16,
        /// Device to act as [default: the counter's rating device in the site configuration]
        #[arg(long)]
        device: Option<String>,
    },
    /// The figures of today, a day, a month or a period per procedure, counter and day,
    /// with the citizens' ratings
    Report(crate::report::ReportArgs),
    /// List today's tickets, or a closed day's
    Tickets {
        /// Only this procedure
        #[arg(long)]
        procedure: Option<String>,
        /// A closed business day, e.g. 2026-11-25
        #[arg(long, value_parser = crate::report::parse_day)]
        day: Option<time::Date>,
        /// Only waiting tickets
        #[arg(long)]
        waiting: bool,
        #[arg(long, default_value = "admin")]
        device: String,
    },
    /// Print the board and the events as they happen
    Watch {
        /// Print the raw JSON messages
        #[arg(long)]
        json: bool,
    },
    /// Measure latency, durable throughput and memory (see BENCHMARKS.md)
    Bench(crate::bench::BenchArgs),
}

#[derive(Subcommand)]
enum BrokerAction {
    /// Make the office Mosquitto's files from the site configuration: a password per
    /// device, the ACL, mosquitto.conf and, with TLS, a private CA with the broker's and
    /// the devices' certificates (see broker-config/README.md)
    Setup {
        /// Folder for the files; Mosquitto reads them from there
        #[arg(long, default_value = "/etc/mosquitto/qms")]
        out: PathBuf,
        /// Name or address devices use to reach the broker on the LAN (repeatable)
        /// [default: the host of [broker] address]
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// Port of the TLS listener on the LAN
        #[arg(long, default_value_t = 8883)]
        lan_port: u16,
        /// Port of the listener on 127.0.0.1, for the roles on the broker's machine
        #[arg(long, default_value_t = 1883)]
        loopback_port: u16,
        /// No TLS and no LAN listener: every device runs on the broker's machine
        #[arg(long)]
        no_tls: bool,
        /// Refuse TLS clients without a certificate from the office CA
        #[arg(long)]
        require_client_certificates: bool,
        /// The account Mosquitto runs as; it must be able to read the files
        #[arg(long, default_value = "mosquitto")]
        broker_user: String,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print the configuration in use (the built-in default without --config)
    Print,
    /// Check a configuration file and say what is wrong
    Check {
        /// File to check [default: --config, or ./qms.toml]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CounterAction {
    /// Call the next citizen (completes the one being served)
    CallNext,
    /// Call a given waiting ticket
    Call { ticket: String },
    /// Call the current ticket again
    Recall,
    /// The citizen did not come
    NoShow,
    /// Put a no-show ticket back in line
    Reactivate { ticket: String },
    /// Send the current ticket to another procedure and/or counter
    Transfer {
        #[arg(long)]
        procedure: Option<String>,
        #[arg(long)]
        to: Option<u16>,
    },
    /// The current citizen is served
    Complete,
    /// Stop taking citizens for a while (the board shows the counter as paused)
    Pause,
    /// Take citizens again
    Resume,
}

#[derive(Clone, Copy, ValueEnum)]
enum Priority {
    Elderly,
    Disabled,
    Pregnant,
    SmallChild,
    Merit,
}

impl From<Priority> for PriorityReason {
    fn from(p: Priority) -> Self {
        match p {
            Priority::Elderly => PriorityReason::Elderly,
            Priority::Disabled => PriorityReason::Disabled,
            Priority::Pregnant => PriorityReason::Pregnant,
            Priority::SmallChild => PriorityReason::SmallChild,
            Priority::Merit => PriorityReason::Merit,
        }
    }
}

/// Runs `qms` with the process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = matches!(
        cli.command,
        Some(
            Role::Issue { .. }
                | Role::Reprint { .. }
                | Role::Counter {
                    action: Some(_),
                    ..
                }
                | Role::Tickets { .. }
                | Role::Report(_)
                | Role::Broker {
                    action: Some(_),
                    ..
                }
                | Role::Watch { .. }
                | Role::Config { .. }
                | Role::Bench(_)
        )
    );
    // rumqttd logs every client that goes away as an error; RUST_LOG=rumqttd=info shows it.
    init_logs(if quiet {
        "warn,rumqttd=off"
    } else {
        "info,rumqttd=off"
    });
    let mut cli = cli;
    let role = cli.command.take().unwrap_or(Role::Demo {
        listen: None,
        data: None,
        real_hours: false,
    });
    // `qms config print > qms.toml` has the shell make an empty ./qms.toml first.
    let printing_default = matches!(
        role,
        Role::Config {
            action: ConfigAction::Print
        }
    ) && cli.config.is_none();
    let config = if printing_default {
        Ok(SiteConfig::default_site())
    } else {
        site_config(&cli)
    };
    let result = config.and_then(|config| match role {
        Role::Demo {
            listen,
            data,
            real_hours,
        } => demo(config, listen, data, real_hours),
        Role::Kiosk { device } => {
            let options = device_options(&config, &device)?;
            qms_kiosk::run(Arc::new(config), options)?;
            Ok(ExitCode::SUCCESS)
        }
        Role::Display { device } => {
            let options = device_options(&config, &device)?;
            qms_display::run(Arc::new(config), options)?;
            Ok(ExitCode::SUCCESS)
        }
        Role::Counter {
            counter,
            counter_option,
            action: None,
            device,
            ..
        } => {
            let counter = counter.or(counter_option).expect("clap requires a counter");
            let device = counter_device(&config, ConfigRole::Counter, counter, device)?;
            let options = device_options(&config, &device)?;
            qms_counter::run_console(Arc::new(config), counter, options)?;
            Ok(ExitCode::SUCCESS)
        }
        Role::Rating { counter, device } => {
            let device = counter_device(&config, ConfigRole::Rating, counter, device)?;
            let options = device_options(&config, &device)?;
            qms_counter::run_rating(Arc::new(config), counter, options)?;
            Ok(ExitCode::SUCCESS)
        }
        role => block_on(run(cli, config, role)),
    });
    match result {
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

/// The device a counter's window acts as: `device` when given, which must belong to
/// that counter, or the first device of `role` configured for it.
fn counter_device(
    config: &SiteConfig,
    role: ConfigRole,
    counter: u16,
    device: Option<String>,
) -> anyhow::Result<String> {
    if config.counter(counter).is_none() {
        bail!("there is no counter {counter} in the site configuration");
    }
    let kind = format!("{role:?}").to_lowercase();
    let Some(id) = device else {
        return config
            .devices
            .iter()
            .find(|d| d.role == role && d.counter == Some(counter))
            .map(|d| d.id.clone())
            .with_context(|| {
                format!(
                    "no device with role = \"{kind}\" and counter = {counter} in the site \
                     configuration: add one, or pass --device"
                )
            });
    };
    match config.device(&id) {
        None => bail!("device \"{id}\" is not in the site configuration"),
        Some(d) if d.role == ConfigRole::Admin => Ok(id),
        Some(d) if d.role == role && d.counter == Some(counter) => Ok(id),
        Some(_) => bail!(
            "device \"{id}\" is not a {kind} device of counter {counter} in the site configuration"
        ),
    }
}

/// Runs a future on a runtime of one thread: the authority's work is sequential, and a
/// command handed between threads costs more in wake-ups than it does to execute.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built")
        .block_on(future)
}

/// The configuration, with `--broker` applied.
fn site_config(cli: &Cli) -> anyhow::Result<SiteConfig> {
    let mut config = load_config(cli.config.as_deref())?;
    if let Some(address) = &cli.broker {
        config.broker.address = address.clone();
        config.broker.embedded = false;
    }
    Ok(config)
}

/// The office on one machine: broker and authority on a thread of their own, the kiosk
/// window on this one. Without a screen the office runs on, headless.
fn demo(
    mut config: SiteConfig,
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    real_hours: bool,
) -> anyhow::Result<ExitCode> {
    if !real_hours {
        config.hours = Hours::always();
        info!("demo: open all day (pass --real-hours for the configured hours)");
    }
    let address = start_broker_if_embedded(&config, listen)?;
    let broker_here = config.broker.embedded;
    config.broker.address = address.clone();
    let office_config = config.clone();
    let office = std::thread::Builder::new()
        .name("office".into())
        .spawn(move || {
            let served = block_on(async {
                let tickets = PathBuf::from("printed-tickets");
                let printing = printer(
                    &office_config,
                    "printer-1",
                    &tickets,
                    std::future::pending(),
                );
                tokio::select! {
                    served = serve(office_config.clone(), &address, data, broker_here) => served,
                    printed = printing => printed,
                }
            });
            // The office stopped (Ctrl-C, or an error): close the windows too.
            let _ = slint::quit_event_loop();
            served
        })?;
    info!("office running; in another terminal try: `qms issue cccd`, `qms counter 1 call-next`, `qms watch`");
    let config = Arc::new(config);
    match qms_kiosk::start(config.clone(), device_options(&config, "kiosk-1")?) {
        Ok(kiosk) => {
            kiosk.window().show()?;
            let board =
                qms_display::start(config.clone(), device_options(&config, "display-hall")?)?;
            board.window().show()?;
            let console = qms_counter::start_console(
                config.clone(),
                1,
                device_options(&config, "counter-1")?,
            )?;
            console.window().show()?;
            let rating =
                qms_counter::start_rating(config.clone(), 1, device_options(&config, "rating-1")?)?;
            rating.window().show()?;
            slint::run_event_loop()?;
            drop((kiosk, board, console, rating));
            if !office.is_finished() {
                info!("the kiosk window was closed: the office stops");
                return Ok(ExitCode::SUCCESS);
            }
        }
        Err(e) => info!(cause = %e, "no screen for the kiosk window: the office runs without it"),
    }
    office
        .join()
        .map_err(|_| anyhow::anyhow!("the office thread panicked"))??;
    Ok(ExitCode::SUCCESS)
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

/// The configuration from a file, or the built-in default.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<SiteConfig> {
    let local = Path::new("qms.toml");
    let path = match path {
        Some(p) => p,
        None if local.exists() => local,
        None => return Ok(SiteConfig::default_site()),
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    SiteConfig::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

async fn run(cli: Cli, config: SiteConfig, role: Role) -> anyhow::Result<ExitCode> {
    match role {
        Role::Demo { .. }
        | Role::Kiosk { .. }
        | Role::Display { .. }
        | Role::Rating { .. }
        | Role::Counter { action: None, .. } => {
            unreachable!("window roles run on the main thread")
        }
        Role::Queue {
            data,
            with_broker,
            listen,
            always_open,
        } => {
            let mut config = config;
            if always_open {
                config.hours = Hours::always();
            }
            let address = if with_broker {
                start_broker_if_embedded(&config, listen)?
            } else {
                config.broker.address.clone()
            };
            let broker_here = with_broker && config.broker.embedded;
            serve(config, &address, data, broker_here).await?;
        }
        Role::Printer { device, tickets } => {
            printer(&config, &device, &tickets, shutdown_signal()).await?;
        }
        Role::Broker {
            action:
                Some(BrokerAction::Setup {
                    out,
                    hosts,
                    lan_port,
                    loopback_port,
                    no_tls,
                    require_client_certificates,
                    broker_user,
                }),
            ..
        } => {
            let hosts = if hosts.is_empty() {
                lan_host(&config).into_iter().collect()
            } else {
                hosts
            };
            let options = crate::broker_setup::SetupOptions {
                out: out.clone(),
                hosts,
                lan_port,
                loopback_port,
                tls: !no_tls,
                require_client_certificates,
                broker_user,
            };
            for line in crate::broker_setup::setup(&config, &options)? {
                println!("{line}");
            }
            println!(
                "next: mosquitto -c {}/mosquitto.conf; give each device's machine its \
                 secrets/<device> file (and .crt, .key) and ca.crt, and set [broker] secrets and \
                 ca_file in its qms.toml (broker-config/README.md)",
                out.display()
            );
        }
        Role::Broker {
            listen,
            action: None,
        } => {
            let addr = match listen {
                Some(a) => a,
                None => broker_listen(&config)?,
            };
            qms_bus::start_embedded(addr)?;
            info!(%addr, "embedded broker listening");
            shutdown_signal().await;
        }
        Role::Config { action } => match action {
            ConfigAction::Print => emit(&config.to_toml())?,
            ConfigAction::Check { file } => {
                let path = file
                    .or(cli.config)
                    .unwrap_or_else(|| PathBuf::from("qms.toml"));
                let checked = load_config(Some(&path))?;
                println!(
                    "{}: valid — {} procedures, {} counters, {} devices",
                    path.display(),
                    checked.procedures.len(),
                    checked.counters.len(),
                    checked.devices.len()
                );
            }
        },
        Role::Issue {
            procedure,
            priority,
            print,
            no_print,
            device,
            json,
        } => {
            let printer = match (print, no_print) {
                (_, true) => None,
                (Some(printer), false) => Some(printer),
                (None, false) => only_printer(&config),
            };
            let command = Command::Issue {
                service: procedure,
                priority: priority.map(Into::into),
                english: false,
                printer,
            };
            return one_command(&config, &device, command, json).await;
        }
        Role::Reprint {
            ticket,
            print,
            device,
            json,
        } => {
            let command = Command::Reprint {
                ticket,
                printer: print.or_else(|| only_printer(&config)),
            };
            return one_command(&config, &device, command, json).await;
        }
        Role::Counter {
            counter,
            counter_option,
            action: Some(action),
            device,
            json,
        } => {
            let device = device.unwrap_or_else(|| "admin".into());
            let counter = counter.or(counter_option);
            let command = match action {
                CounterAction::CallNext => Command::CallNext { counter },
                CounterAction::Call { ticket } => Command::Call { ticket, counter },
                CounterAction::Recall => Command::Recall { counter },
                CounterAction::NoShow => Command::NoShow { counter },
                CounterAction::Reactivate { ticket } => Command::Reactivate { ticket, counter },
                CounterAction::Transfer { procedure, to } => Command::Transfer {
                    counter,
                    to_service: procedure,
                    to_counter: to,
                },
                CounterAction::Complete => Command::Complete { counter },
                CounterAction::Pause => Command::Pause { counter },
                CounterAction::Resume => Command::Resume { counter },
            };
            return one_command(&config, &device, command, json).await;
        }
        Role::Tickets {
            procedure,
            day,
            waiting,
            device,
        } => {
            let command = Command::List {
                service: procedure,
                state: waiting.then_some(TicketState::Waiting),
                counter: None,
                day,
            };
            return one_command(&config, &device, command, false).await;
        }
        Role::Report(args) => crate::report::run(&config, args, CLIENT_TIMEOUT).await?,
        Role::Watch { json } => watch(&config, json).await?,
        Role::Bench(args) => crate::bench::run(&config, args).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The host of `[broker] address` when devices on the LAN can use it.
fn lan_host(config: &SiteConfig) -> Option<String> {
    let (host, _) = config.broker.address.rsplit_once(':')?;
    let host = host.trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    (!loopback).then(|| host.to_string())
}

fn broker_listen(config: &SiteConfig) -> anyhow::Result<SocketAddr> {
    config.broker.address.parse().with_context(|| {
        format!(
            "[broker] address \"{}\" is not an IP address and port to listen on",
            config.broker.address
        )
    })
}

/// Starts the embedded broker when the configuration asks for it; returns where to connect.
fn start_broker_if_embedded(
    config: &SiteConfig,
    listen: Option<SocketAddr>,
) -> anyhow::Result<String> {
    if !config.broker.embedded {
        return Ok(config.broker.address.clone());
    }
    let addr = match listen {
        Some(a) => a,
        None => broker_listen(config)?,
    };
    qms_bus::start_embedded(addr)?;
    info!(%addr, "embedded broker listening");
    Ok(addr.to_string())
}

/// Runs the authority; `broker_here` when this process has just started its broker, so
/// no other authority can be on it.
async fn serve(
    config: SiteConfig,
    address: &str,
    data: Option<PathBuf>,
    broker_here: bool,
) -> anyhow::Result<()> {
    let mut bus = device_options(&config, "queue")?;
    bus.address = address.to_string();
    let mut options = QueueOptions::new(Arc::new(config), address);
    options.bus = bus;
    if broker_here {
        options.alone_check = Duration::ZERO;
    }
    if let Some(data) = data {
        options.store_path = data;
    }
    qms_queue::run(options, shutdown_signal()).await?;
    info!("queue authority stopped");
    Ok(())
}

/// Runs the printer driver for `device` until `shutdown`; the virtual printer when its
/// port is "virtual", drawing tickets into `tickets`.
async fn printer(
    config: &SiteConfig,
    device: &str,
    tickets: &Path,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use qms_printer::serial::{Flow, PortSettings};
    use qms_printer::ticket::Paper;
    let port = config
        .device(device)
        .filter(|d| d.role == qms_core::config::Role::Printer)
        .and_then(|d| d.port.clone())
        .with_context(|| {
            format!("no printer device \"{device}\" with a `port` in the site configuration")
        })?;
    let paper = if port.paper_mm == 58 {
        Paper::Mm58
    } else {
        Paper::Mm80
    };
    let mut virtual_printer = None;
    let path = if port.path == "virtual" {
        std::fs::create_dir_all(tickets)?;
        let started = qms_printer::virtual_printer::VirtualPrinter::start(
            Some(tickets.to_path_buf()),
            paper.dots(),
        )?;
        let path = started.path.clone();
        info!(%path, folder = %tickets.display(), "virtual printer: tickets are drawn as PNG");
        virtual_printer = Some(started);
        path
    } else {
        port.path.clone()
    };
    let options = qms_printer::service::PrinterOptions {
        bus: device_options(config, device)?,
        port: PortSettings {
            path,
            baud: port.baud,
            flow: match port.flow {
                qms_core::config::FlowControl::None => Flow::None,
                qms_core::config::FlowControl::XonXoff => Flow::XonXoff,
                qms_core::config::FlowControl::RtsCts => Flow::RtsCts,
            },
            timeout: Duration::from_millis(500),
        },
        paper,
        text: port.text,
        drop_after: Duration::from_secs(port.drop_after_seconds),
        spool: PathBuf::from(format!("{device}-printed.txt")),
        poll: Duration::from_secs(3),
    };
    if let Some(v) = virtual_printer {
        // Its tickets are files already; they need no one to read the list.
        std::thread::spawn(move || while v.printed.recv().is_ok() {});
    }
    qms_printer::service::run(options, shutdown).await?;
    Ok(())
}

/// The office's printer, when it has exactly one.
fn only_printer(config: &SiteConfig) -> Option<String> {
    let mut printers = config
        .devices
        .iter()
        .filter(|d| d.role == qms_core::config::Role::Printer);
    match (printers.next(), printers.next()) {
        (Some(printer), None) => Some(printer.id.clone()),
        _ => None,
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM can be handled");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Options for a device of the site: its retained status tells the others it is there.
fn device_options(config: &SiteConfig, device: &str) -> anyhow::Result<BusOptions> {
    Ok(BusOptions::for_device(config, device)?)
}

/// Options for a short-lived client of the site's broker, which leaves no status behind.
pub fn client_options(config: &SiteConfig, device: &str) -> anyhow::Result<BusOptions> {
    let mut options = device_options(config, device)?;
    options.announce = false;
    Ok(options)
}

async fn one_command(
    config: &SiteConfig,
    device: &str,
    command: Command,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut client =
        DeviceClient::connect(client_options(config, device)?, &[], CLIENT_TIMEOUT).await?;
    let reply = client.send(command, CLIENT_TIMEOUT).await?;
    client.close().await;
    if json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&reply)?))?;
    } else {
        emit(&reply_text(config, &reply))?;
    }
    Ok(if reply.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The reply in words, local times.
fn reply_text(config: &SiteConfig, reply: &Reply) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(error) = &reply.error {
        let _ = writeln!(
            out,
            "Không thực hiện được: {} ({})",
            error.message, error.message_en
        );
        return out;
    }
    let name = |service: &str| {
        config
            .procedure(service)
            .map_or(service.to_string(), |p| p.name_vi.clone())
    };
    if let Some(ticket) = &reply.ticket {
        let _ = write!(
            out,
            "Số thứ tự {} — {} — {}",
            ticket.label,
            name(&ticket.service),
            ticket.state.name_vi()
        );
        if let Some(counter) = ticket
            .counter
            .filter(|_| ticket.state == TicketState::Called)
        {
            let _ = write!(out, " tại quầy {counter}");
        }
        if ticket.state == TicketState::Waiting {
            let _ = write!(out, ", {} người đang chờ trước", reply.ahead.unwrap_or(0));
            let _ = match reply.wait_minutes {
                Some(0) => write!(out, ", sắp đến lượt"),
                Some(minutes) => write!(out, ", khoảng {minutes} phút"),
                None => write!(out, ", chưa có quầy mở"),
            };
        }
        out.push('\n');
    }
    if let Some(tickets) = &reply.tickets {
        for t in tickets {
            // How long the citizen waited, for those called.
            let waited = t.called_at.map_or(String::new(), |called| {
                format!("  (chờ {} phút)", (called - t.issued_at).whole_minutes())
            });
            let _ = writeln!(
                out,
                "{:>6}  {:<14} {}  {}{waited}",
                t.label,
                t.state.name_vi(),
                hour_minute(t.issued_at, config.site.utc_offset),
                name(&t.service),
            );
        }
        let _ = writeln!(out, "{} số", tickets.len());
    }
    if reply.ticket.is_none() && reply.tickets.is_none() {
        out.push_str("Đã thực hiện.\n");
    }
    out
}

/// Writes to standard output. A reader that went away (`qms tickets | head`) is an
/// `io::Error` of kind `BrokenPipe`, which ends the command quietly.
pub fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

async fn watch(config: &SiteConfig, json: bool) -> anyhow::Result<()> {
    let topics = qms_bus::Topics::new(&config.site.id);
    // An account of its own, where the site has one: a watch beside `qms issue` is fine.
    let device = if config.device("watch").is_some() {
        "watch"
    } else {
        "admin"
    };
    let mut options = client_options(config, device)?;
    options.device = format!("watch-{}", std::process::id());
    let mut client =
        DeviceClient::connect(options, &[topics.board(), topics.events()], CLIENT_TIMEOUT).await?;
    eprintln!("watching {} (Ctrl-C to stop)", config.site.name);
    let mut last_board = 0;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let message = tokio::select! {
            _ = &mut stop => break,
            m = client.next_message(Duration::from_secs(3600)) => m,
        };
        let Some(crate::device::Message { topic, payload, .. }) = message else {
            continue;
        };
        if json {
            emit(&format!("{topic} {}\n", String::from_utf8_lossy(&payload)))?;
            continue;
        }
        if topic == topics.board() {
            match serde_json::from_slice::<Board>(&payload) {
                Ok(board) if board.seq >= last_board => {
                    last_board = board.seq;
                    emit(&format!("{}\n", board_line(&board)))?;
                }
                Ok(_) => {}
                Err(e) => bail!("unreadable board snapshot: {e}"),
            }
        } else if let Ok(event) = serde_json::from_slice::<Event>(&payload) {
            emit(&format!("{}\n", event_line(config, &event)))?;
        }
    }
    client.close().await;
    Ok(())
}

fn board_line(board: &Board) -> String {
    let calls: Vec<String> = board
        .calls
        .iter()
        .take(3)
        .map(|c| format!("{} → quầy {}", c.label, c.counter))
        .collect();
    let waiting: Vec<String> = board
        .waiting
        .iter()
        .filter(|w| w.waiting > 0)
        .map(|w| match w.wait_minutes {
            Some(m) => format!("{} {} (khoảng {m} phút)", w.service, w.waiting),
            None => format!("{} {}", w.service, w.waiting),
        })
        .collect();
    format!(
        "[bảng #{}] vừa gọi: {} | đang chờ: {}",
        board.seq,
        if calls.is_empty() {
            "—".into()
        } else {
            calls.join(", ")
        },
        if waiting.is_empty() {
            "—".into()
        } else {
            waiting.join(", ")
        }
    )
}

/// An event as staff read it: ticket numbers, local time, Vietnamese words.
fn event_line(config: &SiteConfig, event: &Event) -> String {
    // A ticket id is its day and its number: `20261126-1023`.
    let number = |ticket: &str| ticket.rsplit('-').next().unwrap_or(ticket).to_string();
    let what = match &event.kind {
        EventKind::DayOpened { day } => {
            format!("mở ngày {}", qms_core::calendar::day_month_year(*day))
        }
        EventKind::Issued { ticket } => format!("cấp số {} ({})", ticket.label, ticket.service),
        EventKind::Called { label, counter, .. } => format!("gọi số {label} đến quầy {counter}"),
        EventKind::Recalled { label, counter, .. } => {
            format!("gọi lại số {label} ở quầy {counter}")
        }
        EventKind::NoShow { ticket, counter } => {
            format!("số {} vắng mặt ở quầy {counter}", number(ticket))
        }
        EventKind::Reactivated { ticket } => format!("số {} vào lại hàng chờ", number(ticket)),
        EventKind::Transferred {
            ticket,
            service,
            counter,
        } => match counter {
            Some(c) => format!("số {} chuyển sang {service}, quầy {c}", number(ticket)),
            None => format!("số {} chuyển sang {service}", number(ticket)),
        },
        EventKind::Completed {
            ticket,
            counter,
            service_seconds,
        } => format!(
            "số {} xong ở quầy {counter} sau {} phút",
            number(ticket),
            service_seconds / 60
        ),
        EventKind::CounterPaused { counter } => format!("quầy {counter} tạm dừng"),
        EventKind::CounterResumed { counter } => format!("quầy {counter} tiếp tục"),
        EventKind::Rated { ticket, rating } => {
            format!("số {} được đánh giá {}", number(ticket), rating.name_vi())
        }
        EventKind::DayClosed { day, expired } => {
            format!(
                "đóng ngày {}, {} số hết hạn",
                qms_core::calendar::day_month_year(*day),
                expired.len()
            )
        }
    };
    format!(
        "  #{} {} {what}",
        event.seq,
        hour_minute(event.at, config.site.utc_offset)
    )
}
