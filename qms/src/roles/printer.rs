//! `qms printer`: the ticket printer driver, on its serial port or the virtual printer.

use std::path::{Path, PathBuf};

use anyhow::Context;
use qms_core::SiteConfig;
use qms_printer::service::PrinterOptions;
use qms_printer::virtual_printer::VirtualPrinter;
use tracing::info;

use crate::shutdown::Shutdown;
use crate::site::device_options;

#[derive(clap::Args)]
pub struct PrinterArgs {
    /// Device to act as: a printer in the site configuration
    #[arg(long, default_value = "printer-1")]
    device: String,
    /// Where the virtual printer writes each ticket as PNG and text
    #[arg(long, default_value = "printed-tickets")]
    tickets: PathBuf,
}

impl PrinterArgs {
    pub async fn run(self, config: SiteConfig, shutdown: Shutdown) -> anyhow::Result<()> {
        drive(&config, &self.device, &self.tickets, shutdown).await
    }
}

/// Runs the printer driver for `device` until `shutdown`; the virtual printer when its
/// port is "virtual", drawing tickets into `tickets`.
pub async fn drive(
    config: &SiteConfig,
    device: &str,
    tickets: &Path,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let bus = device_options(config, device)?;
    let mut options = PrinterOptions::for_device(config, device, bus).with_context(|| {
        format!("no printer device \"{device}\" with a `port` in the site configuration")
    })?;
    if options.port.path == "virtual" {
        std::fs::create_dir_all(tickets)?;
        let started = VirtualPrinter::start(Some(tickets.to_path_buf()), options.paper.dots())?;
        info!(path = %started.path, folder = %tickets.display(), "virtual printer: tickets are drawn as PNG");
        options.port.path = started.path.clone();
        // Its tickets are files already; they need no one to read the list.
        std::thread::spawn(move || while started.printed.recv().is_ok() {});
    }
    qms_printer::service::run(options, shutdown.wait()).await?;
    info!(device, "printer driver stopped");
    Ok(())
}
