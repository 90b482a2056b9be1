//! A window of the queue system (kiosk, board, counter console, rating screen) fed from
//! the bus: the MQTT link runs on a thread of its own, and on the UI thread a timer hands
//! the window what arrived and moves its clock. The UI thread never waits on the network.

use std::rc::Rc;
use std::time::Duration;

use qms_bus::{spawn_link, BusEvent, BusOptions, Topics};
use qms_core::protocol::CommandEnvelope;
use time::OffsetDateTime;
use tracing::warn;

/// A window that takes inputs from the bus and moves on with the clock.
pub trait BusWindow: 'static {
    type Input: Send + 'static;
    fn handle(&self, input: Self::Input);
    fn tick(&self, now: OffsetDateTime);
}

/// Publishes a command on the device's command topic.
pub type SendCommand = Box<dyn Fn(CommandEnvelope)>;

/// Connects the window `make` builds to the broker as `options.device`: `map` turns
/// what arrives into its inputs, the commands it sends go to the device's command topic,
/// and every `period` its inputs are handled and its clock moves.
pub fn connect<S: BusWindow>(
    name: &str,
    options: BusOptions,
    period: Duration,
    map: impl FnMut(BusEvent) -> Option<S::Input> + Send + 'static,
    make: impl FnOnce(SendCommand) -> Result<Rc<S>, slint::PlatformError>,
) -> Result<Rc<S>, slint::PlatformError> {
    let command_topic = Topics::new(&options.site).command(&options.device);
    let (from_bus, publisher) = spawn_link(name, options, map);
    let screen = make(Box::new(move |command| {
        let payload = serde_json::to_vec(&command).expect("commands serialize");
        publisher.publish(command_topic.clone(), payload);
    }))?;
    let weak = Rc::downgrade(&screen);
    let timer = slint::Timer::default();
    timer.start(slint::TimerMode::Repeated, period, move || {
        if let Some(screen) = weak.upgrade() {
            while let Ok(input) = from_bus.try_recv() {
                screen.handle(input);
            }
            screen.tick(OffsetDateTime::now_utc());
        }
    });
    // The timer lives as long as the window.
    std::mem::forget(timer);
    Ok(screen)
}

/// A JSON payload; an unreadable one is logged and dropped.
pub fn parse<T: serde::de::DeserializeOwned>(topic: &str, payload: &[u8]) -> Option<T> {
    serde_json::from_slice(payload)
        .inspect_err(|e| warn!(topic, cause = %e, "unreadable message ignored"))
        .ok()
}

/// A list a window shows, handed to it again only when it changed: a new model rebuilds
/// every element of its `for`, which a clock ticking several times a second would do
/// for nothing, and which the renderer must then draw again.
pub struct ShownList<T>(std::cell::RefCell<Option<Vec<T>>>);

impl<T> Default for ShownList<T> {
    fn default() -> Self {
        ShownList(std::cell::RefCell::new(None))
    }
}

impl<T: Clone + PartialEq + 'static> ShownList<T> {
    /// Calls `set` with `items` as a model unless they are what is shown already.
    pub fn show(&self, items: Vec<T>, set: impl FnOnce(slint::ModelRc<T>)) {
        let mut shown = self.0.borrow_mut();
        if shown.as_ref() != Some(&items) {
            set(slint::ModelRc::new(slint::VecModel::from(items.clone())));
            *shown = Some(items);
        }
    }
}
