//! Prints a sample ticket on 58 mm and 80 mm paper, with its Vietnamese as raster lines
//! and in TCVN-3 text mode, through the virtual printer, writes
//! what came out as PNG and text into the given folder, and prints the size of the
//! ESC/POS stream and its time on the wire:
//! `cargo run -p qms-printer --example ticket -- docs/printer`

use std::path::PathBuf;
use std::time::Duration;

use qms_core::config::PrinterText;
use qms_core::sample::print_job;
use qms_printer::raster::Fonts;
use qms_printer::serial::{PortSettings, SerialPrinter};
use qms_printer::ticket::{ticket_bytes, Paper, TicketText};
use qms_printer::virtual_printer::VirtualPrinter;

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/printer".into()),
    );
    std::fs::create_dir_all(&out).expect("the output folder can be made");
    let fonts = Fonts::load();
    let normal = TicketText::of(&print_job("1023"));
    // A priority ticket of a citizen who read the kiosk in English.
    let mut job = print_job("1005");
    job.ticket.priority = Some(qms_core::protocol::PriorityReason::Elderly);
    (job.english, job.ahead, job.wait_minutes) = (true, 0, Some(0));
    let priority = TicketText::of(&job);
    for (paper, mode, name, text) in [
        (Paper::Mm58, PrinterText::Raster, "58mm", &normal),
        (Paper::Mm80, PrinterText::Raster, "80mm", &normal),
        (Paper::Mm58, PrinterText::Tcvn3, "58mm-tcvn3", &normal),
        (Paper::Mm80, PrinterText::Tcvn3, "80mm-tcvn3", &normal),
        (
            Paper::Mm80,
            PrinterText::Raster,
            "80mm-priority-english",
            &priority,
        ),
    ] {
        let bytes = ticket_bytes(text, paper, &fonts, mode);
        let dir = out.join(name);
        std::fs::create_dir_all(&dir).expect("folder");
        let printer =
            VirtualPrinter::start(Some(dir.clone()), paper.dots()).expect("a pseudo-terminal");
        let mut port = SerialPrinter::open(&PortSettings {
            path: printer.path.clone(),
            baud: 38400,
            flow: qms_core::config::FlowControl::None,
            timeout: Duration::from_secs(1),
        })
        .expect("the virtual printer opens");
        port.print(&bytes).expect("printed");
        let printed = printer
            .printed
            .recv_timeout(Duration::from_secs(5))
            .expect("a ticket");
        let png = printed.png.clone().expect("drawn");
        let target = out.join(format!("ticket-{name}.png"));
        std::fs::rename(&png, &target).expect("moved");
        std::fs::rename(png.with_extension("txt"), target.with_extension("txt")).expect("moved");
        let _ = std::fs::remove_dir_all(&dir);
        let wire = |baud: f64| bytes.len() as f64 * 10.0 / baud;
        println!(
            "{name}: {} bytes; on the wire {:.2} s at 9600, {:.2} s at 38400, {:.2} s at 115200 baud → {}",
            bytes.len(),
            wire(9600.0),
            wire(38400.0),
            wire(115200.0),
            target.display()
        );
    }
}
