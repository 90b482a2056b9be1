//! `qms bench`: latency, durable throughput and memory of the authority and its broker.
//!
//! The authority (with the embedded broker, or against `--broker`) runs in a child process
//! so that its memory is measured alone; the clients run here.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use qms_bus::{Bus, BusEvent};
use qms_core::config::{Device, Hours, Role};
use qms_core::protocol::{Board, Command, CommandEnvelope, Reply};
use qms_core::SiteConfig;
use tokio::time::Instant;

use crate::device::DeviceClient;
use crate::site::client_options;

const WAIT: Duration = Duration::from_secs(10);

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Commands in the latency run (one client, one at a time)
    #[arg(long, default_value_t = 2000)]
    commands: usize,
    /// Concurrent clients in the throughput run
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Commands per client in the throughput runs
    #[arg(long, default_value_t = 2000)]
    per_client: usize,
    /// Commands one client keeps in flight in the pipelined run
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Instead of the runs above, a simulated 10-hour day with this many commands (1,000
    /// tickets, five consoles asking their lists after every change, a one-shot client
    /// every ten tickets), with the memory along the way
    #[arg(long)]
    day: Option<usize>,
    /// Instead of the runs above, `qms web` in a process of its own with this many board
    /// pages following it (HTTP clients holding Server-Sent Events streams): call → every
    /// page updated, and the server's memory and CPU
    #[arg(long)]
    web: Option<usize>,
    /// Calls in the `--web` run
    #[arg(long, default_value_t = 50)]
    calls: usize,
    /// In the `--web` run, citizens' pages (`/t/TOKEN`, each following a ticket of its
    /// own) instead of board pages
    #[arg(long)]
    citizens: bool,
    /// Instead of the runs above, a year of generated history (every day but Sunday, this
    /// many citizens a day) in the authority's archive: the year's report, the command
    /// latency while it is made, and the store's size per ticket
    #[arg(long)]
    year: Option<u32>,
}

impl BenchArgs {
    pub async fn run(self, config: &SiteConfig) -> anyhow::Result<()> {
        let args = self;
        let dir = tempfile::tempdir()?;
        let history = args.year.map(|per_day| {
            let office = qms_core::history::office();
            (per_day, office)
        });
        let base = history.as_ref().map_or(config, |(_, office)| office);
        let config = bench_config(base, args.clients);
        let archived = match &history {
            Some((per_day, _)) => Some(write_year(&config, &dir.path().join("db"), *per_day)?),
            None => None,
        };
        // Checked here, where it can be said, rather than by the authority it starts.
        SiteConfig::parse(&config.to_toml()).context("the bench office's configuration")?;
        let config_path = dir.path().join("bench.toml");
        std::fs::write(&config_path, config.to_toml())?;
        let embedded = config.broker.embedded;
        let address = if embedded {
            qms_bus::free_loopback_addr().to_string()
        } else {
            config.broker.address.clone()
        };
        let mut child =
            Started::authority(&config_path, &dir.path().join("db"), embedded, &address)?;
        let mut config = config;
        config.broker.address = address.clone();

        println!(
            "qms bench — broker: {} at {address}; authority in process {}",
            if embedded {
                "embedded rumqttd"
            } else {
                "external"
            },
            child.0.id()
        );
        if let Some(archived) = archived {
            return year_run(&config, &dir.path().join("db"), archived)
                .await
                .map_err(|e| child.explain(e));
        }
        if let Some(commands) = args.day {
            return day_run(&config, &child, commands)
                .await
                .map_err(|e| child.explain(e));
        }
        if let Some(pages) = args.web {
            return web_run(&config, &config_path, pages, args.calls, args.citizens)
                .await
                .map_err(|e| child.explain(e));
        }
        let latency = latency_run(&config, args.commands)
            .await
            .map_err(|e| child.explain(e))?;
        let (reply, board) = (Stats::of(latency.0), Stats::of(latency.1));
        println!(
            "command → reply            p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  ({} issues, one client)",
            reply.p50, reply.p99, reply.max, args.commands
        );
        println!(
            "command → board snapshot   p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
            board.p50, board.p99, board.max
        );
        let what = if embedded {
            "authority + embedded broker"
        } else {
            "authority alone"
        };
        let (rss, _) = child.memory()?;
        println!(
            "RSS of the {what} after {} tickets: {:.1} MB",
            args.commands + 1,
            rss as f64 / 1024.0
        );
        let one = throughput_run(&config, 1, args.per_client).await?;
        println!("durable issues/s, 1 client, 1 in flight:        {one:>7.0}");
        let pipelined = pipelined_run(&config, args.window, args.per_client * args.clients).await?;
        println!(
            "durable issues/s, 1 client, {} in flight:       {pipelined:>7.0}",
            args.window
        );
        let many = throughput_run(&config, args.clients, args.per_client).await?;
        println!(
            "durable issues/s, {} clients, 1 in flight each: {many:>7.0}",
            args.clients
        );
        let (rss, peak) = child.memory()?;
        let tickets = args.commands + 1 + args.per_client * (1 + 2 * args.clients);
        println!(
            "RSS of the {what} after {tickets} tickets: {:.1} MB (peak {:.1} MB)",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        );
        child.stop();
        Ok(())
    }
}

/// What `write_year` archived: the days, their tickets and the archive's bytes.
struct Archived {
    from: time::Date,
    to: time::Date,
    days: usize,
    tickets: usize,
    bytes: u64,
}

/// Archives a year of generated days before today, as the authority archives a closed
/// day, into the store folder `data`.
fn write_year(config: &SiteConfig, data: &Path, per_day: u32) -> anyhow::Result<Archived> {
    use qms_core::history::{self, Dice};
    let archive = qms_queue::archive::Archive::open(&data.join("archive"))?;
    let today = config.site.business_day(time::OffsetDateTime::now_utc());
    let from = today - time::Duration::days(365);
    let started = std::time::Instant::now();
    let yesterday = today.previous_day().context("the calendar begins")?;
    let (mut days, mut tickets) = (0, 0);
    for (day, events) in history::days(config, from, yesterday, per_day, &mut Dice::new(365)) {
        archive.write_day(day, &events)?;
        let record = archive.record(day)?.context("the day just archived")?;
        tickets += record.tickets.len();
        days += 1;
    }
    let bytes = folder_bytes(&data.join("archive"))?;
    println!(
        "archived {days} days, {tickets} tickets in {:.1} s: {:.2} MB, {} bytes a ticket",
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        bytes / tickets.max(1) as u64
    );
    Ok(Archived {
        from,
        to: today,
        days,
        tickets,
        bytes,
    })
}

fn folder_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            folder_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The year's report asked while counter 1 serves today's citizens: the report's time,
/// the counter's command latency before and during, then the store's size per ticket.
async fn year_run(config: &SiteConfig, data: &Path, archived: Archived) -> anyhow::Result<()> {
    const TODAY: usize = 300;
    const REPORTS: usize = 5;
    let mut kiosk = DeviceClient::connect(client_options(config, "bench-0")?, &[], WAIT).await?;
    let mut counter =
        DeviceClient::connect(client_options(config, "counter-1")?, &[], WAIT).await?;
    let mut admin = DeviceClient::connect(client_options(config, "admin")?, &[], WAIT).await?;
    kiosk.send(issue(config), Duration::from_secs(30)).await?;
    let (officer, _) = qms_core::history::OFFICERS[0];
    let sign_in = Command::SignIn {
        counter: None,
        officer: officer.into(),
        pin: "2468".into(),
    };
    let signed = counter.send(sign_in, WAIT).await?;
    if let Some(error) = signed.error {
        bail!("the officer could not sign in: {}", error.message_en);
    }
    // Counter 1 serves: each round a ticket issued and called (completing the one before).
    let call = || Command::CallNext {
        counter: None,
        dossier: None,
    };
    let round = async |kiosk: &mut DeviceClient, counter: &mut DeviceClient| {
        let start = Instant::now();
        kiosk.send(issue(config), WAIT).await?;
        counter.send(call(), WAIT).await?;
        anyhow::Ok(start.elapsed().as_secs_f64() * 1e3 / 2.0)
    };
    let mut before = Vec::new();
    for _ in 0..TODAY / 2 {
        before.push(round(&mut kiosk, &mut counter).await?);
    }
    let mut during = Vec::new();
    let mut report_ms = Vec::new();
    let year = Command::Report {
        from: archived.from,
        to: archived.to,
    };
    for _ in 0..REPORTS {
        let asked = Instant::now();
        let report = admin.send(year.clone(), Duration::from_secs(60));
        tokio::pin!(report);
        let reply = loop {
            tokio::select! {
                reply = &mut report => break reply?,
                latency = round(&mut kiosk, &mut counter) => during.push(latency?),
            }
        };
        report_ms.push(asked.elapsed().as_secs_f64() * 1e3);
        let Some(report) = reply.report else {
            bail!("the report was refused: {:?}", reply.error)
        };
        if (report.total.issued as usize) < archived.tickets {
            bail!(
                "the report counted {} tickets of the {} archived",
                report.total.issued,
                archived.tickets
            );
        }
    }
    while during.len() < TODAY / 2 {
        during.push(round(&mut kiosk, &mut counter).await?);
    }
    for client in [kiosk, counter, admin] {
        client.close().await;
    }
    let (reports, before, during) = (Stats::of(report_ms), Stats::of(before), Stats::of(during));
    println!(
        "report of {} days ({} tickets), asked over MQTT: p50 {:.0} ms, max {:.0} ms ({REPORTS} reports)",
        archived.days, archived.tickets, reports.p50, reports.max
    );
    println!(
        "command → reply while no report runs:   p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        before.p50, before.p99, before.max
    );
    println!(
        "command → reply while reports are made: p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        during.p50, during.p99, during.max
    );
    let store = folder_bytes(data)?;
    let tickets = archived.tickets + TODAY;
    println!(
        "store after the year and today's {TODAY} tickets: {:.2} MB (archive {:.2} MB, sled with today {:.2} MB): {} bytes a ticket",
        store as f64 / 1e6,
        archived.bytes as f64 / 1e6,
        (store - archived.bytes) as f64 / 1e6,
        store / tickets as u64
    );
    Ok(())
}

/// The site with a wide number block, open all day, and one kiosk per bench client.
fn bench_config(base: &SiteConfig, clients: usize) -> SiteConfig {
    let mut config = base.clone();
    config.site.id = format!("bench-{}", std::process::id());
    config.hours = Hours::always();
    // Issue replies then carry a citizen's page address, as an office's do.
    config.web.public_url = Some("http://bench.invalid".into());
    let procedure = &mut config.procedures[0];
    procedure.numbers = "100000-999999".parse().expect("a valid block");
    procedure.daily_quota = None;
    // A qms.toml that already has them (from an earlier `config print` of a bench run,
    // say) would have them twice.
    config.devices.retain(|d| !d.id.starts_with("bench-"));
    config.devices.extend((0..=clients).map(|i| Device {
        id: format!("bench-{i}"),
        role: Role::Kiosk,
        counter: None,
        printer: None,
        port: None,
    }));
    config
}

/// A role the bench started as a child process (the authority, `qms web`), and what it
/// is called in messages.
struct Started(Child, &'static str);

impl Started {
    /// The authority, with the embedded broker on `address` or against the broker there.
    fn authority(
        config: &Path,
        data: &Path,
        embedded: bool,
        address: &str,
    ) -> anyhow::Result<Started> {
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.arg("--config").arg(config);
        if embedded {
            command.args(["queue", "--with-broker", "--listen", address]);
        } else {
            command.args(["--broker", address, "queue"]);
        }
        command.arg("--data").arg(data);
        command.env("RUST_LOG", "warn,rumqttd=off");
        Started::spawn(command, "the authority")
    }

    /// `qms web` against the bench's broker, listening on `listen`.
    fn web(config: &Path, broker: &str, listen: std::net::SocketAddr) -> anyhow::Result<Started> {
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.arg("--config").arg(config);
        command.args(["--broker", broker, "web", "--listen", &listen.to_string()]);
        command.env("RUST_LOG", "warn");
        Started::spawn(command, "qms web")
    }

    fn spawn(mut command: std::process::Command, what: &'static str) -> anyhow::Result<Started> {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {what}"))?;
        Ok(Started(child, what))
    }

    /// Resident and peak memory in KiB, from /proc.
    fn memory(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        Ok((field("VmRSS:"), field("VmHWM:")))
    }

    /// `error`, or what the role's early exit says about it.
    fn explain(&mut self, error: anyhow::Error) -> anyhow::Error {
        match self.0.try_wait() {
            Ok(Some(status)) => error.context(format!(
                "{} started by the bench exited ({status}); its messages are above",
                self.1
            )),
            _ => error,
        }
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        self.stop();
    }
}

fn issue(config: &SiteConfig) -> Command {
    Command::issue(config.procedures[0].id.clone(), None)
}

/// Milliseconds from each command to its reply, and to the first board that includes it.
async fn latency_run(config: &SiteConfig, commands: usize) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let board_topic = qms_bus::Topics::new(&config.site.id).board();
    let mut client = DeviceClient::connect(
        client_options(config, "bench-0")?,
        std::slice::from_ref(&board_topic),
        WAIT,
    )
    .await?;
    // The first command also waits for the authority to start.
    client.send(issue(config), Duration::from_secs(30)).await?;
    let (mut to_reply, mut to_board) = (Vec::new(), Vec::new());
    for _ in 0..commands {
        let start = Instant::now();
        let reply = client.send(issue(config), WAIT).await?;
        to_reply.push(start.elapsed().as_secs_f64() * 1e3);
        let Some(ticket) = reply.ticket else {
            bail!("the authority refused a bench command: {:?}", reply.error)
        };
        loop {
            let Some(message) = client.next_message(WAIT).await else {
                bail!("no board snapshot with seq {} arrived", ticket.queue_key)
            };
            if message.topic != board_topic {
                continue;
            }
            let board: Board = serde_json::from_slice(&message.payload)?;
            if board.seq >= ticket.queue_key {
                to_board.push((message.at - start).as_secs_f64() * 1e3);
                break;
            }
        }
    }
    client.close().await;
    Ok((to_reply, to_board))
}

/// A day of an office in minutes: 1,000 tickets from a kiosk for every procedure in turn;
/// counters 1 to 5 call the next citizen in turn (which completes the one before), so a
/// few dozen wait at most; after every change each console asks its list, as the console
/// does; every tenth ticket a one-shot client (as `qms tickets` does) connects, asks
/// today's tickets and leaves. The authority's memory,
/// with its embedded broker, is printed as the day goes.
async fn day_run(config: &SiteConfig, child: &Started, commands: usize) -> anyhow::Result<()> {
    const TICKETS: usize = 1000;
    let lists_per_ticket = commands.saturating_sub(2 * TICKETS) / TICKETS;
    let mut kiosk = DeviceClient::connect(client_options(config, "bench-0")?, &[], WAIT).await?;
    kiosk.send(issue(config), Duration::from_secs(30)).await?;
    let mut consoles = Vec::new();
    for n in 1..=5u16 {
        let device = format!("counter-{n}");
        consoles.push(DeviceClient::connect(client_options(config, &device)?, &[], WAIT).await?);
    }
    let (rss, _) = child.memory()?;
    println!("day: RSS at the start {:.1} MB", rss as f64 / 1024.0);
    let start = Instant::now();
    let mut sent = 1;
    for ticket in 1..=TICKETS {
        let procedures = &config.procedures;
        let procedure = procedures[ticket % procedures.len()].id.clone();
        let reply = kiosk.send(Command::issue(procedure, None), WAIT).await?;
        if !reply.ok {
            bail!("the authority refused a ticket: {:?}", reply.error);
        }
        let console = &mut consoles[ticket % 5];
        console
            .send(
                Command::CallNext {
                    counter: None,
                    dossier: None,
                },
                WAIT,
            )
            .await?;
        sent += 2;
        for list in 0..lists_per_ticket {
            let n = list % 5;
            let counter = Some(n as u16 + 1);
            let list = Command::List {
                procedure: None,
                state: None,
                counter,
                day: None,
            };
            consoles[n].send(list, WAIT).await?;
            sent += 1;
        }
        if ticket % 10 == 0 {
            let mut one_shot =
                DeviceClient::connect(client_options(config, "admin")?, &[], WAIT).await?;
            one_shot.send(Command::todays_tickets(), WAIT).await?;
            one_shot.close().await;
            sent += 1;
        }
        if ticket % 250 == 0 {
            let (rss, peak) = child.memory()?;
            println!(
                "day: {ticket:>5} tickets, {sent:>6} commands: RSS {:.1} MB (peak {:.1} MB)",
                rss as f64 / 1024.0,
                peak as f64 / 1024.0
            );
        }
    }
    println!(
        "day: {sent} commands in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Durable commands per second from `clients` clients, each one command at a time.
async fn throughput_run(
    config: &SiteConfig,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<f64> {
    let mut connected = Vec::new();
    for i in 1..=clients {
        connected.push(
            DeviceClient::connect(client_options(config, &format!("bench-{i}"))?, &[], WAIT)
                .await?,
        );
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for mut client in connected {
        let command = issue(config);
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_client {
                let reply = client.send(command.clone(), WAIT).await?;
                if !reply.ok {
                    bail!("the authority refused a bench command: {:?}", reply.error);
                }
            }
            client.close().await;
            Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((clients * per_client) as f64 / start.elapsed().as_secs_f64())
}

/// Durable commands per second from one client that keeps `window` commands in flight.
async fn pipelined_run(config: &SiteConfig, window: usize, total: usize) -> anyhow::Result<f64> {
    let topics = qms_bus::Topics::new(&config.site.id);
    let mut options = client_options(config, "bench-0")?;
    options.subscriptions.push(topics.reply("bench-0"));
    let (bus, mut events) = Bus::connect(options)?;
    loop {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Some(BusEvent::Connected)) => break,
            Ok(Some(_)) => {}
            _ => bail!("the pipelined client could not connect"),
        }
    }
    let topic = topics.command("bench-0");
    let send = |n: usize| {
        let envelope = CommandEnvelope::new(format!("pipelined-{n}"), issue(config));
        let payload = serde_json::to_vec(&envelope).expect("commands serialize");
        bus.publish(&topic, payload, false, None)
    };
    let start = Instant::now();
    let mut sent = 0;
    while sent < window.min(total) {
        if !send(sent) {
            bail!("the pipelined client could not publish");
        }
        sent += 1;
    }
    let mut done = 0;
    while done < total {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Some(BusEvent::Message { payload, .. })) => {
                let reply: Reply = serde_json::from_slice(&payload)?;
                if !reply.ok {
                    bail!("the authority refused a bench command: {:?}", reply.error);
                }
                done += 1;
                if sent < total {
                    if !send(sent) {
                        bail!("the pipelined client could not publish");
                    }
                    sent += 1;
                }
            }
            Ok(Some(BusEvent::Acked(_))) => {}
            other => bail!("the pipelined run stopped: {other:?}"),
        }
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    bus.close().await;
    Ok(rate)
}

/// `pages` pages on one `qms web` (board pages, or `citizens`' pages each following a
/// ticket of its own); `calls` calls at counter 1, each timed from the command to the
/// moment every page got the change.
async fn web_run(
    config: &SiteConfig,
    config_path: &Path,
    pages: usize,
    calls: usize,
    citizens: bool,
) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listen = qms_bus::free_loopback_addr();
    let mut web = Started::web(config_path, &config.broker.address, listen)?;
    let started = Instant::now();
    while tokio::net::TcpStream::connect(listen).await.is_err() {
        if started.elapsed() > WAIT {
            return Err(web.explain(anyhow::anyhow!("qms web did not listen on {listen}")));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut kiosk = DeviceClient::connect(client_options(config, "bench-0")?, &[], WAIT).await?;
    // The first command also waits for the authority to start.
    kiosk.send(issue(config), Duration::from_secs(30)).await?;
    let mut counter =
        DeviceClient::connect(client_options(config, "counter-1")?, &[], WAIT).await?;
    // The citizens' pages follow tickets behind those the run calls: every call moves
    // each of them one place up.
    let mut paths = Vec::new();
    for i in 0..calls + pages {
        let reply = kiosk.send(issue(config), WAIT).await?;
        if citizens && i >= calls {
            let url = reply
                .follow_url
                .context("the bench office has a public_url")?;
            let token = url.rsplit('/').next().unwrap_or_default().to_string();
            paths.push(format!("/t/{token}/events"));
        }
    }
    if !citizens {
        paths = vec!["/board/events".to_string(); pages];
    }
    // Each page reports each change it is shown: on the board a new number called, on a
    // citizen's page any new state of its ticket.
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    for (page, path) in paths.into_iter().enumerate() {
        let mut stream = tokio::net::TcpStream::connect(listen)
            .await
            .context("a page could not connect (too few file descriptors? ulimit -n)")?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let seen_tx = seen_tx.clone();
        tokio::spawn(async move {
            let marker = if citizens {
                "event: ticket"
            } else {
                "\"calling\":{\"label\":\""
            };
            let (mut buffer, mut last) = (String::new(), String::new());
            let mut chunk = vec![0u8; 16 * 1024];
            let mut opened = false;
            while let Ok(n @ 1..) = stream.read(&mut chunk).await {
                let at = Instant::now();
                if !std::mem::replace(&mut opened, true) {
                    // The page's first state, whatever it shows.
                    let _ = seen_tx.send((page, at));
                }
                buffer.push_str(&String::from_utf8_lossy(&chunk[..n]));
                loop {
                    let Some(start) = buffer.find(marker) else {
                        // Keep a tail that may hold the start of a marker cut by the read.
                        let mut cut = buffer.len().saturating_sub(marker.len());
                        while !buffer.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        buffer.drain(..cut);
                        break;
                    };
                    let rest = &buffer[start + marker.len()..];
                    let end = if citizens { Some(0) } else { rest.find('"') };
                    let Some(end) = end else { break };
                    let label = rest[..end].to_string();
                    buffer.drain(..start + marker.len() + end);
                    if citizens || label != last {
                        last = label;
                        let _ = seen_tx.send((page, at));
                    }
                }
            }
        });
    }
    // Every page's first state, board or ticket.
    let mut first = std::collections::HashSet::new();
    while first.len() < pages {
        let (page, _) = tokio::time::timeout(WAIT, seen.recv())
            .await
            .with_context(|| format!("only {} of {pages} pages opened", first.len()))?
            .context("the pages closed")?;
        first.insert(page);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    while seen.try_recv().is_ok() {}
    let cpu_before = cpu_seconds(&web)?;
    let wall = Instant::now();
    let (mut each, mut all) = (Vec::new(), Vec::new());
    for _ in 0..calls {
        let start = Instant::now();
        let called = counter
            .send(
                Command::CallNext {
                    counter: Some(1),
                    dossier: None,
                },
                WAIT,
            )
            .await?;
        if !called.ok {
            bail!("counter 1 could not call: {:?}", called.error);
        }
        let mut reached = std::collections::HashSet::new();
        let mut last = 0.0;
        while reached.len() < pages {
            let (page, at) = tokio::time::timeout(WAIT, seen.recv())
                .await
                .with_context(|| format!("{} of {pages} pages showed the call", reached.len()))?
                .context("the pages closed")?;
            if at >= start && reached.insert(page) {
                let ms = (at - start).as_secs_f64() * 1e3;
                each.push(ms);
                last = ms;
            }
        }
        all.push(last);
    }
    let cpu = (cpu_seconds(&web)? - cpu_before) / wall.elapsed().as_secs_f64() * 100.0;
    let (rss, peak) = web.memory()?;
    let (each, all) = (Stats::of(each), Stats::of(all));
    let what = if citizens { "citizen" } else { "board" };
    println!(
        "call → one {what} page updated   p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  ({pages} pages, {calls} calls)",
        each.p50, each.p99, each.max
    );
    println!(
        "call → all {what} pages updated  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
        all.p50, all.p99, all.max
    );
    println!(
        "qms web with {pages} {what} pages: RSS {:.1} MB (peak {:.1} MB), CPU {cpu:.1} % of one core during the calls",
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    kiosk.close().await;
    counter.close().await;
    web.stop();
    Ok(())
}

/// User and system CPU time of a child so far, from /proc.
fn cpu_seconds(child: &Started) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.0.id()))?;
    // The fields after the command's name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime, fields 14 and 15 of the line (11 and 12 counted from the state
    // after the name), in USER_HZ: 100 on Linux.
    Ok((ticks(11) + ticks(12)) / 100.0)
}

struct Stats {
    p50: f64,
    p99: f64,
    max: f64,
}

impl Stats {
    fn of(mut samples: Vec<f64>) -> Stats {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Stats {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defect: with `bench-N` devices already in qms.toml the bench office had them
    /// twice, its authority exited on the configuration error, and the bench waited 30 s
    /// to say only "no reply".
    #[test]
    fn bench_in_a_folder_whose_qms_toml_has_its_devices_already() {
        let once = bench_config(&SiteConfig::default_site(), 4);
        let twice = bench_config(&once, 4);
        SiteConfig::parse(&twice.to_toml()).expect("the bench office is valid");
        let benches = twice
            .devices
            .iter()
            .filter(|d| d.id.starts_with("bench-"))
            .count();
        assert_eq!(benches, 5);
    }
}
