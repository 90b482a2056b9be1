//! `qms issue` and `qms reprint`: a ticket taken as a kiosk takes it, and a ticket printed
//! again.

use std::process::ExitCode;

use clap::ValueEnum;
use qms_core::protocol::{Command, PriorityReason};
use qms_core::SiteConfig;

use super::one_command;
use crate::site::only_printer;

#[derive(clap::Args)]
pub struct IssueArgs {
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
}

impl IssueArgs {
    pub async fn run(self, config: &SiteConfig) -> anyhow::Result<ExitCode> {
        let printer = match (self.print, self.no_print) {
            (_, true) => None,
            (Some(printer), false) => Some(printer),
            (None, false) => only_printer(config),
        };
        let command = Command::Issue {
            procedure: self.procedure,
            priority: self.priority.map(Into::into),
            english: false,
            printer,
        };
        one_command(config, &self.device, command, self.json).await
    }
}

#[derive(clap::Args)]
pub struct ReprintArgs {
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
}

impl ReprintArgs {
    pub async fn run(self, config: &SiteConfig) -> anyhow::Result<ExitCode> {
        let command = Command::Reprint {
            ticket: self.ticket,
            printer: self.print.or_else(|| only_printer(config)),
        };
        one_command(config, &self.device, command, self.json).await
    }
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
