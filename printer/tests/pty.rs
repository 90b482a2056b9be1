//! The driver and the virtual printer through a real pseudo-terminal.

use std::time::Duration;

use qms_core::config::PrinterText;
use qms_core::sample::print_job;
use qms_printer::raster::{render_line, wrap, Fonts};
use qms_printer::serial::{PortSettings, PrinterError, SerialPrinter};
use qms_printer::status::Paper;
use qms_printer::ticket::{self, ticket_bytes, TicketText};
use qms_printer::virtual_printer::{Element, Faults, Printed, VirtualPrinter};

fn open(printer: &VirtualPrinter) -> SerialPrinter {
    SerialPrinter::open(&PortSettings {
        path: printer.path.clone(),
        baud: 38400,
        flow: qms_core::config::FlowControl::None,
        // Generous: a loaded machine may be slow to schedule the virtual printer.
        timeout: Duration::from_secs(1),
    })
    .expect("the pseudo-terminal opens")
}

fn next(printer: &VirtualPrinter) -> Printed {
    printer
        .printed
        .recv_timeout(Duration::from_secs(5))
        .expect("a ticket came out")
}

/// The ticket's lines in the printer's own font.
fn texts(printed: &Printed) -> Vec<&str> {
    printed
        .elements
        .iter()
        .filter_map(|e| match e {
            Element::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_ticket_decodes_back_to_its_text_qr_and_cut() {
    let printer = VirtualPrinter::start(None, 384).unwrap();
    let mut port = open(&printer);
    let fonts = Fonts::load();
    let text = TicketText::of(&print_job("1023"));
    port.print(&ticket_bytes(
        &text,
        ticket::Paper::Mm58,
        &fonts,
        PrinterText::Raster,
    ))
    .unwrap();
    let printed = next(&printer);

    let texts = texts(&printed);
    assert_eq!(texts, ["1023", "26/11/2026 08:41"]);
    let qr: Vec<&str> = printed
        .elements
        .iter()
        .filter_map(|e| match e {
            Element::Qr { payload, .. } => Some(payload.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(qr, ["20261126-1023"]);
    assert_eq!(printed.elements.last(), Some(&Element::Cut));
    // The Vietnamese lines are exactly the images of the expected words.
    let images: Vec<_> = printed
        .elements
        .iter()
        .filter_map(|e| match e {
            Element::Image { bitmap, .. } => Some(bitmap.clone()),
            _ => None,
        })
        .collect();
    let mut expected = Vec::new();
    for (line, style) in [
        (&text.office, ticket::OFFICE),
        (&text.heading, ticket::HEADING),
        (&text.procedure, ticket::PROCEDURE),
        (&text.waiting, ticket::WAITING),
        (&text.footer, ticket::FOOTER),
    ] {
        let font = if style.bold {
            &fonts.bold
        } else {
            &fonts.regular
        };
        for part in wrap(font, line, style.px, 384) {
            expected.push(render_line(font, &part, style.px));
        }
    }
    assert_eq!(images, expected);
    assert!(
        images.iter().all(|b| b.width() <= 384),
        "within 58 mm paper"
    );
}

#[test]
fn in_tcvn3_text_mode_the_vietnamese_lines_come_back_as_text_with_no_image() {
    let printer = VirtualPrinter::start(None, 576).unwrap();
    let mut port = open(&printer);
    let text = TicketText::of(&print_job("1023"));
    let bytes = ticket_bytes(
        &text,
        ticket::Paper::Mm80,
        &Fonts::load(),
        PrinterText::Tcvn3,
    );
    port.print(&bytes).unwrap();
    let printed = next(&printer);
    let texts = texts(&printed);
    assert_eq!(
        texts,
        [
            "Công an phường Sài Gòn",
            "SỐ THỨ TỰ",
            "1023",
            "Cấp, đổi, cấp lại thẻ Căn cước",
            "26/11/2026 08:41",
            "Trước ông/bà: 5 người - khoảng 25 phút",
            "Vui lòng chờ gọi số. Xin cảm ơn!",
        ]
    );
    assert!(
        !printed
            .elements
            .iter()
            .any(|e| matches!(e, Element::Image { .. })),
        "no raster image"
    );
    let raster = ticket_bytes(
        &text,
        ticket::Paper::Mm80,
        &Fonts::load(),
        PrinterText::Raster,
    );
    assert!(
        bytes.len() * 5 < raster.len(),
        "{} bytes in text mode, {} as raster",
        bytes.len(),
        raster.len()
    );
}

#[test]
fn out_of_paper_nothing_is_printed_and_the_status_says_why_until_paper_is_back() {
    let printer = VirtualPrinter::start(None, 384).unwrap();
    let mut port = open(&printer);
    printer.set_faults(Faults {
        paper_out: true,
        ..Faults::default()
    });
    let bytes = ticket_bytes(
        &TicketText::of(&print_job("1023")),
        ticket::Paper::Mm58,
        &Fonts::load(),
        PrinterText::Raster,
    );
    match port.print(&bytes) {
        Err(PrinterError::NotReady { status }) => {
            assert_eq!(status.paper, Paper::Out);
            assert!(!status.online);
        }
        other => panic!("expected not ready, got {other:?}"),
    }
    assert!(
        printer
            .printed
            .recv_timeout(Duration::from_millis(200))
            .is_err(),
        "nothing printed"
    );
    printer.set_faults(Faults {
        cover_open: true,
        ..Faults::default()
    });
    assert!(port.status().unwrap().cover_open);
    printer.set_faults(Faults::default());
    assert!(port.status().unwrap().ready());
    port.print(&bytes).unwrap();
    next(&printer);
}

#[test]
fn a_printer_that_never_answers_gives_a_clear_timeout_and_the_port_stays_usable() {
    let printer = VirtualPrinter::start(None, 384).unwrap();
    let mut port = open(&printer);
    printer.set_faults(Faults {
        silent: true,
        ..Faults::default()
    });
    let error = port.status().unwrap_err();
    assert!(matches!(error, PrinterError::NoAnswer { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("did not answer") && message.contains(&printer.path),
        "{message}"
    );
    printer.set_faults(Faults::default());
    assert!(port.status().unwrap().ready(), "answers again once back");
}

/// The text lines of `job` printed on 80 mm paper in TCVN-3 text mode.
fn tcvn3_lines(job: &qms_core::protocol::PrintJob) -> Vec<String> {
    let printer = VirtualPrinter::start(None, 576).unwrap();
    let mut port = open(&printer);
    let bytes = ticket_bytes(
        &TicketText::of(job),
        ticket::Paper::Mm80,
        &Fonts::load(),
        PrinterText::Tcvn3,
    );
    port.print(&bytes).unwrap();
    texts(&next(&printer))
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The defect: a procedure name typed with combining marks (NFD) printed as
/// `Ða?ng ky? cu? tru?` in TCVN-3 mode; the configuration is now read as NFC.
#[test]
fn tcvn3_mode_garbles_names_stored_decomposed() {
    let decomposed = "Đa\u{306}ng ky\u{301} cu\u{31b} tru\u{301}";
    let toml = qms_core::config::DEFAULT_CONFIG.replacen(
        "name_vi = \"Đăng ký cư trú\"",
        &format!("name_vi = \"{decomposed}\""),
        1,
    );
    assert_ne!(
        toml,
        qms_core::config::DEFAULT_CONFIG,
        "the name was replaced"
    );
    let config = qms_core::SiteConfig::parse(&toml).unwrap();
    let procedure = config.procedure("cu-tru").unwrap();
    assert_eq!(procedure.name_vi, "Đăng ký cư trú");
    let mut job = print_job("2001");
    job.procedure_vi = procedure.name_vi.clone();
    let lines = tcvn3_lines(&job);
    assert!(lines.iter().any(|l| l == "Đăng ký cư trú"), "{lines:?}");
}

/// The defect: a priority ticket looked like any other; a citizen who read the kiosk in
/// English got only the Vietnamese name.
#[test]
fn priority_is_invisible_on_paper_and_the_english_name_is_printed_for_english_readers() {
    let mut job = print_job("1005");
    job.ticket.priority = Some(qms_core::protocol::PriorityReason::Elderly);
    job.english = true;
    let texts = tcvn3_lines(&job).join("\n");
    assert!(texts.contains("1005\nƯu tiên: người cao tuổi\nCấp, đổi, cấp lại thẻ Căn cước\nCitizen ID card: issue, renew, replace\n"), "{texts}");
    // Without either, neither line.
    let plain = TicketText::of(&print_job("1006"));
    assert_eq!((plain.priority, plain.procedure_en), (None, None));
}
