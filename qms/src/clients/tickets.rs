//! `qms tickets`: today's tickets, or a closed day's.

use std::process::ExitCode;

use qms_core::protocol::{Command, TicketState};
use qms_core::SiteConfig;

use super::one_command;

#[derive(clap::Args)]
pub struct TicketsArgs {
    /// Only this procedure
    #[arg(long)]
    procedure: Option<String>,
    /// A closed business day, e.g. 2026-11-25
    #[arg(long, value_parser = super::report::parse_day)]
    day: Option<time::Date>,
    /// Only waiting tickets
    #[arg(long)]
    waiting: bool,
    #[arg(long, default_value = "admin")]
    device: String,
}

impl TicketsArgs {
    pub async fn run(self, config: &SiteConfig) -> anyhow::Result<ExitCode> {
        let command = Command::List {
            procedure: self.procedure,
            state: self.waiting.then_some(TicketState::Waiting),
            counter: None,
            day: self.day,
        };
        one_command(config, &self.device, command, false).await
    }
}
