//! `qms secret pin` and `qms secret token NAME`: the hashes `qms.toml` keeps instead of an
//! officer's PIN or an integration's API token.

use std::io::BufRead;

use anyhow::bail;
use qms_core::secret::{pin_problem, PinHash, TokenHash};

/// What to make.
#[derive(clap::Subcommand)]
pub enum SecretArgs {
    /// An officer's PIN hash: type the PIN (4 to 12 digits) on the input
    Pin,
    /// A new API token for an integration (the one-stop system, the rating survey) and its
    /// hash
    Token {
        /// Who it is for, e.g. mot-cua
        name: String,
    },
}

impl SecretArgs {
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            SecretArgs::Pin => {
                eprintln!("Nhập mã PIN (4–12 chữ số) rồi Enter:");
                let mut pin = String::new();
                std::io::stdin().lock().read_line(&mut pin)?;
                let pin = pin.trim();
                if let Some(problem) = pin_problem(pin) {
                    bail!("{problem}");
                }
                println!("pin_hash = \"{}\"", PinHash::of(pin));
            }
            SecretArgs::Token { name } => {
                let (token, hash) = TokenHash::new_token();
                println!("# Give this token to {name}; it is shown once and not kept:");
                println!("#   {token}");
                println!("[[web.token]]\nname = \"{name}\"\ntoken_hash = \"{hash}\"");
            }
        }
        Ok(())
    }
}
