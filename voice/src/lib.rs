//! Vietnamese voice calls: "Mời công dân có số thứ tự một ngàn không trăm hai mươi ba, số
//! một ngàn không trăm hai mươi ba, đến quầy số ba", spoken from a pack of per-word clips,
//! after a chime.
//!
//! # Layout
//! - [`VoicePack`]: the clips, one WAV each (16-bit mono), named after what they say
//!   (`một.wav`, `Mời công dân có số thứ tự.wav`; `voice/clips.txt` lists them). The
//!   default pack, made with espeak-ng's Southern Vietnamese voice by
//!   `voice/make-pack.sh`, is compiled in; an office can record its own.
//! - [`Announcer`]: plays announcements one after the other, never cutting one off, through
//!   the system's player (`aplay` by default); without a sound device it says so once and
//!   carries on.
//!
//! The words of a call come from `qms_core::numwords::call_clips`.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;

use qms_core::numwords::{call_clips, Dialect, PAUSE};
use tracing::{info, warn};

include!(concat!(env!("OUT_DIR"), "/builtin_pack.rs"));

/// Silence between two clips of a call, in milliseconds.
const GAP_MS: u32 = 70;
/// Silence for a pause in a call (`numwords::PAUSE`), in milliseconds.
const PAUSE_MS: u32 = 350;

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("voice pack {pack}: clip \"{clip}\" is missing (expected {clip}.wav)")]
    MissingClip { pack: String, clip: String },
    #[error("voice pack {pack}: {file}: {cause}")]
    BadClip {
        pack: String,
        file: String,
        cause: String,
    },
    #[error("voice pack {pack}: {cause}")]
    Read { pack: String, cause: std::io::Error },
}

/// Clips at one sample rate.
pub struct VoicePack {
    name: String,
    sample_rate: u32,
    clips: HashMap<String, Vec<i16>>,
}

impl VoicePack {
    /// The pack compiled into the binary.
    pub fn builtin() -> VoicePack {
        let mut pack = VoicePack {
            name: "built-in (espeak-ng, Southern Vietnamese)".into(),
            sample_rate: 0,
            clips: HashMap::new(),
        };
        for (clip, bytes) in BUILTIN {
            pack.add(clip, std::io::Cursor::new(*bytes))
                .expect("the built-in pack is valid");
        }
        pack
    }

    /// A pack from a folder of `<clip>.wav` files, e.g. an office's own recordings.
    pub fn load(dir: &Path) -> Result<VoicePack, VoiceError> {
        let name = dir.display().to_string();
        let read = |cause| VoiceError::Read {
            pack: name.clone(),
            cause,
        };
        let mut pack = VoicePack {
            name: name.clone(),
            sample_rate: 0,
            clips: HashMap::new(),
        };
        for entry in std::fs::read_dir(dir).map_err(read)? {
            let path = entry.map_err(read)?.path();
            let Some(clip) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".wav"))
            else {
                continue;
            };
            let file = std::fs::File::open(&path).map_err(read)?;
            pack.add(clip, std::io::BufReader::new(file))?;
        }
        Ok(pack)
    }

    fn add(&mut self, clip: &str, source: impl std::io::Read) -> Result<(), VoiceError> {
        let bad = |cause: String| VoiceError::BadClip {
            pack: self.name.clone(),
            file: format!("{clip}.wav"),
            cause,
        };
        let reader = hound::WavReader::new(source).map_err(|e| bad(e.to_string()))?;
        let spec = reader.spec();
        if spec.channels != 1
            || spec.bits_per_sample != 16
            || spec.sample_format != hound::SampleFormat::Int
        {
            return Err(bad(format!(
                "{} channels, {} bits: clips must be 16-bit mono",
                spec.channels, spec.bits_per_sample
            )));
        }
        if self.sample_rate != 0 && spec.sample_rate != self.sample_rate {
            return Err(bad(format!(
                "{} Hz while the other clips are {} Hz",
                spec.sample_rate, self.sample_rate
            )));
        }
        self.sample_rate = spec.sample_rate;
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        self.clips.insert(clip.to_string(), samples);
        Ok(())
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn has(&self, clip: &str) -> bool {
        self.clips.contains_key(clip)
    }

    /// Each clip and its samples, by name.
    pub fn clips(&self) -> impl Iterator<Item = (&str, &[i16])> {
        self.clips.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The clips one after the other with a short pause between them; a pause of the
    /// call is silence.
    pub fn speak(&self, clips: &[String]) -> Result<Vec<i16>, VoiceError> {
        let gap = vec![0i16; (self.sample_rate * GAP_MS / 1000) as usize];
        let pause = vec![0i16; (self.sample_rate * PAUSE_MS / 1000) as usize];
        let mut out = Vec::new();
        for clip in clips {
            if clip == PAUSE {
                out.extend_from_slice(&pause);
                continue;
            }
            let samples = self
                .clips
                .get(clip)
                .ok_or_else(|| VoiceError::MissingClip {
                    pack: self.name.clone(),
                    clip: clip.clone(),
                })?;
            out.extend_from_slice(samples);
            out.extend_from_slice(&gap);
        }
        Ok(out)
    }

    /// The chime, then the call of `label` to `counter`.
    pub fn announcement(
        &self,
        label: &str,
        counter: u16,
        dialect: Dialect,
    ) -> Result<Vec<i16>, VoiceError> {
        let mut out = chime(self.sample_rate);
        out.extend(self.speak(&call_clips(label, counter, dialect))?);
        Ok(out)
    }
}

/// Two soft tones, high then low, with a pause after: heads turn before the words.
pub fn chime(sample_rate: u32) -> Vec<i16> {
    let tone = |hz: f32, ms: u32| {
        let n = (sample_rate * ms / 1000) as usize;
        (0..n).map(move |i| {
            let t = i as f32 / sample_rate as f32;
            // Fades in and out over the whole tone, so it never clicks.
            let envelope = (std::f32::consts::PI * i as f32 / n as f32).sin();
            (envelope * 9000.0 * (2.0 * std::f32::consts::PI * hz * t).sin()) as i16
        })
    };
    let pause = (sample_rate * 250 / 1000) as usize;
    tone(880.0, 300)
        .chain(tone(660.0, 400))
        .chain(std::iter::repeat_n(0, pause))
        .collect()
}

/// Writes 16-bit mono samples as a WAV file.
pub fn write_wav(path: &Path, samples: &[i16], sample_rate: u32) -> std::io::Result<()> {
    std::fs::write(path, wav_bytes(samples, sample_rate))
}

/// 16-bit mono samples as the bytes of a WAV file, for a browser.
pub fn wav_bytes(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = std::io::Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let mut writer = hound::WavWriter::new(&mut bytes, spec).expect("a WAV header fits memory");
    for s in samples {
        writer.write_sample(*s).expect("samples fit memory");
    }
    writer.finalize().expect("a WAV in memory finalizes");
    bytes.into_inner()
}

/// Plays announcements in order on a thread of its own; a new one waits for the one
/// playing to end.
pub struct Announcer {
    queue: mpsc::Sender<Vec<i16>>,
}

impl Announcer {
    /// `player` is the command that plays a WAV file given as its last argument, e.g.
    /// `["aplay", "-q"]` or `["paplay"]`. Each call is written to a folder of this
    /// announcer's own in the temporary folder, removed when the announcer stops.
    pub fn start(player: Vec<String>, sample_rate: u32) -> std::io::Result<Announcer> {
        let scratch = tempfile::Builder::new().prefix("qms-voice-").tempdir()?;
        let (queue, calls) = mpsc::channel::<Vec<i16>>();
        std::thread::Builder::new()
            .name("announcer".into())
            .spawn(move || {
                let mut silent = false;
                let wav = scratch.path().join("call.wav");
                for samples in calls {
                    if let Err(e) = write_wav(&wav, &samples, sample_rate) {
                        warn!(cause = %e, "announcement not written");
                        continue;
                    }
                    let played = Command::new(&player[0])
                        .args(&player[1..])
                        .arg(&wav)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                    match played {
                        Ok(status) if status.success() => silent = false,
                        outcome if !silent => {
                            silent = true;
                            let cause = match outcome {
                                Ok(status) => format!("the player exited with {status}"),
                                Err(e) => e.to_string(),
                            };
                            warn!(player = ?player, %cause, "no sound: calls are shown but not spoken");
                        }
                        _ => {}
                    }
                }
                info!("announcer stopped");
                drop(scratch);
            })?;
        Ok(Announcer { queue })
    }

    /// Queues an announcement; it plays after those before it.
    pub fn say(&self, samples: Vec<i16>) {
        let _ = self.queue.send(samples);
    }
}
