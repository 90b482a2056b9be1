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
use qms_core::protocol::{Board, CommandEnvelope, PriorityReason, Reply};
use qms_window::{connect, parse, BusWindow, ShownList};
use slint::{ComponentHandle, SharedString};
use time::OffsetDateTime;
use tracing::info;

pub mod model;

use model::{KioskModel, Printer};

slint::include_modules!();

/// What reaches the kiosk from the bus.
#[derive(Debug)]
pub enum Input {
    Online(bool),
    Board(Board),
    Printer(Printer),
    Reply(Box<Reply>),
}

/// The kiosk window bound to its model.
pub struct Kiosk {
    window: KioskWindow,
    model: RefCell<KioskModel>,
    send: Box<dyn Fn(CommandEnvelope)>,
    procedures: ShownList<ProcedureItem>,
    priorities: ShownList<PriorityItem>,
    /// The language the window's own strings are in; switched only when it changes.
    translated: std::cell::Cell<Option<bool>>,
    /// The address the QR on screen holds; drawn again only when it changes.
    qr_for: RefCell<Option<String>>,
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
            procedures: ShownList::default(),
            priorities: ShownList::default(),
            translated: std::cell::Cell::new(None),
            qr_for: RefCell::new(None),
            timer: slint::Timer::default(),
        });
        let api = kiosk.window.global::<Api>();
        api.set_procedures(kiosk.procedures.model());
        api.set_priorities(kiosk.priorities.model());
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
                Input::Reply(reply) => model.reply(*reply),
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
        api.on_choose_priority(move |reason| {
            w(&|k| {
                k.model
                    .borrow_mut()
                    .choose_priority(priority_reason(reason))
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
        if self.translated.replace(Some(english)) != Some(english) {
            // The source strings are Vietnamese; "" selects them.
            let _ = slint::select_bundled_translation(if english { "en" } else { "" });
        }
        self.procedures.show(
            model
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
                        icon: procedure_icon(&p.icon),
                        waiting: p.waiting as i32,
                        wait_minutes: p.wait_minutes.map_or(-1, |m| m as i32),
                        closed,
                        reopens: reopens.into(),
                    }
                })
                .collect(),
        );
        self.priorities.show(
            PriorityReason::ALL
                .into_iter()
                .map(|reason| PriorityItem {
                    reason: slint_priority(reason),
                    name: reason.name(english).into(),
                    icon: priority_icon(reason),
                })
                .collect(),
        );
        api.set_priority_name(
            model
                .priority
                .map_or(SharedString::new(), |r| r.name(english).into()),
        );
        if let Some((ticket, ahead, wait)) = &model.shown {
            api.set_ticket_label(ticket.label.clone().into());
            api.set_ticket_procedure(model.procedure_name(&ticket.procedure).into());
            api.set_ticket_priority(
                ticket
                    .priority
                    .map_or(SharedString::new(), |r| r.mark(english).into()),
            );
            api.set_ticket_ahead(*ahead as i32);
            api.set_ticket_wait_minutes(wait.map_or(-1, |m| m as i32));
        }
        if *self.qr_for.borrow() != model.follow_url {
            api.set_ticket_qr(
                model
                    .follow_url
                    .as_deref()
                    .map_or_else(slint::Image::default, qr_image),
            );
            api.set_ticket_has_qr(model.follow_url.is_some());
            self.qr_for.replace(model.follow_url.clone());
        }
        api.set_failure(model.refusal.clone().unwrap_or_default().into());
    }
}

/// `text` as a QR code: black modules on white with the quiet zone around, one pixel a
/// module (the window scales it up without smoothing).
fn qr_image(text: &str) -> slint::Image {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) else {
        return slint::Image::default();
    };
    let quiet = 4;
    let side = code.width() + 2 * quiet;
    let colors = code.to_colors();
    let mut pixels = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(side as u32, side as u32);
    for (i, pixel) in pixels.make_mut_slice().iter_mut().enumerate() {
        let (x, y) = (i % side, i / side);
        let dark = (quiet..side - quiet).contains(&x)
            && (quiet..side - quiet).contains(&y)
            && colors[(y - quiet) * code.width() + (x - quiet)] == qrcode::Color::Dark;
        let value = if dark { 0 } else { 255 };
        *pixel = slint::Rgb8Pixel::new(value, value, value);
    }
    slint::Image::from_rgb8(pixels)
}

/// The pictogram of a procedure's configured `icon` (one of `config::ICONS`).
fn procedure_icon(icon: &str) -> Icon {
    match icon {
        "card" => Icon::Card,
        "house" => Icon::House,
        "document" => Icon::Document,
        "fine" => Icon::Fine,
        "phone" => Icon::Phone,
        _ => Icon::Info,
    }
}

fn priority_icon(reason: PriorityReason) -> Icon {
    match reason {
        PriorityReason::Elderly => Icon::Elderly,
        PriorityReason::Disabled => Icon::Disabled,
        PriorityReason::Pregnant => Icon::Pregnant,
        PriorityReason::SmallChild => Icon::Child,
        PriorityReason::Merit => Icon::Merit,
    }
}

fn slint_priority(reason: PriorityReason) -> Priority {
    match reason {
        PriorityReason::Elderly => Priority::Elderly,
        PriorityReason::Disabled => Priority::Disabled,
        PriorityReason::Pregnant => Priority::Pregnant,
        PriorityReason::SmallChild => Priority::SmallChild,
        PriorityReason::Merit => Priority::Merit,
    }
}

fn priority_reason(priority: Priority) -> PriorityReason {
    match priority {
        Priority::Elderly => PriorityReason::Elderly,
        Priority::Disabled => PriorityReason::Disabled,
        Priority::Pregnant => PriorityReason::Pregnant,
        Priority::SmallChild => PriorityReason::SmallChild,
        Priority::Merit => PriorityReason::Merit,
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
        parse(topic, payload).map(|reply| Input::Reply(Box::new(reply)))
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
