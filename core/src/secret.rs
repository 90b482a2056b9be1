//! Secrets kept in `qms.toml` only as hashes: an officer's PIN and an integration's API
//! token. A PIN is short, so it is stretched (PBKDF2-HMAC-SHA256 with a salt of its own);
//! a token is 256 random bits, so one SHA-256 is enough and it is checked on every request.

use std::fmt;
use std::num::NonZeroU32;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

/// PBKDF2 rounds for a new PIN hash: about 25 ms on the office PC, paid at each sign-in.
pub const PIN_ROUNDS: u32 = 60_000;

/// A PIN of 4 to 12 digits.
pub fn pin_problem(pin: &str) -> Option<String> {
    let digits = pin.chars().all(|c| c.is_ascii_digit());
    (!(4..=12).contains(&pin.len()) || !digits).then(|| "a PIN is 4 to 12 digits".to_string())
}

/// `pbkdf2-sha256$<rounds>$<salt>$<hash>`, salt and hash in unpadded URL-safe base64.
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash {
    rounds: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinHash({} rounds)", self.rounds)
    }
}

impl PinHash {
    /// The hash of `pin` with a new random salt.
    pub fn of(pin: &str) -> PinHash {
        let mut salt = vec![0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut salt)
            .expect("the system's random source works");
        let rounds = NonZeroU32::new(PIN_ROUNDS).expect("not zero");
        let mut hash = vec![0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &salt,
            pin.as_bytes(),
            &mut hash,
        );
        PinHash { rounds, salt, hash }
    }

    /// Whether `pin` is the PIN hashed, compared in constant time.
    pub fn matches(&self, pin: &str) -> bool {
        ring::pbkdf2::verify(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            self.rounds,
            &self.salt,
            pin.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }
}

impl fmt::Display for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pbkdf2-sha256${}${}${}",
            self.rounds,
            URL_SAFE_NO_PAD.encode(&self.salt),
            URL_SAFE_NO_PAD.encode(&self.hash)
        )
    }
}

impl std::str::FromStr for PinHash {
    type Err = String;

    fn from_str(text: &str) -> Result<PinHash, String> {
        let bad = || {
            "is not a PIN hash like \"pbkdf2-sha256$60000$…$…\": make one with `qms secret pin`"
                .to_string()
        };
        let mut parts = text.split('$');
        if parts.next() != Some("pbkdf2-sha256") {
            return Err(bad());
        }
        let rounds = parts.next().and_then(|r| r.parse::<NonZeroU32>().ok());
        let salt = parts.next().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok());
        let hash = parts.next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok());
        match (rounds, salt, hash, parts.next()) {
            (Some(rounds), Some(salt), Some(hash), None) if salt.len() >= 8 && hash.len() == 32 => {
                Ok(PinHash { rounds, salt, hash })
            }
            _ => Err(bad()),
        }
    }
}

impl Serialize for PinHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PinHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `sha256$<hex>`: the hash of an API token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

impl TokenHash {
    /// A new random token (43 URL-safe characters) and its hash.
    pub fn new_token() -> (String, TokenHash) {
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system's random source works");
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = TokenHash::of(&token);
        (token, hash)
    }

    /// The hash of `token`.
    pub fn of(token: &str) -> TokenHash {
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        TokenHash(digest.as_ref().try_into().expect("32 bytes"))
    }

    /// Whether `token` hashes to this, compared in constant time.
    pub fn matches(&self, token: &str) -> bool {
        let other = TokenHash::of(token);
        self.0
            .iter()
            .zip(other.0)
            .fold(0u8, |d, (a, b)| d | (a ^ b))
            == 0
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256$")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::str::FromStr for TokenHash {
    type Err = String;

    fn from_str(text: &str) -> Result<TokenHash, String> {
        let bad = || {
            "is not a token hash like \"sha256$<64 hex digits>\": make one with `qms secret token`"
                .to_string()
        };
        let hex = text.strip_prefix("sha256$").ok_or_else(bad)?;
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(TokenHash(out))
    }
}

impl Serialize for TokenHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_hash_matches_its_pin_only_and_reads_back_from_its_text() {
        let hash = PinHash::of("2468");
        assert!(hash.matches("2468"));
        assert!(!hash.matches("2469"));
        let text = hash.to_string();
        assert!(text.starts_with("pbkdf2-sha256$60000$"), "{text}");
        let read: PinHash = text.parse().unwrap();
        assert!(read.matches("2468"));
        assert_ne!(
            PinHash::of("2468").to_string(),
            text,
            "each hash has its own salt"
        );
        assert!(
            !format!("{hash:?}").contains(&text[20..]),
            "Debug shows no hash"
        );
    }

    #[test]
    fn a_bad_pin_hash_or_token_hash_says_how_to_make_one() {
        for bad in ["2468", "pbkdf2-sha256$0$AAAAAAAAAAA$AAAA", "md5$x$y$z"] {
            let error = bad.parse::<PinHash>().unwrap_err();
            assert!(error.contains("qms secret pin"), "{bad}: {error}");
        }
        for bad in ["sha256$00", "abc", &format!("sha256${}", "zz".repeat(32))] {
            let error = bad.parse::<TokenHash>().unwrap_err();
            assert!(error.contains("qms secret token"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_token_matches_its_hash_only() {
        let (token, hash) = TokenHash::new_token();
        assert_eq!(token.len(), 43);
        assert!(hash.matches(&token));
        assert!(!hash.matches(&token[1..]));
        let read: TokenHash = hash.to_string().parse().unwrap();
        assert!(read.matches(&token));
    }

    #[test]
    fn a_pin_is_four_to_twelve_digits() {
        assert_eq!(pin_problem("2468"), None);
        assert_eq!(pin_problem("123456789012"), None);
        for bad in ["123", "12a4", "1234567890123", ""] {
            assert!(pin_problem(bad).is_some(), "{bad}");
        }
    }
}
