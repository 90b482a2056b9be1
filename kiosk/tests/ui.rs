//! The kiosk driven as a citizen drives it: through the accessible labels of the real
//! window (Slint testing backend), with the commands it sends captured.

use std::cell::RefCell;
use std::rc::Rc;

use qms_core::protocol::{Command, CommandEnvelope, Reply};
use qms_core::sample;
use qms_headless::ElementHandle;
use qms_kiosk::model::Printer;
use qms_kiosk::{Input, Kiosk};
use slint::ComponentHandle;
use time::Duration;

/// A kiosk with the sample morning, and the commands it sent.
fn kiosk(
    quota: Option<u32>,
    printer: Printer,
) -> (Rc<Kiosk>, Rc<RefCell<Vec<CommandEnvelope>>>, sample::Sample) {
    qms_headless::init(false, true);
    let s = sample::morning(quota);
    let sent = Rc::new(RefCell::new(Vec::new()));
    let log = sent.clone();
    let kiosk = Kiosk::new(s.config.clone(), "kiosk-1", s.now, move |c| {
        log.borrow_mut().push(c)
    })
    .unwrap();
    kiosk.handle(Input::Online(true));
    kiosk.handle(Input::Printer(printer));
    kiosk.handle(Input::Board(s.board.clone()));
    (kiosk, sent, s)
}

fn find(kiosk: &Kiosk, label: &str) -> Vec<ElementHandle> {
    qms_headless::find(kiosk.window(), label)
}

fn tap(kiosk: &Kiosk, label: &str) {
    qms_headless::tap(kiosk.window(), label)
}

fn shown_number(kiosk: &Kiosk) -> Option<String> {
    qms_headless::value(kiosk.window(), "Số thứ tự của ông/bà")
}

fn answer(kiosk: &Kiosk, sent: &CommandEnvelope, s: &sample::Sample) -> Reply {
    let mut reply = s.reply.clone();
    reply.id = Some(sent.id.clone());
    kiosk.handle(Input::Reply(Box::new(reply.clone())));
    reply
}

#[test]
fn tapping_a_procedure_sends_issue_and_shows_the_number_from_the_reply() {
    let (kiosk, sent, s) = kiosk(None, Printer::ready());
    tap(&kiosk, "Cấp, đổi, cấp lại thẻ Căn cước");
    assert_eq!(sent.borrow().len(), 1);
    let command = sent.borrow()[0].clone();
    assert_eq!(command.command, Command::issue("cccd", None));
    assert_eq!(shown_number(&kiosk), None, "no number before the reply");
    let reply = answer(&kiosk, &command, &s);
    let label = reply.ticket.unwrap().label;
    assert_eq!(shown_number(&kiosk), Some(label));
    assert!(!find(&kiosk, "Vui lòng nhận phiếu ở khe bên dưới và chờ gọi số.").is_empty());
    // The ticket screen replaced the procedure buttons: no second ticket by accident.
    assert!(find(&kiosk, "Đăng ký cư trú").is_empty());
    tap(&kiosk, "Xong");
    assert!(!find(&kiosk, "Đăng ký cư trú").is_empty());
    assert_eq!(sent.borrow().len(), 1);
}

#[test]
fn a_priority_ticket_is_asked_for_in_three_taps() {
    let (kiosk, sent, _) = kiosk(None, Printer::ready());
    tap(
        &kiosk,
        "Ưu tiên: người cao tuổi, người khuyết tật, phụ nữ mang thai, người có con nhỏ, người có công",
    );
    tap(&kiosk, "Phụ nữ mang thai");
    tap(&kiosk, "Đăng ký cư trú");
    let command = sent.borrow()[0].command.clone();
    assert_eq!(
        command,
        Command::issue("cu-tru", Some(qms_core::protocol::PriorityReason::Pregnant))
    );
}

#[test]
fn a_procedure_out_of_tickets_says_so_and_sends_nothing() {
    let (kiosk, sent, _) = kiosk(Some(7), Printer::ready());
    let button = find(&kiosk, "Cấp, đổi, cấp lại thẻ Căn cước");
    assert_eq!(
        button[0].accessible_description().as_deref(),
        Some("Hết số hôm nay")
    );
    button[0].invoke_accessible_default_action();
    assert!(
        sent.borrow().is_empty(),
        "no command for a procedure out of tickets"
    );
    assert_eq!(shown_number(&kiosk), None);
}

#[test]
fn with_the_printer_out_of_paper_the_number_is_shown_to_note_down() {
    let (kiosk, sent, s) = kiosk(None, Printer::not_ready());
    tap(&kiosk, "Xác nhận thông tin về cư trú");
    let command = sent.borrow()[0].clone();
    answer(&kiosk, &command, &s);
    assert!(shown_number(&kiosk).is_some(), "the number is on screen");
    assert!(!find(
        &kiosk,
        "Máy in đang gặp sự cố. Vui lòng ghi nhớ số trên màn hình; cán bộ sẽ hỗ trợ ông/bà."
    )
    .is_empty());
    assert!(find(&kiosk, "Vui lòng nhận phiếu ở khe bên dưới và chờ gọi số.").is_empty());
}

#[test]
fn with_the_authority_down_the_citizen_is_told_and_nothing_is_issued() {
    let (kiosk, sent, s) = kiosk(None, Printer::ready());
    kiosk.handle(Input::Online(false));
    tap(&kiosk, "Xử phạt vi phạm hành chính");
    kiosk.tick(s.now + Duration::seconds(2));
    kiosk.tick(s.now + Duration::seconds(8));
    let ids: Vec<String> = sent.borrow().iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 2, "sent, then sent again");
    assert_eq!(ids[0], ids[1], "the same command id");
    assert!(!find(&kiosk, "Chưa lấy được số thứ tự").is_empty());
    assert_eq!(shown_number(&kiosk), None, "no number was promised");
    // Trying again sends the same id once more.
    tap(&kiosk, "Thử lại");
    assert_eq!(sent.borrow().last().unwrap().id, ids[0]);
}

#[test]
fn one_tap_switches_to_english() {
    let (kiosk, _, _) = kiosk(None, Printer::ready());
    assert!(find(&kiosk, "Touch the procedure you need to get a ticket").is_empty());
    tap(&kiosk, "English");
    assert!(!find(&kiosk, "Touch the procedure you need to get a ticket").is_empty());
    assert!(!find(&kiosk, "Citizen ID card: issue, renew, replace").is_empty());
    tap(&kiosk, "Tiếng Việt");
    assert!(!find(&kiosk, "Chạm vào thủ tục ông/bà cần làm để lấy số thứ tự").is_empty());
}

/// The defect: a priority ticket's screen looked like any other and counted the normal
/// tickets it goes before.
#[test]
fn priority_is_invisible_on_the_ticket_screen() {
    let (kiosk, sent, mut s) = kiosk(None, Printer::ready());
    tap(
        &kiosk,
        "Ưu tiên: người cao tuổi, người khuyết tật, phụ nữ mang thai, người có con nhỏ, người có công",
    );
    tap(&kiosk, "Người cao tuổi");
    tap(&kiosk, "Cấp, đổi, cấp lại thẻ Căn cước");
    let command = sent.borrow()[0].clone();
    let reply = s.answer("kiosk-1", &command);
    assert_eq!(reply.ahead, Some(0), "called next: {reply:?}");
    kiosk.handle(Input::Reply(Box::new(reply)));
    assert!(!find(&kiosk, "Ưu tiên: người cao tuổi").is_empty());
    assert!(!find(&kiosk, "Ông/bà là người tiếp theo").is_empty());
}

/// The defect: nobody learnt that a ticket may not have come out of the printer.
#[test]
fn a_ticket_the_printer_is_unsure_of_can_be_printed_again_with_one_press() {
    let (kiosk, sent, s) = kiosk(None, Printer::ready());
    tap(&kiosk, "Cấp, đổi, cấp lại thẻ Căn cước");
    let command = sent.borrow()[0].clone();
    let ticket = answer(&kiosk, &command, &s).ticket.unwrap();
    assert!(
        find(&kiosk, "In lại phiếu").is_empty(),
        "printed: no reprint offered"
    );
    kiosk.handle(Input::Printer(Printer {
        ready: true,
        unsure: vec![ticket.id.clone()],
    }));
    assert!(!find(
        &kiosk,
        "Phiếu có thể chưa in ra. Nếu chưa nhận được phiếu, ông/bà bấm \"In lại phiếu\"."
    )
    .is_empty());
    tap(&kiosk, "In lại phiếu");
    let reprint = sent.borrow().last().unwrap().clone();
    assert_eq!(
        reprint.command,
        Command::Reprint {
            ticket: ticket.id.clone(),
            printer: None
        }
    );
    // The reply shows the ticket again; once printed the offer goes away.
    answer(&kiosk, &reprint, &s);
    assert_eq!(shown_number(&kiosk), Some(ticket.label));
    kiosk.handle(Input::Printer(Printer::ready()));
    assert!(find(&kiosk, "In lại phiếu").is_empty());
}

/// The defect: the kiosk stayed in English for the next citizen, and the ticket of a
/// citizen who read it in English had no English on it.
#[test]
fn the_kiosk_stays_in_english_for_the_next_citizen() {
    let (kiosk, sent, s) = kiosk(None, Printer::ready());
    tap(&kiosk, "English");
    tap(&kiosk, "Citizen ID card: issue, renew, replace");
    let command = sent.borrow()[0].clone();
    assert!(
        matches!(command.command, Command::Issue { english: true, .. }),
        "{command:?}"
    );
    answer(&kiosk, &command, &s);
    tap(&kiosk, "Done");
    assert!(!find(&kiosk, "Chạm vào thủ tục ông/bà cần làm để lấy số thứ tự").is_empty());
}

/// The defect: the kiosk called the citizen "bạn"; a police desk says "ông/bà".
#[test]
fn honorifics_the_kiosk_never_says_ban() {
    let sources = [
        include_str!("../ui/kiosk.slint"),
        include_str!("../lang/en/LC_MESSAGES/qms-kiosk.po"),
    ];
    for source in sources {
        for word in source.split(|c: char| !c.is_alphabetic()) {
            assert!(
                !word.eq_ignore_ascii_case("bạn") && word != "Bạn" && word != "BẠN",
                "\"{word}\" in the kiosk's words"
            );
        }
    }
}

/// The defect: the header split "Công an phường Sài / Gòn" across lines in portrait.
#[test]
fn the_kiosk_header_keeps_the_office_name_on_one_line() {
    let (kiosk, _, _) = kiosk(None, Printer::ready());
    kiosk
        .window()
        .window()
        .set_size(slint::LogicalSize::new(1080.0, 1920.0));
    let name = find(&kiosk, "Công an phường Sài Gòn");
    assert!(!name.is_empty());
    let height = name[0].size().height;
    assert!(
        height < 60.0,
        "the name takes {height} px: more than one line"
    );
}

/// With `[web] public_url` the reply carries the ticket's page: its QR is on the ticket
/// screen for the citizen's phone; without it, no QR.
#[test]
fn the_ticket_screen_shows_the_qr_of_the_citizens_page_when_there_is_one() {
    let (kiosk, sent, mut s) = kiosk(None, Printer::ready());
    tap(&kiosk, "Cấp, đổi, cấp lại thẻ Căn cước");
    let command = sent.borrow()[0].clone();
    s.reply.follow_url = Some("http://192.168.1.10:8080/t/Zq3k9Xw2mLp8Rt5Vb1Nc0A".into());
    answer(&kiosk, &command, &s);
    assert!(shown_number(&kiosk).is_some());
    assert_eq!(find(&kiosk, "Mã QR theo dõi lượt gọi").len(), 1);
    tap(&kiosk, "Xong");

    tap(&kiosk, "Cấp, đổi, cấp lại thẻ Căn cước");
    let command = sent.borrow()[1].clone();
    s.reply.follow_url = None;
    answer(&kiosk, &command, &s);
    assert!(shown_number(&kiosk).is_some());
    assert!(find(&kiosk, "Mã QR theo dõi lượt gọi").is_empty());
}
