//! The printed ticket: Vietnamese lines as raster images (or, in text mode, TCVN-3 in the
//! printer's font), the number, date and QR code as the printer's own commands.

use qms_core::calendar::{day_month_year, hour_minute};
use qms_core::protocol::PrintJob;

use qms_core::config::PrinterText;

use crate::escpos::{Align, Commands};
use crate::raster::{render_line, wrap, Fonts};
use crate::tcvn3;

/// Paper width, in dots at 203 dpi.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// 58 mm roll, 48 mm printed.
    Mm58,
    /// 80 mm roll, 72 mm printed.
    Mm80,
}

impl Paper {
    /// The roll of the configured width (`paper_mm`): 58, else 80.
    pub fn of_width(mm: u8) -> Paper {
        if mm == 58 {
            Paper::Mm58
        } else {
            Paper::Mm80
        }
    }

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
    /// "Ưu tiên: người cao tuổi" for a priority ticket.
    pub priority: Option<String>,
    pub procedure: String,
    /// The English name too, for a citizen who read the kiosk in English.
    pub procedure_en: Option<String>,
    pub issued: String,
    pub waiting: String,
    pub qr: String,
    pub footer: String,
}

impl TicketText {
    pub fn of(job: &PrintJob) -> TicketText {
        let t = &job.ticket;
        let waiting = match (job.ahead, job.wait_minutes) {
            (0, _) => "Ông/bà là người tiếp theo".to_string(),
            (n, Some(m)) if m > 0 => format!("Trước ông/bà: {n} người · khoảng {m} phút"),
            (n, _) => format!("Trước ông/bà: {n} người"),
        };
        TicketText {
            office: job.site_name.clone(),
            heading: "SỐ THỨ TỰ".into(),
            number: t.label.clone(),
            priority: t.priority.map(|r| r.mark(false)),
            procedure: job.procedure_vi.clone(),
            procedure_en: (job.english && !job.procedure_en.is_empty())
                .then(|| job.procedure_en.clone()),
            // In the offset the authority issued it in: the office's.
            issued: format!(
                "{} {}",
                day_month_year(t.issued_at.date()),
                hour_minute(t.issued_at, t.issued_at.offset())
            ),
            waiting,
            // The citizen's page when the office has one: the phone shows the queue.
            qr: job.follow_url.clone().unwrap_or_else(|| t.id.clone()),
            footer: match job.follow_url {
                Some(_) => "Quét mã QR để theo dõi lượt gọi trên điện thoại. Xin cảm ơn!",
                None => "Vui lòng chờ gọi số. Xin cảm ơn!",
            }
            .into(),
        }
    }
}

/// How a Vietnamese line looks: bold or not, its size drawn as raster, and its scale in
/// the printer's own font (text mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub bold: bool,
    /// Pixels (dots) of the font drawn on the host.
    pub px: f32,
    /// Width and height multiplier of the printer's font.
    pub scale: u8,
}

pub const OFFICE: Style = Style {
    bold: true,
    px: 22.0,
    scale: 1,
};
pub const HEADING: Style = Style {
    bold: true,
    px: 26.0,
    scale: 2,
};
pub const PROCEDURE: Style = Style {
    bold: true,
    px: 22.0,
    scale: 1,
};
pub const WAITING: Style = Style {
    bold: false,
    px: 20.0,
    scale: 1,
};
pub const FOOTER: Style = Style {
    bold: false,
    px: 18.0,
    scale: 1,
};

/// The printer's font A: 12 dots a character.
const FONT_A_DOTS: usize = 12;

/// The ESC/POS bytes of a ticket; `mode` says how its Vietnamese lines are printed.
pub fn ticket_bytes(text: &TicketText, paper: Paper, fonts: &Fonts, mode: PrinterText) -> Vec<u8> {
    let width = paper.dots();
    // The code page selected; `ESC @` leaves page 0.
    let mut page = 0;
    let mut vietnamese = |mut out: Commands, line: &str, style: Style| match mode {
        PrinterText::Raster => {
            let font = if style.bold {
                &fonts.bold
            } else {
                &fonts.regular
            };
            for part in wrap(font, line, style.px, width) {
                out = out.raster(&render_line(font, &part, style.px));
            }
            out
        }
        PrinterText::Tcvn3 => {
            let columns = width / (FONT_A_DOTS * usize::from(style.scale));
            out = out.size(style.scale, style.scale).bold(style.bold);
            for part in wrap_columns(line, columns) {
                out = out.raw_line(&tcvn3::encode(&part, &mut page));
            }
            out.size(1, 1).bold(false)
        }
    };
    let mut out = Commands::new().init().align(Align::Center);
    out = vietnamese(out, &text.office, OFFICE);
    out = out.feed(1);
    out = vietnamese(out, &text.heading, HEADING);
    // 12x24 dots a character, 7 times: four digits are 336 dots, within 58 mm.
    out = out
        .size(7, 7)
        .bold(true)
        .line(&text.number)
        .size(1, 1)
        .bold(false);
    if let Some(priority) = &text.priority {
        out = vietnamese(out, priority, PROCEDURE);
    }
    out = vietnamese(out, &text.procedure, PROCEDURE);
    if let Some(english) = &text.procedure_en {
        out = vietnamese(out, english, WAITING);
    }
    out = out.line(&text.issued);
    out = vietnamese(out, &text.waiting, WAITING);
    out = out.feed(1).qr(&text.qr, 5);
    out = vietnamese(out, &text.footer, FOOTER);
    out.feed(3).cut().into_bytes()
}

/// `line` cut at spaces into lines of at most `columns` characters.
fn wrap_columns(line: &str, columns: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in line.split_whitespace() {
        let fits = current.chars().count() + 1 + word.chars().count() <= columns;
        if !current.is_empty() && !fits {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_mode_lines_break_at_spaces_within_the_columns() {
        assert_eq!(
            wrap_columns("Cấp, đổi, cấp lại thẻ Căn cước", 16),
            ["Cấp, đổi, cấp", "lại thẻ Căn cước"]
        );
        assert_eq!(wrap_columns("", 16), [""]);
    }

    #[test]
    fn the_qr_opens_the_citizens_page_when_the_office_has_one() {
        let mut job = qms_core::sample::print_job("1023");
        let plain = TicketText::of(&job);
        assert_eq!(plain.qr, "20261126-1023");
        job.follow_url = Some("http://192.168.1.10:8080/t/Zq3k9Xw2mLp8Rt5Vb1Nc0A".into());
        let text = TicketText::of(&job);
        assert_eq!(text.qr, "http://192.168.1.10:8080/t/Zq3k9Xw2mLp8Rt5Vb1Nc0A");
        assert!(text.footer.starts_with("Quét mã QR"), "{}", text.footer);
    }
}
