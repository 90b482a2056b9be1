//! `qms counter N`: the officer's console of a counter, or one action at it
//! (`qms counter 3 call-next`).

use std::process::ExitCode;

use qms_core::protocol::Command;
use qms_core::SiteConfig;

use super::one_command;
use crate::roles::{block_on, windows};

#[derive(clap::Args)]
pub struct CounterArgs {
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
}

#[derive(clap::Subcommand)]
enum CounterAction {
    /// Call the next citizen (completes the one being served)
    CallNext {
        /// The dossier code (mã hồ sơ) of the citizen being served
        #[arg(long)]
        dossier: Option<String>,
    },
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
    Complete {
        /// The dossier code (mã hồ sơ) from the one-stop system's receipt
        #[arg(long)]
        dossier: Option<String>,
    },
    /// Stop taking citizens for a while (the board shows the counter as paused)
    Pause,
    /// Take citizens again
    Resume,
}

impl CounterArgs {
    /// Whether this is one action, which says only its reply.
    pub fn is_action(&self) -> bool {
        self.action.is_some()
    }

    pub fn run(self, config: SiteConfig) -> anyhow::Result<ExitCode> {
        let counter = self.counter.or(self.counter_option);
        let Some(action) = self.action else {
            let counter = counter.expect("clap requires a counter");
            windows::console(config, counter, self.device)?;
            return Ok(ExitCode::SUCCESS);
        };
        let command = match action {
            CounterAction::CallNext { dossier } => Command::CallNext { counter, dossier },
            CounterAction::Call { ticket } => Command::Call { ticket, counter },
            CounterAction::Recall => Command::Recall { counter },
            CounterAction::NoShow => Command::NoShow { counter },
            CounterAction::Reactivate { ticket } => Command::Reactivate { ticket, counter },
            CounterAction::Transfer { procedure, to } => Command::Transfer {
                counter,
                to_procedure: procedure,
                to_counter: to,
            },
            CounterAction::Complete { dossier } => Command::Complete { counter, dossier },
            CounterAction::Pause => Command::Pause { counter },
            CounterAction::Resume => Command::Resume { counter },
        };
        let device = self.device.unwrap_or_else(|| "admin".into());
        block_on(one_command(&config, &device, command, self.json))
    }
}
