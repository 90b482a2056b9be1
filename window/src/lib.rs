//! A window of the queue system (kiosk, board, counter console, rating screen) fed from
//! the bus: the MQTT link runs on a thread of its own, and on the UI thread a timer hands
//! the window what arrived and moves its clock. The UI thread never waits on the network.

use std::rc::Rc;
use std::time::Duration;

use qms_bus::{spawn_link, BusEvent, BusOptions, Topics};
use qms_core::protocol::CommandEnvelope;
use time::OffsetDateTime;

/// A window that takes inputs from the bus and moves on with the clock.
pub trait BusWindow: 'static {
    type Input: Send + 'static;
    fn handle(&self, input: Self::Input);
    fn tick(&self, now: OffsetDateTime);
    /// The window's own timer, which hands it its inputs and moves its clock: it stops
    /// when the window goes.
    fn timer(&self) -> &slint::Timer;
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
    screen
        .timer()
        .start(slint::TimerMode::Repeated, period, move || {
            if let Some(screen) = weak.upgrade() {
                while let Ok(input) = from_bus.try_recv() {
                    screen.handle(input);
                }
                screen.tick(OffsetDateTime::now_utc());
            }
        });
    Ok(screen)
}

pub use qms_bus::parse;

/// A list a window shows: one model for the window's life, its rows updated in place.
/// A new model on every update would rebuild every element of its `for` (and, five
/// times a second on the board, stopped the clock repainting under X11).
pub struct ShownList<T: 'static> {
    model: std::rc::Rc<slint::VecModel<T>>,
}

impl<T: 'static> Default for ShownList<T> {
    fn default() -> Self {
        ShownList {
            model: std::rc::Rc::new(slint::VecModel::default()),
        }
    }
}

impl<T: Clone + PartialEq + 'static> ShownList<T> {
    /// The model to hand the window, once.
    pub fn model(&self) -> slint::ModelRc<T> {
        slint::ModelRc::from(self.model.clone())
    }

    /// Shows `items`: only the rows that differ are set, rows are added or removed at the
    /// end.
    pub fn show(&self, items: Vec<T>) {
        use slint::Model;
        let model = &self.model;
        for (row, item) in items.iter().enumerate() {
            if row >= model.row_count() {
                model.push(item.clone());
            } else if model.row_data(row).as_ref() != Some(item) {
                model.set_row_data(row, item.clone());
            }
        }
        while model.row_count() > items.len() {
            model.remove(model.row_count() - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slint::Model;

    #[test]
    fn a_shown_list_keeps_its_model_and_changes_only_what_changed() {
        let list = ShownList::<i32>::default();
        let model = list.model();
        list.show(vec![1, 2, 3]);
        list.show(vec![1, 5]);
        assert_eq!(model.iter().collect::<Vec<_>>(), [1, 5]);
        list.show(vec![1, 5, 7, 9]);
        assert_eq!(model.iter().collect::<Vec<_>>(), [1, 5, 7, 9]);
        assert!(model == list.model(), "the same model throughout");
    }
}
