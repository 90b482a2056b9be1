//! One stop signal for every long-running role of the process: Ctrl-C, SIGTERM, or
//! [`Shutdown::trigger`] (the demo's windows closed, or one of its roles ended). Each
//! role takes [`Shutdown::wait`] and winds down on its own: the authority flushes its
//! store, the printer finishes the ticket on the line and says it is offline.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

/// A clonable handle on the process's one stop signal.
#[derive(Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(Arc::new(watch::Sender::new(false)))
    }
}

impl Shutdown {
    /// Stops every role waiting on this signal, now and later; callable from any thread.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Whether the signal was given.
    pub fn triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the signal is given, or Ctrl-C or SIGTERM arrives (which gives it
    /// to every other waiter too). Needs a tokio runtime with signal handling.
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let this = self.clone();
        let mut given = self.0.subscribe();
        async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM can be handled");
            tokio::select! {
                _ = given.wait_for(|given| *given) => {}
                _ = tokio::signal::ctrl_c() => this.trigger(),
                _ = term.recv() => this.trigger(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_trigger_stops_every_waiter_even_one_that_starts_waiting_later() {
        let shutdown = Shutdown::default();
        let early = tokio::spawn(shutdown.wait());
        tokio::task::yield_now().await;
        assert!(!early.is_finished(), "stopped before the signal");
        assert!(!shutdown.triggered());
        std::thread::spawn({
            let shutdown = shutdown.clone();
            move || shutdown.trigger()
        })
        .join()
        .unwrap();
        tokio::time::timeout(Duration::from_secs(5), early)
            .await
            .expect("the early waiter stops")
            .unwrap();
        assert!(shutdown.triggered());
        tokio::time::timeout(Duration::from_secs(5), shutdown.wait())
            .await
            .expect("a late waiter stops at once");
    }
}
