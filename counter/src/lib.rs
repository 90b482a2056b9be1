//! The counter: the officer's console (`qms counter 3`) and the satisfaction rating
//! screen facing the citizen (`qms rating --counter 3`).
//!
//! # Layout
//! - `ui/*.slint`: the two windows; `ConsoleApi` and `RatingApi` are their only
//!   contracts with Rust.
//! - `qms_core::console` and `qms_core::rating`: what they show and send, without the
//!   toolkit (the web pages use the same).
//! - [`Console`], [`RatingScreen`]: the windows bound to their models; [`start_console`]
//!   and [`start_rating`] connect them to the broker on a thread of their own.
//!
//! Both talk only through protocol v1: the authority's reply is the truth, and nothing
//! here decides anything about the queue.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use qms_bus::{BusEvent, BusOptions, Topics};
use qms_core::config::SiteConfig;
use qms_core::protocol::{Board, CommandEnvelope, Event, Rating, Reply};
use qms_window::{connect, parse, BusWindow, ShownList};
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};
use time::OffsetDateTime;
use tracing::info;

use qms_core::console::{Action, ConsoleModel, ServingRow, TicketRow, TransferChoices};
use qms_core::rating::{self, RatingModel};

slint::include_modules!();

/// What reaches the console from the bus.
#[derive(Debug)]
pub enum ConsoleInput {
    Connected(bool),
    Board(Board),
    Status {
        device: String,
        payload: Vec<u8>,
    },
    /// The queue's staff alerts, retained on `…/alerts`.
    Alerts(Vec<u8>),
    Reply(Box<Reply>),
}

/// The lists on the console's screen.
#[derive(Default)]
struct Shown {
    waiting: ShownList<WaitingRow>,
    absent: ShownList<WaitingRow>,
    alerts: ShownList<SharedString>,
    unprinted: ShownList<UnprintedRow>,
}

/// The console window bound to its model.
pub struct Console {
    window: ConsoleWindow,
    model: RefCell<ConsoleModel>,
    send: Box<dyn Fn(CommandEnvelope)>,
    /// The lists on screen, set again only when they change.
    shown: Shown,
    timer: slint::Timer,
}

impl Console {
    /// Builds the window of counter `counter`; `send` gets every command to publish.
    pub fn new(
        config: Arc<SiteConfig>,
        counter: u16,
        now: OffsetDateTime,
        send: impl Fn(CommandEnvelope) + 'static,
    ) -> Result<Rc<Console>, slint::PlatformError> {
        let shown = Shown::default();
        let window = ConsoleWindow::new()?;
        let api = window.global::<ConsoleApi>();
        api.set_waiting(shown.waiting.model());
        api.set_absent(shown.absent.model());
        api.set_alerts(shown.alerts.model());
        api.set_unprinted(shown.unprinted.model());
        let console = Rc::new(Console {
            window,
            model: RefCell::new(ConsoleModel::new(config, counter, now)),
            send: Box::new(send),
            shown,
            timer: slint::Timer::default(),
        });
        console.bind();
        console.render();
        Ok(console)
    }

    pub fn window(&self) -> &ConsoleWindow {
        &self.window
    }

    pub fn handle(&self, input: ConsoleInput) {
        let command = {
            let mut model = self.model.borrow_mut();
            match input {
                ConsoleInput::Connected(connected) => model.connected(connected),
                ConsoleInput::Board(board) => model.board(&board),
                ConsoleInput::Status { device, payload } => {
                    model.device_status(&device, &payload);
                    None
                }
                ConsoleInput::Alerts(payload) => {
                    model.queue_alerts(&payload);
                    None
                }
                ConsoleInput::Reply(reply) => model.reply(*reply),
            }
        };
        if let Some(command) = command {
            (self.send)(command);
        }
        self.render();
    }

    pub fn tick(&self, now: OffsetDateTime) {
        let resend = self.model.borrow_mut().tick(now);
        for command in resend {
            (self.send)(command);
        }
        self.render();
    }

    fn bind(self: &Rc<Self>) {
        let api = self.window.global::<ConsoleApi>();
        let weak = Rc::downgrade(self);
        let act = move |f: &dyn Fn(&mut ConsoleModel) -> Option<CommandEnvelope>| {
            if let Some(console) = weak.upgrade() {
                let command = f(&mut console.model.borrow_mut());
                if let Some(command) = command {
                    (console.send)(command);
                }
                console.render();
            }
        };
        let on = |action: fn() -> Action| {
            let act = act.clone();
            move || act(&|m| m.act(action()))
        };
        api.on_recall(on(|| Action::Recall));
        api.on_no_show(on(|| Action::NoShow));
        api.on_sign_out(on(|| Action::SignOut));
        // The dossier code typed goes with the action that ends the service; the field
        // clears once it is sent.
        let a = act.clone();
        let weak_window = self.window.as_weak();
        let with_dossier = move |finish: fn(Option<String>) -> Action| {
            let (a, weak_window) = (a.clone(), weak_window.clone());
            move || {
                let Some(window) = weak_window.upgrade() else {
                    return;
                };
                let api = window.global::<ConsoleApi>();
                let dossier = Some(api.get_dossier().to_string());
                a(&|m| m.act(finish(dossier.clone())));
                if api.get_busy() {
                    api.set_dossier("".into());
                }
            }
        };
        api.on_call_next(with_dossier(|dossier| Action::CallNext { dossier }));
        api.on_complete(with_dossier(|dossier| Action::Complete { dossier }));
        let a = act.clone();
        api.on_sign_in(move |officer, pin| {
            a(&|m| {
                m.act(Action::SignIn {
                    officer: officer.to_string(),
                    pin: pin.to_string(),
                })
            })
        });
        api.on_pause_or_resume(on(|| Action::PauseOrResume));
        api.on_open_transfer(on(|| Action::OpenTransfer));
        api.on_close_transfer(on(|| Action::CloseTransfer));
        let a = act.clone();
        api.on_transfer_to_procedure(move |procedure| {
            a(&|m| {
                m.act(Action::TransferToProcedure {
                    procedure: procedure.to_string(),
                })
            })
        });
        let a = act.clone();
        api.on_transfer_to_counter(move |number| {
            let Ok(counter) = number.parse() else { return };
            a(&|m| m.act(Action::TransferToCounter { counter }))
        });
        let a = act.clone();
        api.on_call_ticket(move |ticket| {
            a(&|m| {
                m.act(Action::Call {
                    ticket: ticket.to_string(),
                })
            })
        });
        let a = act.clone();
        api.on_reactivate(move |ticket| {
            a(&|m| {
                m.act(Action::Reactivate {
                    ticket: ticket.to_string(),
                })
            })
        });
        api.on_reprint(move |printer, ticket| {
            act(&|m| {
                m.act(Action::Reprint {
                    printer: printer.to_string(),
                    ticket: ticket.to_string(),
                })
            })
        });
    }

    fn render(&self) {
        let screen = self.model.borrow().screen();
        let api = self.window.global::<ConsoleApi>();
        api.set_counter_name(screen.counter_name.into());
        api.set_procedures(screen.procedures.into());
        api.set_clock(screen.clock.into());
        api.set_online(screen.online);
        api.set_paused(screen.paused);
        api.set_busy(screen.busy);
        api.set_officer(screen.officer.unwrap_or_default().into());
        api.set_sign_in_needed(screen.sign_in);
        if api.get_officers().row_count() != screen.officers.len() {
            let officers: Vec<Choice> = screen
                .officers
                .into_iter()
                .map(|(id, name)| Choice {
                    id: id.into(),
                    name: name.into(),
                })
                .collect();
            api.set_officers(ModelRc::new(VecModel::from(officers)));
        }
        let serving = screen.serving.unwrap_or(ServingRow {
            label: String::new(),
            procedure: String::new(),
            served_for: String::new(),
            priority: String::new(),
        });
        api.set_serving_label(serving.label.into());
        api.set_serving_procedure(serving.procedure.into());
        api.set_serving_for(serving.served_for.into());
        api.set_serving_priority(serving.priority.into());
        let row = |t: TicketRow| WaitingRow {
            id: t.id.into(),
            label: t.label.into(),
            procedure: t.procedure.into(),
            waited: t.waited.into(),
            priority: t.priority.into(),
        };
        let shown = &self.shown;
        shown
            .waiting
            .show(screen.waiting.into_iter().map(row).collect());
        shown
            .absent
            .show(screen.absent.into_iter().map(row).collect());
        shown.unprinted.show(
            screen
                .unprinted
                .into_iter()
                .map(|u| UnprintedRow {
                    printer: u.printer.into(),
                    ticket: u.ticket.into(),
                    label: u.label.into(),
                })
                .collect(),
        );
        shown
            .alerts
            .show(screen.alerts.into_iter().map(Into::into).collect());
        let result = screen.result;
        api.set_result_is_error(result.as_ref().is_some_and(|r| r.error));
        api.set_result(result.map_or(String::new(), |r| r.text).into());
        if screen.transfer.is_some() != api.get_transfer_open() {
            let choices = |items: Vec<(String, String)>| {
                let items: Vec<Choice> = items
                    .into_iter()
                    .map(|(id, name)| Choice {
                        id: id.into(),
                        name: name.into(),
                    })
                    .collect();
                ModelRc::new(VecModel::from(items))
            };
            let open = screen.transfer.is_some();
            let transfer = screen.transfer.unwrap_or(TransferChoices {
                procedures: Vec::new(),
                counters: Vec::new(),
            });
            api.set_transfer_procedures(choices(transfer.procedures));
            let counters = transfer
                .counters
                .into_iter()
                .map(|(n, name)| (n.to_string(), name))
                .collect();
            api.set_transfer_counters(choices(counters));
            api.set_transfer_open(open);
        }
    }
}

/// Opens counter `counter`'s console as device `options.device` and connects it; the
/// caller runs the event loop.
pub fn start_console(
    config: Arc<SiteConfig>,
    counter: u16,
    mut options: BusOptions,
) -> Result<Rc<Console>, slint::PlatformError> {
    let device = options.device.clone();
    let topics = Topics::new(&config.site.id);
    options.subscriptions.push(topics.board());
    options.subscriptions.push(topics.reply(&device));
    options.subscriptions.push(topics.all_statuses());
    options.subscriptions.push(topics.alerts());
    let reply_topic = topics.reply(&device);
    let map = move |event| match event {
        BusEvent::Connected => Some(ConsoleInput::Connected(true)),
        BusEvent::Disconnected { .. } => Some(ConsoleInput::Connected(false)),
        BusEvent::Message { topic, payload } => {
            if topic == topics.board() {
                parse(&topic, &payload).map(ConsoleInput::Board)
            } else if topic == reply_topic {
                parse(&topic, &payload).map(|reply| ConsoleInput::Reply(Box::new(reply)))
            } else if topic == topics.alerts() {
                Some(ConsoleInput::Alerts(payload))
            } else {
                let device = topics.device_of(&topic, "status")?.to_string();
                Some(ConsoleInput::Status { device, payload })
            }
        }
        BusEvent::Acked(_) | BusEvent::Delivery { .. } => None,
    };
    let console = connect(
        "console-mqtt",
        options,
        Duration::from_millis(250),
        map,
        |send| Console::new(config, counter, OffsetDateTime::now_utc(), send),
    )?;
    info!(%device, counter, "counter console started");
    Ok(console)
}

/// Runs counter `counter`'s console until its window is closed.
pub fn run_console(
    config: Arc<SiteConfig>,
    counter: u16,
    options: BusOptions,
) -> Result<(), slint::PlatformError> {
    start_console(config, counter, options)?.window().run()
}

/// What reaches the rating screen from the bus.
#[derive(Debug)]
pub enum RatingInput {
    Event(Event),
    Reply(Reply),
}

/// The rating window bound to its model.
pub struct RatingScreen {
    window: RatingWindow,
    model: RefCell<RatingModel>,
    send: Box<dyn Fn(CommandEnvelope)>,
    timer: slint::Timer,
}

impl RatingScreen {
    pub fn new(
        config: Arc<SiteConfig>,
        counter: u16,
        now: OffsetDateTime,
        send: impl Fn(CommandEnvelope) + 'static,
    ) -> Result<Rc<RatingScreen>, slint::PlatformError> {
        let screen = Rc::new(RatingScreen {
            window: RatingWindow::new()?,
            model: RefCell::new(RatingModel::new(counter, now)),
            send: Box::new(send),
            timer: slint::Timer::default(),
        });
        let api = screen.window.global::<RatingApi>();
        api.set_office_name(config.site.name.clone().into());
        api.set_counter_name(config.counter_name(counter).into());
        let weak = Rc::downgrade(&screen);
        api.on_rate(move |mood| {
            let Some(screen) = weak.upgrade() else { return };
            let rating = match mood {
                Mood::VerySatisfied => Rating::VerySatisfied,
                Mood::Satisfied => Rating::Satisfied,
                Mood::Unsatisfied => Rating::Unsatisfied,
            };
            let command = screen.model.borrow_mut().tap(rating);
            if let Some(command) = command {
                (screen.send)(command);
            }
            screen.render();
        });
        screen.render();
        Ok(screen)
    }

    pub fn window(&self) -> &RatingWindow {
        &self.window
    }

    pub fn handle(&self, input: RatingInput) {
        match input {
            RatingInput::Event(event) => self.model.borrow_mut().event(&event.kind),
            RatingInput::Reply(reply) => self.model.borrow_mut().reply(&reply),
        }
        self.render();
    }

    pub fn tick(&self, now: OffsetDateTime) {
        let resend = self.model.borrow_mut().tick(now);
        if let Some(command) = resend {
            (self.send)(command);
        }
        self.render();
    }

    fn render(&self) {
        let model = self.model.borrow();
        let api = self.window.global::<RatingApi>();
        api.set_screen(match model.screen {
            rating::Screen::Idle => RatingPage::Idle,
            rating::Screen::Ask => RatingPage::Ask,
            rating::Screen::Thanks => RatingPage::Thanks,
        });
        api.set_ticket_label(model.label().unwrap_or_default().into());
    }
}

/// Opens the rating screen of counter `counter` as device `options.device`.
pub fn start_rating(
    config: Arc<SiteConfig>,
    counter: u16,
    mut options: BusOptions,
) -> Result<Rc<RatingScreen>, slint::PlatformError> {
    let device = options.device.clone();
    let topics = Topics::new(&config.site.id);
    options.subscriptions.push(topics.events());
    options.subscriptions.push(topics.reply(&device));
    let events_topic = topics.events();
    let map = move |event| match event {
        BusEvent::Message { topic, payload } if topic == events_topic => {
            parse(&topic, &payload).map(RatingInput::Event)
        }
        BusEvent::Message { topic, payload } => parse(&topic, &payload).map(RatingInput::Reply),
        _ => None,
    };
    let screen = connect(
        "rating-mqtt",
        options,
        Duration::from_millis(250),
        map,
        |send| RatingScreen::new(config, counter, OffsetDateTime::now_utc(), send),
    )?;
    info!(%device, counter, "rating screen started");
    Ok(screen)
}

/// Runs the rating screen of counter `counter` until its window is closed.
pub fn run_rating(
    config: Arc<SiteConfig>,
    counter: u16,
    options: BusOptions,
) -> Result<(), slint::PlatformError> {
    start_rating(config, counter, options)?.window().run()
}

impl BusWindow for Console {
    type Input = ConsoleInput;
    fn handle(&self, input: ConsoleInput) {
        Console::handle(self, input)
    }
    fn tick(&self, now: OffsetDateTime) {
        Console::tick(self, now)
    }
    fn timer(&self) -> &slint::Timer {
        &self.timer
    }
}

impl BusWindow for RatingScreen {
    type Input = RatingInput;
    fn handle(&self, input: RatingInput) {
        RatingScreen::handle(self, input)
    }
    fn tick(&self, now: OffsetDateTime) {
        RatingScreen::tick(self, now)
    }
    fn timer(&self) -> &slint::Timer {
        &self.timer
    }
}
