//! Renders every kiosk screen headless, in both orientations and both languages:
//! `cargo run -p qms-kiosk --example kiosk_screenshots -- docs/kiosk`.

use std::path::{Path, PathBuf};

use qms_core::protocol::{Command, CommandEnvelope, PriorityReason};
use qms_core::sample;
use qms_kiosk::model::Printer;
use qms_kiosk::{Input, Kiosk};
use slint::ComponentHandle;

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/kiosk".into()),
    );
    std::fs::create_dir_all(&out).expect("the output folder can be made");
    qms_headless::init(true, true);
    for (width, height, orientation) in [(1080, 1920, "portrait"), (1920, 1080, "landscape")] {
        for english in [false, true] {
            let language = if english { "en" } else { "vi" };
            let shoot = |kiosk: &Kiosk, screen: &str| {
                let name = format!("{screen}-{orientation}-{language}.png");
                save(kiosk, width, height, &out.join(name));
            };
            let mut s = sample::morning(None);
            let kiosk = Kiosk::new(s.config.clone(), "kiosk-1", s.now, |_| {}).unwrap();
            kiosk.handle(Input::Online(true));
            kiosk.handle(Input::Printer(Printer::ready()));
            kiosk.handle(Input::Board(s.board.clone()));
            // Home is always Vietnamese: the English shots choose English again each time.
            let speak = |kiosk: &Kiosk| {
                if english {
                    kiosk
                        .window()
                        .global::<qms_kiosk::Api>()
                        .invoke_toggle_language();
                }
            };
            speak(&kiosk);
            shoot(&kiosk, "home");
            kiosk
                .window()
                .global::<qms_kiosk::Api>()
                .invoke_open_priority();
            shoot(&kiosk, "priority");
            kiosk
                .window()
                .global::<qms_kiosk::Api>()
                .invoke_choose_priority(qms_kiosk::Priority::Elderly);
            shoot(&kiosk, "home-priority");
            kiosk
                .window()
                .global::<qms_kiosk::Api>()
                .invoke_cancel_priority();
            kiosk
                .window()
                .global::<qms_kiosk::Api>()
                .invoke_choose_procedure("cccd".into());
            shoot(&kiosk, "sending");
            let mut reply = s.reply.clone();
            reply.id = Some(last_id(&kiosk));
            // An office with [web] public_url: the QR of the ticket's page.
            reply.follow_url = Some("http://192.168.1.10:8080/t/Zq3k9Xw2mLp8Rt5Vb1Nc0A".into());
            kiosk.handle(Input::Reply(Box::new(reply.clone())));
            shoot(&kiosk, "ticket");
            kiosk.window().global::<qms_kiosk::Api>().invoke_done();
            speak(&kiosk);
            // A priority ticket, then the printer unsure whether it came out.
            let api = kiosk.window().global::<qms_kiosk::Api>();
            api.invoke_open_priority();
            api.invoke_choose_priority(qms_kiosk::Priority::Elderly);
            api.invoke_choose_procedure("cccd".into());
            let issue = CommandEnvelope::new(
                last_id(&kiosk),
                Command::issue("cccd", Some(PriorityReason::Elderly)),
            );
            let priority = s.answer("kiosk-1", &issue);
            let id = priority.ticket.as_ref().expect("issued").id.clone();
            kiosk.handle(Input::Reply(Box::new(priority)));
            shoot(&kiosk, "ticket-priority");
            kiosk.handle(Input::Printer(Printer {
                ready: true,
                unsure: vec![id],
            }));
            shoot(&kiosk, "ticket-unsure");
            kiosk.handle(Input::Printer(Printer::ready()));
            api.invoke_done();
            speak(&kiosk);
            kiosk.handle(Input::Printer(Printer::not_ready()));
            kiosk
                .window()
                .global::<qms_kiosk::Api>()
                .invoke_choose_procedure("cccd".into());
            reply.id = Some(last_id(&kiosk));
            kiosk.handle(Input::Reply(Box::new(reply)));
            shoot(&kiosk, "ticket-printer-fault");
            kiosk.window().global::<qms_kiosk::Api>().invoke_done();
            speak(&kiosk);
            kiosk
                .window()
                .global::<qms_kiosk::Api>()
                .invoke_choose_procedure("cccd".into());
            kiosk.tick(s.now + time::Duration::seconds(9));
            kiosk.handle(Input::Online(false));
            shoot(&kiosk, "unreachable");
            kiosk.window().global::<qms_kiosk::Api>().invoke_done();
            speak(&kiosk);
            kiosk.handle(Input::Online(true));
            kiosk.tick(s.now + time::Duration::hours(4));
            speak(&kiosk);
            shoot(&kiosk, "home-closed");
            let full = sample::morning(Some(7));
            kiosk.handle(Input::Board(full.board));
            kiosk.tick(s.now);
            shoot(&kiosk, "home-quota");
        }
    }
    println!("screenshots written to {}", out.display());
}

/// The id of the command the kiosk sent last, read back from its pending state.
fn last_id(kiosk: &Kiosk) -> String {
    kiosk.pending_id().expect("a command is on its way")
}

fn save(kiosk: &Kiosk, width: u32, height: u32, path: &Path) {
    qms_headless::save_png(kiosk.window().window(), width, height, path)
        .expect("the screenshot is written");
}
