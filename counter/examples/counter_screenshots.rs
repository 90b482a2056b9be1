//! Renders the counter console and the rating screen headless, with the sample office's
//! queue answering: `cargo run -p qms-counter --example counter_screenshots -- docs/counter`.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use qms_core::protocol::{CommandEnvelope, Event, EventKind, VERSION};
use qms_core::sample;
use qms_counter::{Console, ConsoleApi, ConsoleInput, RatingInput, RatingScreen};
use slint::ComponentHandle;
use time::Duration;

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/counter".into()),
    );
    std::fs::create_dir_all(&out).expect("the output folder can be made");
    qms_headless::init(true, true);
    let mut office = sample::morning(None);
    let desk = Desk::open(&office, 2);
    let console = desk.console.clone();
    console.handle(ConsoleInput::Status {
        device: "printer-1".into(),
        payload: br#"{"v":1,"online":true,"ready":false,"paper":"near_end","faults":["cover_open"],"detail":"cover open"}"#.to_vec(),
    });
    let answer_all = |office: &mut sample::Sample| desk.answer_all(office);
    console.handle(ConsoleInput::Board(office.board.clone()));
    answer_all(&mut office);
    let api = console.window().global::<ConsoleApi>();
    // A citizen who did not come, then the next one served for a few minutes.
    api.invoke_call_next();
    answer_all(&mut office);
    api.invoke_no_show();
    answer_all(&mut office);
    api.invoke_call_next();
    answer_all(&mut office);
    office.now += Duration::seconds(200);
    console.tick(office.now);
    let save = |window: &slint::Window, w: u32, h: u32, name: &str| {
        let path = out.join(name);
        qms_headless::save_png(window, w, h, &path).expect("the screenshot is written");
        println!("{}", path.display());
    };
    save(console.window().window(), 960, 640, "console.png");
    api.invoke_open_transfer();
    save(console.window().window(), 960, 640, "console-transfer.png");
    api.invoke_close_transfer();
    // A ticket id is the business day and the label.
    let served = format!("20261126-{}", api.get_serving_label());
    api.invoke_complete();
    answer_all(&mut office);
    save(console.window().window(), 960, 640, "console-completed.png");
    // A busy morning: the waiting list longer than the window.
    let kiosk = qms_core::Actor::of(&office.config, "kiosk-1").expect("kiosk-1");
    for _ in 0..20 {
        let issue = qms_core::protocol::Command::issue("cccd", None);
        let _ = office
            .state
            .execute(&office.config, &kiosk, &issue, office.now);
    }
    office.board = office.state.board(&office.config, office.now);
    console.handle(ConsoleInput::Board(office.board.clone()));
    answer_all(&mut office);
    save(console.window().window(), 960, 640, "console-full.png");

    let rating = RatingScreen::new(office.config.clone(), 2, office.now, |_| {}).unwrap();
    save(rating.window().window(), 1024, 600, "rating-idle.png");
    rating.handle(RatingInput::Event(Event {
        v: VERSION,
        seq: office.state.seq(),
        at: office.now,
        kind: EventKind::Completed {
            ticket: served,
            counter: 2,
            service_seconds: 200,
            officer: None,
            dossier: None,
        },
    }));
    save(rating.window().window(), 1024, 600, "rating-ask.png");
    rating
        .window()
        .global::<qms_counter::RatingApi>()
        .invoke_rate(qms_counter::Mood::VerySatisfied);
    save(rating.window().window(), 1024, 600, "rating-thanks.png");

    // Where officers sign in: counter 3's console before and after the PIN.
    let mut config = (*office.config).clone();
    config.officers = qms_core::history::office().officers;
    office.config = std::sync::Arc::new(config);
    office.board = office.state.board(&office.config, office.now);
    let desk = Desk::open(&office, 3);
    let console = desk.console.clone();
    let answer_all = |office: &mut sample::Sample| desk.answer_all(office);
    console.handle(ConsoleInput::Board(office.board.clone()));
    answer_all(&mut office);
    save(console.window().window(), 960, 640, "console-sign-in.png");
    let api = console.window().global::<ConsoleApi>();
    api.invoke_sign_in("cb-chi".into(), "2468".into());
    answer_all(&mut office);
    api.invoke_call_next();
    answer_all(&mut office);
    api.set_dossier("000.00.14.H29-261126-0042".into());
    save(console.window().window(), 960, 640, "console-dossier.png");
}

/// A counter's console at the sample office, and what it sent.
struct Desk {
    console: Rc<Console>,
    counter: u16,
    sent: Rc<RefCell<Vec<CommandEnvelope>>>,
}

impl Desk {
    /// Counter `counter`'s console, connected, the authority online.
    fn open(office: &sample::Sample, counter: u16) -> Desk {
        let sent = Rc::new(RefCell::new(Vec::<CommandEnvelope>::new()));
        let log = sent.clone();
        let console = Console::new(office.config.clone(), counter, office.now, move |c| {
            log.borrow_mut().push(c)
        })
        .unwrap();
        console.handle(ConsoleInput::Connected(true));
        console.handle(ConsoleInput::Status {
            device: "queue".into(),
            payload: br#"{"v":1,"online":true}"#.to_vec(),
        });
        Desk {
            console,
            counter,
            sent,
        }
    }

    /// The sample's queue answers everything sent so far, and the board moves.
    fn answer_all(&self, office: &mut sample::Sample) {
        let device = format!("counter-{}", self.counter);
        loop {
            let batch = std::mem::take(&mut *self.sent.borrow_mut());
            if batch.is_empty() {
                return;
            }
            for envelope in batch {
                let reply = office.answer(&device, &envelope);
                self.console.handle(ConsoleInput::Reply(Box::new(reply)));
                self.console
                    .handle(ConsoleInput::Board(office.board.clone()));
            }
        }
    }
}
