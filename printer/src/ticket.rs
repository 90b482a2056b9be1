//! The printed ticket: Vietnamese lines as raster images, the number, date and QR code
//! as the printer's own commands.

use qms_core::protocol::PrintJob;

use crate::escpos::{Align, Commands};
use crate::raster::{render_line, wrap, Fonts};

/// Paper width, in dots at 203 dpi.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// 58 mm roll, 48 mm printed.
    Mm58,
    /// 80 mm roll, 72 mm printed.
    Mm80,
}

impl Paper {
    pub fn dots(self) -> usize {
        match self {
            Paper::Mm58 => 384,
            Paper::Mm80 => 576,
        }
    }
}

/// What a ticket says, line by line, before it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketText {
    pub office: String,
    pub heading: String,
    pub number: String,
    pub procedure: String,
    pub issued: String,
    pub waiting: String,
    pub qr: String,
    pub footer: String,
}

impl TicketText {
    pub fn of(job: &PrintJob) -> TicketText {
        let t = &job.ticket;
        let waiting = match (job.ahead, job.wait_minutes) {
            (0, _) => "Bạn là người tiếp theo".to_string(),
            (n, Some(m)) if m > 0 => format!("Trước bạn: {n} người · khoảng {m} phút"),
            (n, _) => format!("Trước bạn: {n} người"),
        };
        TicketText {
            office: job.site_name.clone(),
            heading: "SỐ THỨ TỰ".into(),
            number: t.label.clone(),
            procedure: job.service_vi.clone(),
            issued: format!(
                "{:02}/{:02}/{} {:02}:{:02}",
                t.issued_at.day(),
                u8::from(t.issued_at.month()),
                t.issued_at.year(),
                t.issued_at.hour(),
                t.issued_at.minute()
            ),
            waiting,
            qr: t.id.clone(),
            footer: "Vui lòng chờ gọi số. Xin cảm ơn!".into(),
        }
    }
}

/// Font sizes in pixels (dots) of the raster lines.
pub const OFFICE_PX: f32 = 22.0;
pub const HEADING_PX: f32 = 26.0;
pub const PROCEDURE_PX: f32 = 22.0;
pub const WAITING_PX: f32 = 20.0;
pub const FOOTER_PX: f32 = 18.0;

/// The ESC/POS bytes of a ticket.
pub fn ticket_bytes(text: &TicketText, paper: Paper, fonts: &Fonts) -> Vec<u8> {
    let width = paper.dots();
    let mut out = Commands::new().init().align(Align::Center);
    let raster_lines = |mut out: Commands, font: &fontdue::Font, line: &str, px: f32| {
        for part in wrap(font, line, px, width) {
            out = out.raster(&render_line(font, &part, px));
        }
        out
    };
    out = raster_lines(out, &fonts.bold, &text.office, OFFICE_PX);
    out = out.feed(1);
    out = raster_lines(out, &fonts.bold, &text.heading, HEADING_PX);
    // 12x24 dots a character, 7 times: four digits are 336 dots, within 58 mm.
    out = out
        .size(7, 7)
        .bold(true)
        .line(&text.number)
        .size(1, 1)
        .bold(false);
    out = raster_lines(out, &fonts.bold, &text.procedure, PROCEDURE_PX);
    out = out.line(&text.issued);
    out = raster_lines(out, &fonts.regular, &text.waiting, WAITING_PX);
    out = out.feed(1).qr(&text.qr, 5);
    out = raster_lines(out, &fonts.regular, &text.footer, FOOTER_PX);
    out.feed(3).cut().into_bytes()
}
