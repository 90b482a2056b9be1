//! The windows: `qms kiosk`, `qms display`, `qms rating` and the console of
//! `qms counter N`. Each runs Slint's event loop on the main thread until it is closed.

use std::sync::Arc;

use anyhow::{bail, Context};
use qms_core::config::Role;
use qms_core::SiteConfig;

use crate::site::device_options;

#[derive(clap::Args)]
pub struct KioskArgs {
    /// Device to act as: a kiosk in the site configuration
    #[arg(long, default_value = "kiosk-1")]
    device: String,
}

impl KioskArgs {
    pub fn run(self, config: SiteConfig) -> anyhow::Result<()> {
        let options = device_options(&config, &self.device)?;
        Ok(qms_kiosk::run(Arc::new(config), options)?)
    }
}

#[derive(clap::Args)]
pub struct DisplayArgs {
    /// Device to act as: a display in the site configuration
    #[arg(long, default_value = "display-hall")]
    device: String,
}

impl DisplayArgs {
    pub fn run(self, config: SiteConfig) -> anyhow::Result<()> {
        let options = device_options(&config, &self.device)?;
        Ok(qms_display::run(Arc::new(config), options)?)
    }
}

#[derive(clap::Args)]
pub struct RatingArgs {
    /// Counter number
    #[arg(long)]
    counter: u16,
    /// Device to act as [default: the counter's rating device in the site configuration]
    #[arg(long)]
    device: Option<String>,
}

impl RatingArgs {
    pub fn run(self, config: SiteConfig) -> anyhow::Result<()> {
        let device = counter_device(&config, Role::Rating, self.counter, self.device)?;
        let options = device_options(&config, &device)?;
        Ok(qms_counter::run_rating(
            Arc::new(config),
            self.counter,
            options,
        )?)
    }
}

/// The officer's console of `counter`, as `device` or the counter's console device.
pub fn console(config: SiteConfig, counter: u16, device: Option<String>) -> anyhow::Result<()> {
    let device = counter_device(&config, Role::Counter, counter, device)?;
    let options = device_options(&config, &device)?;
    Ok(qms_counter::run_console(
        Arc::new(config),
        counter,
        options,
    )?)
}

/// The device a counter's window acts as: `device` when given, which must belong to
/// that counter, or the first device of `role` configured for it.
fn counter_device(
    config: &SiteConfig,
    role: Role,
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
        Some(d) if d.role == Role::Admin => Ok(id),
        Some(d) if d.role == role && d.counter == Some(counter) => Ok(id),
        Some(_) => bail!(
            "device \"{id}\" is not a {kind} device of counter {counter} in the site configuration"
        ),
    }
}
