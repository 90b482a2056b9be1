//! A plain MQTT client that knows nothing of this project's code: firmware, a laptop on
//! the office Wi-Fi, an intruder. Received messages come out as JSON.

use std::net::SocketAddr;
use std::time::Duration;

use rumqttc::{AsyncClient, ConnectionError, Event, LastWill, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::WAIT;

pub struct PlainClient {
    pub client: AsyncClient,
    received: mpsc::UnboundedReceiver<(String, Value)>,
    acks: mpsc::UnboundedReceiver<Packet>,
    task: tokio::task::JoinHandle<()>,
}

/// How a plain client connects.
#[derive(Default)]
pub struct PlainOptions<'a> {
    pub credentials: Option<(&'a str, &'a str)>,
    /// (topic, payload) published by the broker, retained, if the client vanishes.
    pub last_will: Option<(String, &'a str)>,
}

impl PlainClient {
    /// Connects as `client_id`; the broker's refusal is the error.
    pub async fn connect(
        addr: SocketAddr,
        client_id: &str,
        how: PlainOptions<'_>,
    ) -> Result<PlainClient, ConnectionError> {
        let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(true);
        if let Some((user, password)) = how.credentials {
            options.set_credentials(user, password);
        }
        if let Some((topic, payload)) = how.last_will {
            options.set_last_will(LastWill::new(topic, payload, QoS::AtLeastOnce, true));
        }
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        // The first poll connects: its error is the broker's answer.
        loop {
            match timeout(WAIT, eventloop.poll())
                .await
                .expect("the broker answers")
            {
                Ok(Event::Incoming(Packet::ConnAck(_))) => break,
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        let (tx, received) = mpsc::unbounded_channel();
        let (ack_tx, acks) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let payload = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        let _ = tx.send((p.topic, payload));
                    }
                    Ok(Event::Incoming(ack @ (Packet::SubAck(_) | Packet::PubAck(_)))) => {
                        let _ = ack_tx.send(ack);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Ok(PlainClient {
            client,
            received,
            acks,
            task,
        })
    }

    /// Subscribes and waits for the broker's answer; true when it granted the filter.
    pub async fn subscribe(&mut self, topic: &str) -> bool {
        self.client
            .subscribe(topic, QoS::AtLeastOnce)
            .await
            .unwrap();
        loop {
            match timeout(WAIT, self.acks.recv()).await.expect("a SUBACK") {
                Some(Packet::SubAck(ack)) => {
                    return ack
                        .return_codes
                        .iter()
                        .all(|c| !matches!(c, rumqttc::SubscribeReasonCode::Failure))
                }
                Some(_) => {}
                None => panic!("the connection task ended"),
            }
        }
    }

    /// Publishes at QoS 1 and waits for the broker's PUBACK (which a broker also sends
    /// for a publication its ACL drops).
    pub async fn publish(&mut self, topic: &str, payload: &Value, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.to_string())
            .await
            .unwrap();
        loop {
            match timeout(WAIT, self.acks.recv()).await.expect("a PUBACK") {
                Some(Packet::PubAck(_)) => return,
                Some(_) => {}
                None => panic!("the connection task ended"),
            }
        }
    }

    /// The next message on any subscription.
    pub async fn next_any(&mut self) -> (String, Value) {
        timeout(WAIT, self.received.recv())
            .await
            .expect("a message arrives")
            .expect("connected")
    }

    /// The next message on `topic` that `accept` takes.
    pub async fn next(&mut self, topic: &str, accept: impl Fn(&Value) -> bool) -> Value {
        loop {
            let (t, payload) = self.next_any().await;
            if t == topic && accept(&payload) {
                return payload;
            }
        }
    }

    /// Goes away without saying goodbye, as a device that loses power.
    pub fn pull_the_plug(self) {
        self.task.abort();
    }
}
