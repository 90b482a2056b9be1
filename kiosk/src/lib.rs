//! The citizen's touchscreen kiosk: one tap on a procedure gives a numbered ticket.
//!
//! # Layout
//! - `ui/kiosk.slint`: the screens; `Api` is the only contract with Rust.
//! - [`model`]: what the kiosk shows and sends, without the toolkit (testable alone).
//! - [`Kiosk`]: the window bound to the model; taps go to the model, the model's
//!   `issue` commands go to a sender.
//! - [`run`]: the kiosk as a device: MQTT on its own thread, the UI on this one.
//!
//! The authority's reply is the truth: a number is shown only when a reply carried it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use qms_bus::{BusEvent, BusOptions, Topics};
use qms_core::calendar::{day_month_year, hour_minute, weekday_vi};
use qms_core::config::SiteConfig;
use qms_core::protocol::{Board, CommandEnvelope, Reply};
use qms_window::{connect, parse, BusWindow};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use time::OffsetDateTime;
use tracing::info;

pub mod model;

use model::{priority_words, KioskModel, Printer, PRIORITY_REASONS};

slint::include_modules!();

/// What reaches the kiosk from the bus.
#[derive(Debug)]
pub enum Input {
    Online(bool),
    Board(Board),
    Printer(Printer),
    Reply(Reply),
}

/// The kiosk window bound to its model.
pub struct Kiosk {
    window: KioskWindow,
    model: RefCell<KioskModel>,
    send: Box<dyn Fn(CommandEnvelope)>,
    /// The language and procedure buttons on screen: the clock ticks every 100 ms, and
    /// setting them again would redraw every button and re-translate every string.
    shown: RefCell<Option<(bool, Vec<ProcedureItem>)>>,
    timer: slint::Timer,
}

impl Kiosk {
    /// Builds the window; `send` gets every `issue` command to publish.
    pub fn new(
        config: Arc<SiteConfig>,
        device: &str,
        now: OffsetDateTime,
        send: impl Fn(CommandEnvelope) + 'static,
    ) -> Result<Rc<Kiosk>, slint::PlatformError> {
        let window = KioskWindow::new()?;
        let kiosk = Rc::new(Kiosk {
            window,
            model: RefCell::new(KioskModel::new(config, device, now)),
            send: Box::new(send),
            shown: RefCell::new(None),
            timer: slint::Timer::default(),
        });
        kiosk.bind();
        kiosk.render();
        Ok(kiosk)
    }

    pub fn window(&self) -> &KioskWindow {
        &self.window
    }

    /// The id of the `issue` command waiting for its reply, if any.
    pub fn pending_id(&self) -> Option<String> {
        self.model.borrow().pending_id()
    }

    pub fn handle(&self, input: Input) {
        {
            let mut model = self.model.borrow_mut();
            match input {
                Input::Online(online) => model.online = online,
                Input::Board(board) => model.board(board),
                Input::Printer(printer) => model.printer = printer,
                Input::Reply(reply) => model.reply(reply),
            }
        }
        self.render();
    }

    /// The clock moved: resend, give up or go home as the model says.
    pub fn tick(&self, now: OffsetDateTime) {
        let resend = self.model.borrow_mut().tick(now);
        if let Some(command) = resend {
            (self.send)(command);
        }
        self.render();
    }

    fn send_if(&self, command: Option<CommandEnvelope>) {
        if let Some(command) = command {
            (self.send)(command);
        }
    }

    fn bind(self: &Rc<Self>) {
        let api = self.window.global::<Api>();
        let weak = Rc::downgrade(self);
        let with = move |f: &dyn Fn(&Kiosk)| {
            if let Some(kiosk) = weak.upgrade() {
                f(&kiosk);
                kiosk.render();
            }
        };
        let w = with.clone();
        api.on_choose_procedure(move |id| {
            w(&|k| {
                let command = k.model.borrow_mut().choose_procedure(&id);
                k.send_if(command);
            })
        });
        let w = with.clone();
        api.on_retry(move || {
            w(&|k| {
                let command = k.model.borrow_mut().retry();
                k.send_if(command);
            })
        });
        let w = with.clone();
        api.on_done(move || w(&|k| k.model.borrow_mut().go_home()));
        let w = with.clone();
        api.on_open_priority(move || w(&|k| k.model.borrow_mut().open_priority()));
        let w = with.clone();
        api.on_choose_priority(move |id| {
            w(&|k| {
                let reason = PRIORITY_REASONS
                    .into_iter()
                    .find(|r| serde_json::to_value(r).is_ok_and(|v| v == id.as_str()));
                if let Some(reason) = reason {
                    k.model.borrow_mut().choose_priority(reason);
                }
            })
        });
        let w = with.clone();
        api.on_cancel_priority(move || w(&|k| k.model.borrow_mut().cancel_priority()));
        let w = with.clone();
        api.on_toggle_language(move || w(&|k| k.model.borrow_mut().toggle_language()));
        api.on_reprint(move || {
            with(&|k| {
                let command = k.model.borrow_mut().reprint();
                k.send_if(command);
            })
        });
    }

    /// Shows the model.
    fn render(&self) {
        let model = self.model.borrow();
        let api = self.window.global::<Api>();
        let english = model.english;
        let config = model.config();
        let site = &config.site;
        api.set_office_name(if english && !site.name_en.is_empty() {
            site.name_en.clone().into()
        } else {
            site.name.clone().into()
        });
        let local = model.now().to_offset(site.utc_offset);
        api.set_clock(hour_minute(local, site.utc_offset).into());
        api.set_date(date_words(local, english).into());
        api.set_english(english);
        api.set_online(model.online);
        api.set_printer_ok(model.printer.ready);
        api.set_ticket_unsure(model.shown_unsure());
        api.set_screen(match model.screen {
            model::Screen::Home => Screen::Home,
            model::Screen::Priority => Screen::Priority,
            model::Screen::Sending => Screen::Sending,
            model::Screen::Ticket => Screen::Ticket,
            model::Screen::Failed => Screen::Failed,
        });
        let procedures: Vec<ProcedureItem> = model
            .procedures()
            .into_iter()
            .map(|p| {
                let (closed, reopens) = match p.closed {
                    model::Closed::Open => (Closed::Open, String::new()),
                    model::Closed::Quota => (Closed::Quota, String::new()),
                    model::Closed::Hours(at) => (Closed::Hours, at.unwrap_or_default()),
                    model::Closed::Disabled => (Closed::Disabled, String::new()),
                };
                ProcedureItem {
                    id: p.id.into(),
                    name: p.name.into(),
                    subtitle: p.subtitle.into(),
                    icon: p.icon.into(),
                    waiting: p.waiting as i32,
                    wait_minutes: p.wait_minutes.map_or(-1, |m| m as i32),
                    closed,
                    reopens: reopens.into(),
                }
            })
            .collect();
        let mut shown = self.shown.borrow_mut();
        let language_changed = shown.as_ref().is_none_or(|(e, _)| *e != english);
        if language_changed {
            // The source strings are Vietnamese; "" selects them.
            let _ = slint::select_bundled_translation(if english { "en" } else { "" });
        }
        if language_changed || shown.as_ref().is_some_and(|(_, p)| *p != procedures) {
            api.set_procedures(ModelRc::new(VecModel::from(procedures.clone())));
            *shown = Some((english, procedures));
        }
        drop(shown);
        if language_changed {
            let priorities: Vec<PriorityItem> = PRIORITY_REASONS
                .into_iter()
                .map(|r| {
                    let (name, icon) = priority_words(r, english);
                    let id = serde_json::to_value(r).expect("reasons serialize");
                    PriorityItem {
                        id: id.as_str().unwrap_or_default().into(),
                        name: name.into(),
                        icon: icon.into(),
                    }
                })
                .collect();
            api.set_priorities(ModelRc::new(VecModel::from(priorities)));
        }
        api.set_priority_name(
            model
                .priority
                .map_or(SharedString::new(), |r| priority_words(r, english).0.into()),
        );
        if let Some((ticket, ahead, wait)) = &model.shown {
            api.set_ticket_label(ticket.label.clone().into());
            api.set_ticket_procedure(model.procedure_name(&ticket.service).into());
            api.set_ticket_priority(
                ticket
                    .priority
                    .map_or(SharedString::new(), |r| r.mark(english).into()),
            );
            api.set_ticket_ahead(*ahead as i32);
            api.set_ticket_wait_minutes(wait.map_or(-1, |m| m as i32));
        }
        api.set_failure(model.refusal.clone().unwrap_or_default().into());
    }
}

/// "Thứ Năm, 26/11/2026" or "Thursday, 26/11/2026".
fn date_words(local: OffsetDateTime, english: bool) -> String {
    let day = if english {
        // time's English names: "Thursday".
        local.weekday().to_string()
    } else {
        weekday_vi(local.weekday()).to_string()
    };
    format!("{day}, {}", day_month_year(local.date()))
}

/// Runs the kiosk as device `options.device` until its window is closed: MQTT on a
/// thread of its own, the window on this thread.
pub fn run(config: Arc<SiteConfig>, options: BusOptions) -> Result<(), slint::PlatformError> {
    let kiosk = start(config, options)?;
    kiosk.window().run()
}

/// Opens the kiosk window and connects it; the caller runs the event loop.
pub fn start(
    config: Arc<SiteConfig>,
    mut options: BusOptions,
) -> Result<Rc<Kiosk>, slint::PlatformError> {
    let device = options.device.clone();
    let topics = Topics::new(&config.site.id);
    options.subscriptions.push(topics.board());
    options.subscriptions.push(topics.reply(&device));
    let printer = config.device(&device).and_then(|d| d.printer.clone());
    if let Some(printer) = &printer {
        options.subscriptions.push(topics.status(printer));
    }
    let bus_device = device.clone();
    let map = move |event| match event {
        BusEvent::Connected => Some(Input::Online(true)),
        BusEvent::Disconnected { .. } => Some(Input::Online(false)),
        BusEvent::Message { topic, payload } => bus_input(&topics, &bus_device, &topic, &payload),
        BusEvent::Acked(_) | BusEvent::Delivery { .. } => None,
    };
    let kiosk = connect(
        "kiosk-mqtt",
        options,
        Duration::from_millis(100),
        map,
        |send| Kiosk::new(config, &device, OffsetDateTime::now_utc(), send),
    )?;
    info!(%device, "kiosk started");
    Ok(kiosk)
}

fn bus_input(topics: &Topics, device: &str, topic: &str, payload: &[u8]) -> Option<Input> {
    if topic == topics.board() {
        parse(topic, payload).map(Input::Board)
    } else if topic == topics.reply(device) {
        parse(topic, payload).map(Input::Reply)
    } else if topic.ends_with("/status") {
        Some(Input::Printer(Printer::from_status(payload)))
    } else {
        None
    }
}

impl BusWindow for Kiosk {
    type Input = Input;
    fn handle(&self, input: Input) {
        Kiosk::handle(self, input)
    }
    fn tick(&self, now: OffsetDateTime) {
        Kiosk::tick(self, now)
    }
    fn timer(&self) -> &slint::Timer {
        &self.timer
    }
}
