//! The voice pack and the announcer.

use std::path::Path;
use std::time::{Duration, Instant};

use qms_core::numwords::{call_clips, Dialect};
use qms_voice::{chime, write_wav, Announcer, VoiceError, VoicePack};

#[test]
fn the_builtin_pack_speaks_every_number_counter_and_prefix() {
    let pack = VoicePack::builtin();
    for dialect in [Dialect::North, Dialect::South] {
        for number in 0..=9999u32 {
            let label = number.to_string();
            pack.speak(&call_clips(&label, (number % 99 + 1) as u16, dialect))
                .unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        for letter in 'A'..='Z' {
            pack.announcement(&format!("{letter}023"), 7, dialect)
                .unwrap();
        }
    }
}

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// The defect: the "trăm" clip lasted 167 ms and "gi" was nearly silent. Every clip is
/// checked: long enough to be heard across a hall, not longer than a phrase, loud enough,
/// and about as loud as the others.
#[test]
fn every_voice_clip_has_a_sensible_level_and_length() {
    let pack = VoicePack::builtin();
    let rate = f64::from(pack.sample_rate());
    let listed: Vec<&str> = include_str!("../clips.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect();
    let mut levels = Vec::new();
    for clip in &listed {
        assert!(pack.has(clip), "{clip} is in clips.txt but not in the pack");
    }
    for (clip, samples) in pack.clips() {
        assert!(
            listed.contains(&clip),
            "{clip} is in the pack but not in clips.txt"
        );
        let seconds = samples.len() as f64 / rate;
        let longest = if clip.contains(' ') { 3.5 } else { 1.2 };
        assert!(
            (0.28..=longest).contains(&seconds),
            "{clip}: {:.0} ms",
            seconds * 1000.0
        );
        let peak = samples
            .iter()
            .map(|s| i32::from(*s).abs())
            .max()
            .unwrap_or(0);
        assert!(peak > 16_000, "{clip}: peak {peak}, below -6 dBFS");
        levels.push((rms(samples), clip));
    }
    levels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = levels[levels.len() / 2].0;
    for (level, clip) in &levels {
        assert!(
            (median / 3.0..=median * 3.0).contains(level),
            "{clip}: rms {level:.0} against a median of {median:.0}"
        );
    }
}

#[test]
fn a_rendered_announcement_is_chime_then_words_and_not_silent() {
    let pack = VoicePack::builtin();
    let rate = pack.sample_rate();
    let clips = call_clips("1023", 3, Dialect::North);
    let words = pack.speak(&clips).unwrap();
    let call = pack.announcement("1023", 3, Dialect::North).unwrap();
    assert_eq!(call.len(), chime(rate).len() + words.len());
    let seconds = call.len() as f64 / f64::from(rate);
    // The number is said twice: about 13 s for 1023 to counter 3.
    assert!((5.0..16.0).contains(&seconds), "{seconds} s");
    assert!(
        rms(&words) > 500.0,
        "the words are audible: rms {}",
        rms(&words)
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("call.wav");
    write_wav(&path, &call, rate).unwrap();
    let back: Vec<i16> = hound::WavReader::open(&path)
        .unwrap()
        .into_samples::<i16>()
        .map(Result::unwrap)
        .collect();
    assert_eq!(back, call);
}

#[test]
fn a_pack_without_a_clip_names_the_clip() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = VoicePack::builtin();
    let one = builtin.speak(&["một".to_string()]).unwrap();
    write_wav(&dir.path().join("một.wav"), &one, builtin.sample_rate()).unwrap();
    let pack = VoicePack::load(dir.path()).unwrap();
    let error = pack.announcement("1001", 1, Dialect::North).unwrap_err();
    assert!(
        matches!(&error, VoiceError::MissingClip { clip, .. } if clip == "Mời công dân có số thứ tự")
    );
    assert!(
        error.to_string().contains("Mời công dân có số thứ tự.wav"),
        "{error}"
    );
}

/// A player that logs when it starts and ends each file, taking 150 ms to "play".
fn logging_player(dir: &Path, fail_first: bool) -> Vec<String> {
    let script = dir.join("player.sh");
    let log = dir.join("log");
    let marker = dir.join("failed-once");
    let fail = if fail_first {
        format!(
            "if [ ! -e {m} ]; then touch {m}; exit 1; fi\n",
            m = marker.display()
        )
    } else {
        String::new()
    };
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n{fail}echo start >> {log}\necho \"$1\" >> {log}.files\nsleep 0.15\necho end >> {log}\n",
            log = log.display()
        ),
    )
    .unwrap();
    vec!["sh".into(), script.display().to_string()]
}

fn wait_for_lines(path: &Path, lines: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let got: Vec<String> = text.lines().map(str::to_string).collect();
        if got.len() >= lines || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_calls_in_quick_succession_play_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let announcer = Announcer::start(logging_player(dir.path(), false), 16000).unwrap();
    announcer.say(vec![0; 160]);
    announcer.say(vec![0; 160]);
    let log = wait_for_lines(&dir.path().join("log"), 4);
    assert_eq!(log, ["start", "end", "start", "end"], "never two at once");
}

#[test]
fn without_sound_the_announcer_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let announcer = Announcer::start(logging_player(dir.path(), true), 16000).unwrap();
    announcer.say(vec![0; 160]); // the player fails: no sound device
    announcer.say(vec![0; 160]);
    let log = wait_for_lines(&dir.path().join("log"), 2);
    assert_eq!(log, ["start", "end"], "the next call is still played");
}

/// The defect: calls were written to fixed names (`call-N.wav`) in the temporary folder,
/// shared by every board on the machine and left behind.
#[test]
fn scratch_files_are_fixed_names_shared_between_instances_and_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let first = Announcer::start(logging_player(dir.path(), false), 16000).unwrap();
    let second = Announcer::start(logging_player(dir.path(), false), 16000).unwrap();
    first.say(vec![0; 160]);
    wait_for_lines(&dir.path().join("log"), 2);
    second.say(vec![0; 160]);
    wait_for_lines(&dir.path().join("log"), 4);
    let files: Vec<String> = std::fs::read_to_string(dir.path().join("log.files"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(files.len(), 2);
    assert_ne!(files[0], files[1], "each board writes its own file");
    drop((first, second));
    let deadline = Instant::now() + Duration::from_secs(10);
    // The announcer's thread removes its folder after its file: wait for the folders.
    let folder = |f: &String| Path::new(f).parent().unwrap().to_path_buf();
    while files.iter().any(|f| folder(f).exists()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for file in &files {
        assert!(
            !folder(file).exists(),
            "{} left behind",
            folder(file).display()
        );
    }
}
