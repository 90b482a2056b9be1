//! A device speaking the protocol: sends commands and waits for the authority's reply,
//! sending the same command id again after a timeout or a reconnect.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{bail, Context};
use qms_bus::{Bus, BusEvent, BusOptions};
use qms_core::protocol::{Command, CommandEnvelope, Reply};
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

/// How long a command waits for its reply before it is sent again, same id: as long as
/// on the screens.
const ATTEMPT: Duration =
    Duration::from_secs(qms_core::outstanding::RESEND_AFTER.whole_seconds() as u64);

/// A message on an extra subscription, with when it arrived.
pub struct Message {
    pub at: Instant,
    pub topic: String,
    pub payload: Vec<u8>,
}

pub struct DeviceClient {
    bus: Bus,
    events: mpsc::Receiver<BusEvent>,
    /// Messages on extra subscriptions received while waiting for a reply.
    messages: VecDeque<Message>,
    keep_messages: bool,
    attempt: Duration,
}

impl DeviceClient {
    /// Connects as `device` and waits until subscribed (to its replies and `extra`).
    pub async fn connect(
        mut options: BusOptions,
        extra: &[String],
        within: Duration,
    ) -> anyhow::Result<DeviceClient> {
        let topics = qms_bus::Topics::new(&options.site);
        options.subscriptions.push(topics.reply(&options.device));
        options.subscriptions.extend(extra.iter().cloned());
        let address = options.address.clone();
        let (bus, events) = Bus::connect(options)?;
        let mut client = DeviceClient {
            bus,
            events,
            messages: VecDeque::new(),
            keep_messages: !extra.is_empty(),
            attempt: ATTEMPT,
        };
        let deadline = Instant::now() + within;
        let mut last_error = String::from("no answer");
        loop {
            match timeout_at(deadline, client.events.recv()).await {
                Ok(Some(BusEvent::Connected)) => return Ok(client),
                Ok(Some(BusEvent::Disconnected { reason, .. })) => last_error = reason,
                // Retained messages of the first subscriptions come before the last one
                // is acknowledged.
                Ok(Some(BusEvent::Message { topic, payload })) if client.keep_messages => {
                    client.keep(topic, payload)
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => bail!("cannot reach the broker at {address}: {last_error}"),
            }
        }
    }

    /// Keeps a message of an extra subscription for [`DeviceClient::next_message`].
    fn keep(&mut self, topic: String, payload: Vec<u8>) {
        self.messages.push_back(Message {
            at: Instant::now(),
            topic,
            payload,
        });
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// How long one attempt waits for its reply before the command is sent again.
    pub fn set_attempt_timeout(&mut self, attempt: Duration) {
        self.attempt = attempt;
    }

    /// Waits for the next (re)connection, keeping messages that arrive meanwhile.
    pub async fn connected(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(BusEvent::Connected)) => return true,
                Ok(Some(BusEvent::Message { topic, payload })) => self.keep(topic, payload),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return false,
            }
        }
    }

    /// Sends a command with a fresh id and waits for its reply.
    pub async fn send(&mut self, command: Command, within: Duration) -> anyhow::Result<Reply> {
        let id = uuid::Uuid::new_v4().to_string();
        self.send_with_id(&id, command, within).await
    }

    /// Sends a command and waits for the reply with its id, sending it again (same id,
    /// so the authority answers once) after each attempt's timeout or a reconnect.
    pub async fn send_with_id(
        &mut self,
        id: &str,
        command: Command,
        within: Duration,
    ) -> anyhow::Result<Reply> {
        let payload = serde_json::to_vec(&CommandEnvelope::new(id, command))?;
        self.send_raw(Some(id), &payload, within).await
    }

    /// Sends a payload as it is and waits for the reply with `id`: only the reply to this
    /// command, never another's and never a refusal of someone's garbage. `None` (for a
    /// payload sent without a readable id) waits for a refusal without an id.
    pub async fn send_raw(
        &mut self,
        id: Option<&str>,
        payload: &[u8],
        within: Duration,
    ) -> anyhow::Result<Reply> {
        let deadline = Instant::now() + within;
        let topic = self.bus.topics().command(self.bus.device());
        let reply_topic = self.bus.topics().reply(self.bus.device());
        loop {
            self.bus.publish(&topic, payload.to_vec(), false, None);
            let attempt_end = (Instant::now() + self.attempt).min(deadline);
            loop {
                let event = match timeout_at(attempt_end, self.events.recv()).await {
                    Ok(Some(event)) => event,
                    Ok(None) => bail!("the connection task ended"),
                    Err(_) if Instant::now() >= deadline => {
                        bail!(
                            "no reply from the queue authority within {} s",
                            within.as_secs_f32()
                        )
                    }
                    Err(_) => break,
                };
                match event {
                    BusEvent::Message { topic, payload } if topic == reply_topic => {
                        let reply: Reply = serde_json::from_slice(&payload)
                            .with_context(|| format!("unreadable reply on {topic}"))?;
                        if reply.id.as_deref() == id {
                            return Ok(reply);
                        }
                    }
                    BusEvent::Message { topic, payload } if self.keep_messages => {
                        self.keep(topic, payload)
                    }
                    // A new connection: send again at once.
                    BusEvent::Connected => break,
                    _ => {}
                }
            }
        }
    }

    /// The next message on an extra subscription, within `within`.
    pub async fn next_message(&mut self, within: Duration) -> Option<Message> {
        if let Some(message) = self.messages.pop_front() {
            return Some(message);
        }
        let deadline = Instant::now() + within;
        loop {
            match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(BusEvent::Message { topic, payload })) => {
                    return Some(Message {
                        at: Instant::now(),
                        topic,
                        payload,
                    })
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    }

    pub async fn close(self) {
        self.bus.close().await;
    }
}
