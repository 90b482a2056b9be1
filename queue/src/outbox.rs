//! The outbox: durable publications waiting for the broker's acknowledgement, in order.
//!
//! A state machine without I/O, in the style of rumqttc's `state.rs`: the service asks
//! [`Outbox::sendable`] what may go out now, reports what it handed over, what the broker
//! acknowledged and when the connection was lost; the outbox answers which stored entries
//! can be forgotten. An entry that can never be sent (larger than a packet may be, or lost
//! with the connection again and again as the oldest unacknowledged one) is set aside, so
//! it never blocks the ones behind it.

use std::collections::BTreeMap;

use qms_bus::packet_size;

use crate::store::Publication;

/// Publications handed to the broker before acknowledgements are awaited.
pub const WINDOW: usize = 256;

/// Connections lost in a row with the same oldest entry unacknowledged, after which that
/// entry is taken to be what breaks them.
pub const STUCK_CONNECTIONS: u32 = 3;

/// Why an entry was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetAside {
    /// Larger than one packet may be.
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// The connection was lost this many times in a row while it was the oldest one
    /// unacknowledged.
    BreaksTheConnection {
        /// How many times.
        times: u32,
    },
}

#[derive(Debug)]
/// The publications not yet acknowledged by the broker, in the order of their keys; without
/// I/O (the service does the sockets).
pub struct Outbox {
    pending: BTreeMap<u64, Publication>,
    /// Keys below this were handed to the current connection.
    cursor: u64,
    in_flight: usize,
    next_key: u64,
    /// The newest board snapshot not yet handed over; an older one is dropped, not sent.
    unsent_board: Option<u64>,
    max_packet: usize,
    /// The oldest entry unacknowledged when connections were lost, and how many in a row.
    stuck: Option<(u64, u32)>,
    /// Entries set aside since the service last asked, to forget in the store and report.
    set_aside: Vec<(u64, Publication, SetAside)>,
    set_aside_total: u64,
}

impl Outbox {
    /// The outbox of entries loaded from the store, for packets up to `max_packet` bytes.
    pub fn new(stored: Vec<(u64, Publication)>, max_packet: usize) -> Outbox {
        let next_key = stored.last().map_or(0, |(k, _)| k + 1);
        Outbox {
            pending: stored.into_iter().collect(),
            cursor: 0,
            in_flight: 0,
            next_key,
            unsent_board: None,
            max_packet,
            stuck: None,
            set_aside: Vec::new(),
            set_aside_total: 0,
        }
    }

    /// The largest payload one packet may carry.
    pub fn max_packet(&self) -> usize {
        self.max_packet
    }

    /// A key for a new entry.
    pub fn next_key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key - 1
    }

    /// Publications waiting.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Entries set aside since this process started.
    pub fn set_aside_total(&self) -> u64 {
        self.set_aside_total
    }

    /// Adds publications that are now durable; returns the keys of board snapshots they
    /// supersede before those were handed over.
    pub fn extend(&mut self, durable: Vec<(u64, Publication)>) -> Vec<u64> {
        let mut superseded = Vec::new();
        for (key, publication) in durable {
            if is_board(&publication) {
                if let Some(old) = self.unsent_board.replace(key) {
                    if self.pending.remove(&old).is_some() {
                        superseded.push(old);
                    }
                }
            }
            self.pending.insert(key, publication);
        }
        superseded
    }

    /// The next entry that may be handed over now, if any: in order, within the window.
    /// One too large to send is set aside on the way.
    pub fn sendable(&mut self) -> Option<(u64, &Publication)> {
        if self.in_flight >= WINDOW {
            return None;
        }
        loop {
            let (&key, publication) = self.pending.range(self.cursor..).next()?;
            let bytes = packet_size(&publication.topic, &publication.payload);
            if bytes <= self.max_packet {
                break;
            }
            self.put_aside(key, SetAside::TooLarge { bytes });
        }
        let (&key, publication) = self.pending.range(self.cursor..).next()?;
        Some((key, publication))
    }

    /// The entry `key` (the one [`Outbox::sendable`] gave) went to the connection.
    pub fn handed_over(&mut self, key: u64) {
        self.in_flight += 1;
        self.cursor = key + 1;
        if self.unsent_board == Some(key) {
            self.unsent_board = None;
        }
    }

    /// The broker has it; true if it was still pending (and so is to be forgotten).
    pub fn acked(&mut self, key: u64) -> bool {
        if self.pending.remove(&key).is_some() {
            self.in_flight = self.in_flight.saturating_sub(1);
            if self.stuck.is_some_and(|(stuck, _)| stuck == key) {
                self.stuck = None;
            }
            true
        } else {
            false
        }
    }

    /// A new connection: everything not acknowledged goes out again, in order.
    pub fn connected(&mut self) {
        self.rewind();
    }

    /// The connection was lost. When it was lost again and again with the same oldest
    /// entry handed over and unacknowledged, that entry is set aside.
    pub fn connection_lost(&mut self) {
        let oldest_handed_over = self
            .pending
            .keys()
            .next()
            .copied()
            .filter(|&key| self.in_flight > 0 && key < self.cursor);
        if let Some(key) = oldest_handed_over {
            let times = match self.stuck {
                Some((stuck, times)) if stuck == key => times + 1,
                _ => 1,
            };
            self.stuck = Some((key, times));
            if times >= STUCK_CONNECTIONS {
                self.put_aside(key, SetAside::BreaksTheConnection { times });
                self.stuck = None;
            }
        }
        self.rewind();
    }

    /// Entries set aside since the last call, to forget in the store and to report.
    pub fn take_set_aside(&mut self) -> Vec<(u64, Publication, SetAside)> {
        std::mem::take(&mut self.set_aside)
    }

    fn put_aside(&mut self, key: u64, why: SetAside) {
        if let Some(publication) = self.pending.remove(&key) {
            if self.unsent_board == Some(key) {
                self.unsent_board = None;
            }
            self.set_aside_total += 1;
            self.set_aside.push((key, publication, why));
        }
    }

    fn rewind(&mut self) {
        self.cursor = 0;
        self.in_flight = 0;
    }
}

fn is_board(publication: &Publication) -> bool {
    publication.retain && publication.topic.ends_with("/board")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publication(topic: &str, bytes: usize) -> Publication {
        Publication {
            topic: topic.into(),
            payload: vec![b'x'; bytes],
            retain: topic.ends_with("/board"),
        }
    }

    fn outbox_of(topics: &[&str]) -> Outbox {
        let stored = topics
            .iter()
            .enumerate()
            .map(|(k, t)| (k as u64, publication(t, 10)))
            .collect();
        Outbox::new(stored, 1024)
    }

    /// Hands over everything it may, as the service's pump does; returns the keys.
    fn pump(outbox: &mut Outbox) -> Vec<u64> {
        let mut sent = Vec::new();
        while let Some((key, _)) = outbox.sendable() {
            outbox.handed_over(key);
            sent.push(key);
        }
        sent
    }

    #[test]
    fn after_a_reconnect_everything_unacknowledged_goes_out_again_in_order() {
        let mut outbox = outbox_of(&["a/events", "a/reply", "a/events", "a/job"]);
        assert_eq!(pump(&mut outbox), [0, 1, 2, 3]);
        assert!(outbox.acked(1));
        assert!(!outbox.acked(1), "an entry is acknowledged once");
        outbox.connection_lost();
        outbox.connected();
        assert_eq!(pump(&mut outbox), [0, 2, 3]);
    }

    #[test]
    fn no_more_than_the_window_is_in_flight() {
        let topics = vec!["a/events"; WINDOW + 5];
        let mut outbox = outbox_of(&topics);
        assert_eq!(pump(&mut outbox).len(), WINDOW);
        assert!(outbox.acked(0));
        assert_eq!(pump(&mut outbox), [WINDOW as u64]);
    }

    #[test]
    fn a_board_not_yet_handed_over_is_superseded_by_a_newer_one() {
        let mut outbox = Outbox::new(Vec::new(), 1024);
        let first = outbox.next_key();
        assert!(outbox
            .extend(vec![(first, publication("a/board", 5))])
            .is_empty());
        let second = outbox.next_key();
        let superseded = outbox.extend(vec![(second, publication("a/board", 6))]);
        assert_eq!(superseded, [first]);
        assert_eq!(pump(&mut outbox), [second]);
    }

    #[test]
    fn a_board_already_handed_over_is_not_superseded() {
        let mut outbox = Outbox::new(Vec::new(), 1024);
        let first = outbox.next_key();
        outbox.extend(vec![(first, publication("a/board", 5))]);
        assert_eq!(pump(&mut outbox), [first]);
        let second = outbox.next_key();
        assert!(outbox
            .extend(vec![(second, publication("a/board", 6))])
            .is_empty());
        outbox.connection_lost();
        outbox.connected();
        assert_eq!(pump(&mut outbox), [first, second]);
    }

    #[test]
    fn regression_an_entry_too_large_to_send_is_set_aside_and_the_rest_go_out() {
        let stored = vec![
            (0, publication("a/reply", 10)),
            (1, publication("a/reply", 2000)),
            (2, publication("a/events", 10)),
        ];
        let mut outbox = Outbox::new(stored, 1024);
        assert_eq!(pump(&mut outbox), [0, 2]);
        let aside = outbox.take_set_aside();
        assert_eq!(aside.len(), 1);
        assert_eq!(aside[0].0, 1);
        assert_eq!(
            aside[0].2,
            SetAside::TooLarge {
                bytes: 2000 + 7 + 9
            }
        );
        assert_eq!(outbox.set_aside_total(), 1);
        assert!(outbox.take_set_aside().is_empty(), "reported once");
    }

    #[test]
    fn regression_an_entry_that_breaks_every_connection_is_set_aside_after_three() {
        let mut outbox = outbox_of(&["a/reply", "a/events"]);
        for round in 1..STUCK_CONNECTIONS {
            assert_eq!(pump(&mut outbox), [0, 1], "round {round}");
            outbox.connection_lost();
            assert!(outbox.take_set_aside().is_empty(), "round {round}");
            outbox.connected();
        }
        assert_eq!(pump(&mut outbox), [0, 1]);
        outbox.connection_lost();
        let aside = outbox.take_set_aside();
        assert_eq!(
            aside
                .iter()
                .map(|(k, _, why)| (*k, *why))
                .collect::<Vec<_>>(),
            [(
                0,
                SetAside::BreaksTheConnection {
                    times: STUCK_CONNECTIONS
                }
            )]
        );
        outbox.connected();
        assert_eq!(pump(&mut outbox), [1]);
    }

    #[test]
    fn connections_lost_with_nothing_handed_over_set_nothing_aside() {
        let mut outbox = outbox_of(&["a/reply"]);
        for _ in 0..10 {
            outbox.connection_lost();
        }
        assert!(outbox.take_set_aside().is_empty());
        assert_eq!(pump(&mut outbox), [0]);
    }

    #[test]
    fn an_acknowledged_entry_ends_the_count_of_lost_connections() {
        let mut outbox = outbox_of(&["a/reply", "a/events", "a/job"]);
        for _ in 0..STUCK_CONNECTIONS - 1 {
            pump(&mut outbox);
            outbox.connection_lost();
            outbox.connected();
        }
        pump(&mut outbox);
        assert!(outbox.acked(0));
        outbox.connection_lost();
        assert!(outbox.take_set_aside().is_empty());
    }
}
