//! The site configuration as the binary finds it (`--config`, `./qms.toml` or the
//! built-in default, `--broker` applied), `qms config print|check`, and the bus options
//! of the site's devices.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use qms_bus::BusOptions;
use qms_core::config::Role;
use qms_core::SiteConfig;

use crate::clients::emit;

/// The options every subcommand takes.
#[derive(clap::Args)]
pub struct SiteArgs {
    /// Site configuration file [default: ./qms.toml if present, else the built-in default]
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Broker to use, host:port (overrides [broker] address and turns the embedded broker off)
    #[arg(long, global = true)]
    pub broker: Option<String>,
}

impl SiteArgs {
    /// The configuration, with `--broker` applied.
    pub fn load(&self) -> anyhow::Result<SiteConfig> {
        let mut config = load_config(self.config.as_deref())?;
        if let Some(address) = &self.broker {
            config.broker.address = address.clone();
            config.broker.embedded = false;
        }
        Ok(config)
    }
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

/// `qms config`.
#[derive(clap::Subcommand)]
pub enum ConfigArgs {
    /// Print the configuration in use (the built-in default without --config)
    Print,
    /// Check a configuration file and say what is wrong
    Check {
        /// File to check [default: --config, or ./qms.toml]
        file: Option<PathBuf>,
    },
}

impl ConfigArgs {
    pub fn run(self, site: &SiteArgs) -> anyhow::Result<ExitCode> {
        match self {
            // `qms config print > qms.toml` has the shell make an empty ./qms.toml first.
            ConfigArgs::Print if site.config.is_none() => {
                emit(&SiteConfig::default_site().to_toml())?
            }
            ConfigArgs::Print => emit(&site.load()?.to_toml())?,
            ConfigArgs::Check { file } => {
                let path = file
                    .or_else(|| site.config.clone())
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
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Options for a device of the site: its retained status tells the others it is there.
pub fn device_options(config: &SiteConfig, device: &str) -> anyhow::Result<BusOptions> {
    Ok(BusOptions::for_device(config, device)?)
}

/// Options for a short-lived client of the site's broker, which leaves no status behind.
pub fn client_options(config: &SiteConfig, device: &str) -> anyhow::Result<BusOptions> {
    let mut options = device_options(config, device)?;
    options.announce = false;
    Ok(options)
}

/// The office's printer, when it has exactly one.
pub fn only_printer(config: &SiteConfig) -> Option<String> {
    let mut printers = config.devices.iter().filter(|d| d.role == Role::Printer);
    match (printers.next(), printers.next()) {
        (Some(printer), None) => Some(printer.id.clone()),
        _ => None,
    }
}
