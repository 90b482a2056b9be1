//! A connection on a thread of its own, for a UI thread that must never wait on the
//! network: what arrives is mapped and queued for the UI to take when it likes; what the
//! UI publishes is handed over without blocking.

use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;
use tracing::warn;

use crate::{Bus, BusEvent, BusOptions};

/// Hands publications to the link's thread; cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    outgoing: mpsc::UnboundedSender<(String, Vec<u8>)>,
}

impl Publisher {
    /// Publishes at QoS 1 if connected; while disconnected it is dropped, and the UI's
    /// own retry (same command id) sends it again.
    pub fn publish(&self, topic: String, payload: Vec<u8>) {
        let _ = self.outgoing.send((topic, payload));
    }
}

/// Starts the connection on a thread named `name`; `map` turns each event into what the
/// UI wants (or nothing).
pub fn spawn_link<T: Send + 'static>(
    name: &str,
    options: BusOptions,
    mut map: impl FnMut(BusEvent) -> Option<T> + Send + 'static,
) -> (std_mpsc::Receiver<T>, Publisher) {
    let (to_ui, from_bus) = std_mpsc::channel();
    let (outgoing, mut from_ui) = mpsc::unbounded_channel::<(String, Vec<u8>)>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime can be built");
            runtime.block_on(async move {
                let (bus, mut events) = match Bus::connect(options) {
                    Ok(connected) => connected,
                    Err(e) => {
                        warn!(cause = %e, "cannot use the broker address");
                        return;
                    }
                };
                // A UI that only listens drops its publisher at once.
                let mut publishing = true;
                loop {
                    tokio::select! {
                        event = events.recv() => {
                            let Some(event) = event else { return };
                            if let Some(input) = map(event) {
                                if to_ui.send(input).is_err() {
                                    return;
                                }
                            }
                        }
                        publication = from_ui.recv(), if publishing => match publication {
                            Some((topic, payload)) => {
                                bus.publish(&topic, payload, false, None);
                            }
                            None => publishing = false,
                        },
                    }
                }
            });
        })
        .expect("a thread can be spawned");
    (from_bus, Publisher { outgoing })
}
