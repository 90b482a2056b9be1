//! Writes the report of a generated busy month (November 2026, about 300 citizens a
//! working day) as HTML, CSV and text: `cargo run -p qms-report --example busy_month DIR`.

use qms_core::history::{self, Dice};
use qms_core::report::Report;
use time::macros::date;

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/report".into());
    std::fs::create_dir_all(&out)?;
    let config = history::office();
    let (from, to) = (date!(2026 - 11 - 01), date!(2026 - 11 - 30));
    let records = history::records(&config, from, to, 300, &mut Dice::new(2026));
    let report = Report::of(&config, from, to, &records);
    std::fs::write(format!("{out}/month.html"), qms_report::html(&report))?;
    std::fs::write(format!("{out}/month.csv"), report.to_csv())?;
    std::fs::write(format!("{out}/month.txt"), report.to_text())?;
    println!("{out}/month.html, month.csv, month.txt");
    Ok(())
}
