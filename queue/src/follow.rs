//! The tokens of the citizens' pages: a ticket's token is an HMAC of its id under the
//! authority's own secret (kept in its store), so it cannot be guessed from the ticket's
//! number or id, and it stays the same across restarts for the ticket's whole day.

use std::collections::HashMap;

use base64::Engine;
use qms_core::protocol::Followed;
use qms_core::{QueueState, SiteConfig};
use ring::hmac;

/// The length of a token: 128 bits, URL-safe base64.
pub const TOKEN_LEN: usize = 22;

/// The secret, and today's tokens found so far.
pub struct FollowTokens {
    key: hmac::Key,
    /// token → ticket id.
    index: HashMap<String, String>,
}

impl FollowTokens {
    /// Tokens under `secret`.
    pub fn new(secret: &[u8]) -> FollowTokens {
        FollowTokens {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            index: HashMap::new(),
        }
    }

    /// Ticket `id`'s token.
    pub fn token_of(&self, id: &str) -> String {
        let tag = hmac::sign(&self.key, id.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }

    /// The address of ticket `id`'s page under `public_url`.
    pub fn url_of(&self, public_url: &str, id: &str) -> String {
        format!("{public_url}/t/{}", self.token_of(id))
    }

    /// The tickets behind `tokens`, each with its place in line; unknown tokens are left
    /// out. The index is made again only when a token is missing and the day has
    /// tickets it has not seen, so guessing costs no more than a lookup.
    pub fn follow(
        &mut self,
        state: &QueueState,
        config: &SiteConfig,
        tokens: &[String],
    ) -> Vec<Followed> {
        let missing = tokens.iter().any(|t| !self.index.contains_key(t));
        if missing && self.index.len() != state.ticket_ids().count() {
            self.index = state
                .ticket_ids()
                .map(|id| (self.token_of(id), id.to_string()))
                .collect();
        }
        tokens
            .iter()
            .filter_map(|token| {
                let id = self.index.get(token)?;
                state.followed(config, token.clone(), id)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use qms_core::protocol::{Command, ErrorCode, TicketState, MAX_FOLLOWED};
    use qms_core::Actor;

    #[test]
    fn a_followed_ticket_comes_with_its_place_in_line_and_a_guess_with_nothing() {
        let sample = qms_core::sample::morning(None);
        let mut tokens = FollowTokens::new(b"secret");
        let waiting: Vec<_> = sample.state.list(
            &sample.config,
            Some("cccd"),
            Some(TicketState::Waiting),
            None,
        );
        let last = waiting.last().expect("people wait for cccd");
        let token = tokens.token_of(&last.id);
        let guess = "AAAAAAAAAAAAAAAAAAAAAA".to_string();
        let found = tokens.follow(
            &sample.state,
            &sample.config,
            &[guess.clone(), token.clone()],
        );
        assert_eq!(found.len(), 1, "the guess finds nothing");
        assert_eq!(found[0].token, token);
        assert_eq!(found[0].ticket.id, last.id);
        assert_eq!(found[0].ahead as usize, waiting.len() - 1);
        assert!(found[0].wait_minutes.is_some());
        assert!(tokens
            .follow(&sample.state, &sample.config, &[guess])
            .is_empty());
    }

    #[test]
    fn only_the_web_pages_device_may_follow_and_not_too_many_at_once() {
        let mut sample = qms_core::sample::morning(None);
        let (config, now) = (sample.config.clone(), sample.now);
        let follow = |n: usize| Command::Follow {
            tokens: vec!["AAAAAAAAAAAAAAAAAAAAAA".into(); n],
        };
        let web = Actor::of(&config, "web").unwrap();
        assert!(sample
            .state
            .execute(&config, &web, &follow(MAX_FOLLOWED), now)
            .answer
            .is_ok());
        let many = sample
            .state
            .execute(&config, &web, &follow(MAX_FOLLOWED + 1), now)
            .answer;
        assert_eq!(many.unwrap_err().code, ErrorCode::BadRequest);
        let kiosk = Actor::of(&config, "kiosk-1").unwrap();
        let refused = sample
            .state
            .execute(&config, &kiosk, &follow(1), now)
            .answer;
        assert_eq!(refused.unwrap_err().code, ErrorCode::Forbidden);
    }

    #[test]
    fn a_token_is_long_url_safe_and_not_the_tickets_id() {
        let tokens = FollowTokens::new(b"a secret of this office's authority");
        let token = tokens.token_of("20261126-1023");
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(token, tokens.token_of("20261126-1023"), "the same all day");
        assert_ne!(token, tokens.token_of("20261126-1024"));
        let other_office = FollowTokens::new(b"another authority's secret");
        assert_ne!(token, other_office.token_of("20261126-1023"));
        assert_eq!(
            tokens.url_of("http://192.168.1.10:8080", "20261126-1023"),
            format!("http://192.168.1.10:8080/t/{token}")
        );
    }
}
