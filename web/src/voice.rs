//! The board page's voice: the same Vietnamese call the Slint board speaks (chime, then
//! the number and the counter from the voice pack), made here as WAV for the browser.
//! The last calls are numbered; the page plays each new one after the one before.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use qms_core::board::Announcement;
use qms_core::numwords::Dialect;
use qms_voice::VoicePack;
use serde::Serialize;
use tracing::warn;

/// Calls kept for pages to fetch: more than a page can fall behind by.
const KEPT: usize = 20;

/// A call for the page to speak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoiceCall {
    /// Grows by one with each call: the page speaks those above the last it spoke.
    pub n: u64,
    /// Where its WAV is.
    pub url: String,
}

/// The voice pack and the last calls.
pub struct Voice {
    pack: VoicePack,
    dialect: Dialect,
    calls: Mutex<VecDeque<(u64, Announcement)>>,
}

impl Voice {
    /// The built-in pack, in the site's dialect.
    pub fn new(dialect: Dialect) -> Arc<Voice> {
        Arc::new(Voice {
            pack: VoicePack::builtin(),
            dialect,
            calls: Mutex::new(VecDeque::new()),
        })
    }

    /// New calls to speak, oldest first.
    pub fn record(&self, announcements: Vec<Announcement>) {
        let mut calls = self.calls.lock().expect("voice lock");
        for announcement in announcements {
            let n = calls.back().map_or(1, |(n, _)| n + 1);
            calls.push_back((n, announcement));
            if calls.len() > KEPT {
                calls.pop_front();
            }
        }
    }

    /// The calls a page may speak.
    pub fn calls(&self) -> Vec<VoiceCall> {
        let calls = self.calls.lock().expect("voice lock");
        calls
            .iter()
            .map(|(n, _)| VoiceCall {
                n: *n,
                url: format!("/board/voice/{n}.wav"),
            })
            .collect()
    }

    /// Call `n` as WAV, while it is kept.
    fn wav(&self, n: u64) -> Option<Vec<u8>> {
        let call = {
            let calls = self.calls.lock().expect("voice lock");
            calls.iter().find(|(m, _)| *m == n)?.1.clone()
        };
        match self
            .pack
            .announcement(&call.label, call.counter, self.dialect)
        {
            Ok(samples) => Some(qms_voice::wav_bytes(&samples, self.pack.sample_rate())),
            Err(e) => {
                warn!(cause = %e, "call not spoken on the board page");
                None
            }
        }
    }
}

/// `/board/voice/{n}.wav`.
pub fn routes(voice: Arc<Voice>) -> Router {
    Router::new()
        .route("/board/voice/:file", get(wav))
        .with_state(voice)
}

async fn wav(State(voice): State<Arc<Voice>>, Path(file): Path<String>) -> Response {
    let wav = match file.strip_suffix(".wav") {
        // A tenth of a second of nothing: a page tries it at once to learn whether the
        // browser lets it play sound before anyone touched it.
        Some("silence") => Some(qms_voice::wav_bytes(
            &vec![0; voice.pack.sample_rate() as usize / 10],
            voice.pack.sample_rate(),
        )),
        Some(n) => n.parse().ok().and_then(|n| voice.wav(n)),
        None => None,
    };
    match wav {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "audio/wav"),
                (header::CACHE_CONTROL, "max-age=600"),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(label: &str) -> Announcement {
        Announcement {
            label: label.into(),
            counter: 3,
        }
    }

    #[test]
    fn calls_are_numbered_in_order_and_spoken_as_wav() {
        let voice = Voice::new(Dialect::South);
        voice.record(vec![call("1023"), call("1024")]);
        let calls = voice.calls();
        assert_eq!(calls.iter().map(|c| c.n).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(calls[1].url, "/board/voice/2.wav");
        let wav = voice.wav(2).expect("kept");
        assert_eq!(&wav[..4], b"RIFF");
        assert!(
            wav.len() > 44 + 16_000,
            "a chime and words: {} bytes",
            wav.len()
        );
        assert_eq!(voice.wav(3), None);
        voice.record((0..KEPT).map(|i| call(&format!("{}", 1100 + i))).collect());
        assert_eq!(voice.wav(1), None, "only the last calls are kept");
        assert_eq!(voice.calls().last().unwrap().n, 2 + KEPT as u64);
    }
}
