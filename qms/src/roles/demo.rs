//! `qms demo`, and `qms` alone: the whole office on one machine. The embedded broker, the
//! authority, the virtual printer and the web pages run on a thread of their own; the
//! kiosk, board, counter 1 console and rating windows on the main thread, when there is a
//! screen.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qms_core::config::Hours;
use qms_core::SiteConfig;
use slint::ComponentHandle;
use tracing::{info, warn};

use super::{block_on, printer, queue, web};
use crate::shutdown::Shutdown;
use crate::site::device_options;

#[derive(clap::Args, Default)]
pub struct DemoArgs {
    /// Where the embedded broker listens [default: [broker] address]
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Database folder [default: [store] path]
    #[arg(long)]
    data: Option<PathBuf>,
    /// Keep the configured opening hours (the demo is open all day otherwise)
    #[arg(long)]
    real_hours: bool,
}

impl DemoArgs {
    /// Runs until Ctrl-C, SIGTERM or the windows are closed; then every role stops cleanly.
    pub fn run(self, mut config: SiteConfig) -> anyhow::Result<()> {
        if !self.real_hours {
            config.hours = Hours::always();
            info!("demo: open all day (pass --real-hours for the configured hours)");
        }
        let address = super::start_broker_if_embedded(&config, self.listen)?;
        let broker_here = config.broker.embedded;
        config.broker.address = address;
        let pages = format!(
            "http://{}",
            config.web.listen.replace("0.0.0.0", "127.0.0.1")
        );
        // The tickets' QR opens their page on this machine unless the site says otherwise.
        config.web.public_url.get_or_insert_with(|| pages.clone());
        let shutdown = Shutdown::default();
        let office = std::thread::Builder::new().name("office".into()).spawn({
            let (config, shutdown) = (config.clone(), shutdown.clone());
            move || {
                let stopped = block_on(office(config, self.data, broker_here, shutdown));
                // The office stopped (Ctrl-C, or an error): close the windows too.
                let _ = slint::quit_event_loop();
                stopped
            }
        })?;
        info!("office running; in another terminal try: `qms issue cccd`, `qms counter 1 call-next`, `qms watch`");
        info!("the board in a browser: {pages}/board");
        info!("counter 2's console in a browser: {pages}/counter/2 (its rating tablet: {pages}/rating/2)");
        info!("the head's report: {pages}/report (for an [[officer]] with head = true), or `qms report --format html > report.html`");
        info!(
            "each ticket's page for the citizen's phone: the address its QR holds, under {}/t/",
            config.web.public_url.as_deref().unwrap_or_default()
        );
        match windows(Arc::new(config)) {
            Ok(()) => {
                if !shutdown.triggered() {
                    info!("the windows were closed: the office stops");
                }
                shutdown.trigger();
            }
            // Without a screen, Ctrl-C or SIGTERM stops the office.
            Err(e) => info!(cause = %e, "no screen for the windows: the office runs without them"),
        }
        office
            .join()
            .map_err(|_| anyhow::anyhow!("the office thread panicked"))?
    }
}

/// The authority, the printer driver and the web board until `shutdown`; the authority or
/// the driver ending stops the rest.
async fn office(
    config: SiteConfig,
    data: Option<PathBuf>,
    broker_here: bool,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let address = config.broker.address.clone();
    let pages = async {
        // The board page is a help, not the office: a port taken is said and left.
        if let Err(e) = web::serve(config.clone(), "web", None, shutdown.clone()).await {
            warn!(cause = %format!("{e:#}"), "the web board is not served");
        }
    };
    let (served, printed, ()) = tokio::join!(
        async {
            let served = queue::serve(
                config.clone(),
                &address,
                data,
                broker_here,
                shutdown.clone(),
            )
            .await;
            shutdown.trigger();
            served
        },
        async {
            let tickets = Path::new("printed-tickets");
            let printed = printer::drive(&config, "printer-1", tickets, shutdown.clone()).await;
            shutdown.trigger();
            printed
        },
        pages,
    );
    served.and(printed)
}

/// Shows the office's windows and runs them until they are closed.
fn windows(config: Arc<SiteConfig>) -> anyhow::Result<()> {
    let kiosk = qms_kiosk::start(config.clone(), device_options(&config, "kiosk-1")?)?;
    kiosk.window().show()?;
    let board = qms_display::start(config.clone(), device_options(&config, "display-hall")?)?;
    board.window().show()?;
    let console =
        qms_counter::start_console(config.clone(), 1, device_options(&config, "counter-1")?)?;
    console.window().show()?;
    let rating =
        qms_counter::start_rating(config.clone(), 1, device_options(&config, "rating-1")?)?;
    rating.window().show()?;
    slint::run_event_loop()?;
    Ok(())
}
