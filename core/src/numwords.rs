//! Numbers read aloud by Vietnamese rules, and the call sentence.
//!
//! The rules, for each group of three digits (hundreds, tens, units):
//! - a zero hundreds digit is said ("không trăm") when a higher group precedes it;
//! - a zero tens digit before a non-zero unit is "linh" (Northern) or "lẻ" (Southern);
//! - tens of one are "mười", higher tens are "… mươi";
//! - a unit 1 after "… mươi" is "mốt", a unit 4 after "… mươi" is "tư",
//!   a unit 5 after any tens word ("mười" or "… mươi") is "lăm";
//! - groups are "nghìn" (Northern) or "ngàn" (Southern), "triệu", "tỷ"; an all-zero
//!   group is left out (1 000 005 is "một triệu không trăm linh năm").

use serde::{Deserialize, Serialize};

/// How a region reads numbers: the word for thousand and for a zero tens digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// "nghìn", "linh": broadcast standard, and Hà Nội's.
    North,
    /// "ngàn", "lẻ": everyday speech in Hồ Chí Minh City, as the built-in voice speaks.
    #[default]
    South,
}

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// The words for `n`, e.g. 1023 → "một nghìn không trăm hai mươi ba".
pub fn number_words(n: u32, dialect: Dialect) -> String {
    if n == 0 {
        return DIGITS[0].to_string();
    }
    let thousand = match dialect {
        Dialect::North => "nghìn",
        Dialect::South => "ngàn",
    };
    let scales = ["", thousand, "triệu", "tỷ"];
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push((rest % 1000) as u16);
        rest /= 1000;
    }
    let mut words: Vec<&str> = Vec::new();
    let top = groups.len() - 1;
    for index in (0..groups.len()).rev() {
        let group = groups[index];
        if group == 0 {
            continue;
        }
        group_words(group, index != top, dialect, &mut words);
        if !scales[index].is_empty() {
            words.push(scales[index]);
        }
    }
    words.join(" ")
}

/// One group of three digits; `full` means a higher group was said before it.
fn group_words(group: u16, full: bool, dialect: Dialect, words: &mut Vec<&'static str>) {
    let hundreds = (group / 100) as usize;
    let tens = (group / 10 % 10) as usize;
    let units = (group % 10) as usize;
    if hundreds > 0 || full {
        words.push(DIGITS[hundreds]);
        words.push("trăm");
    }
    match tens {
        0 => {
            if units > 0 && (hundreds > 0 || full) {
                words.push(match dialect {
                    Dialect::North => "linh",
                    Dialect::South => "lẻ",
                });
            }
            if units > 0 {
                words.push(DIGITS[units]);
            }
        }
        1 => {
            words.push("mười");
            match units {
                0 => {}
                5 => words.push("lăm"),
                u => words.push(DIGITS[u]),
            }
        }
        t => {
            words.push(DIGITS[t]);
            words.push("mươi");
            match units {
                0 => {}
                1 => words.push("mốt"),
                4 => words.push("tư"),
                5 => words.push("lăm"),
                u => words.push(DIGITS[u]),
            }
        }
    }
}

/// How a ticket label is read: a letter prefix by its Vietnamese letter name, then the
/// number as a whole ("A023" → "a hai mươi ba").
pub fn label_words(label: &str, dialect: Dialect) -> String {
    let digits_at = label
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(label.len());
    let (prefix, digits) = label.split_at(digits_at);
    let mut parts: Vec<String> = prefix.chars().map(letter_name).collect();
    if let Ok(n) = digits.parse::<u32>() {
        parts.push(number_words(n, dialect));
    }
    parts.join(" ")
}

/// Vietnamese names of the Latin letters a ticket prefix may use.
fn letter_name(c: char) -> String {
    match c.to_ascii_uppercase() {
        'A' => "a",
        'B' => "bê",
        'C' => "xê",
        'D' => "dê",
        'E' => "e",
        'F' => "ép",
        'G' => "giê",
        'H' => "hát",
        'I' => "i",
        'J' => "gi",
        'K' => "ca",
        'L' => "e-lờ",
        'M' => "em-mờ",
        'N' => "en-nờ",
        'O' => "o",
        'P' => "pê",
        'Q' => "quy",
        'R' => "e-rờ",
        'S' => "ét-xì",
        'T' => "tê",
        'U' => "u",
        'V' => "vê",
        'W' => "vê-kép",
        'X' => "ích-xì",
        'Y' => "i-dài",
        'Z' => "dét",
        _ => return c.to_string(),
    }
    .to_string()
}

/// The fixed parts of the call, each spoken as one clip.
pub const CALL_OPENING: &str = "Mời công dân có số thứ tự";
/// Said between the number and the counter: "… đến quầy số …".
pub const CALL_TO_COUNTER: &str = "đến quầy số";
/// Before the number said a second time.
pub const CALL_AGAIN: &str = "số";
/// A pause in a call, as a comma would be read: not a clip, silence.
pub const PAUSE: &str = ",";

/// The sentence that calls a ticket to a counter, in Vietnamese.
pub fn call_sentence_vi(label: &str, counter: u16, dialect: Dialect) -> String {
    call_clips(label, counter, dialect)
        .join(" ")
        .replace(&format!(" {PAUSE}"), PAUSE)
}

/// The call as the clips a voice pack speaks, in order: the fixed phrases, one clip a
/// word ("một", "nghìn", "e-lờ"…) and pauses. The number is said twice, as halls do:
/// "Mời công dân có số thứ tự một ngàn không trăm lẻ một, số một ngàn không trăm lẻ
/// một, đến quầy số một".
pub fn call_clips(label: &str, counter: u16, dialect: Dialect) -> Vec<String> {
    let number: Vec<String> = label_words(label, dialect)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut clips = vec![CALL_OPENING.to_string()];
    clips.extend(number.iter().cloned());
    clips.extend([PAUSE.to_string(), CALL_AGAIN.to_string()]);
    clips.extend(number);
    clips.extend([PAUSE.to_string(), CALL_TO_COUNTER.to_string()]);
    clips.extend(
        number_words(u32::from(counter), dialect)
            .split_whitespace()
            .map(str::to_string),
    );
    clips
}

/// The same call in English.
pub fn call_sentence_en(label: &str, counter: u16) -> String {
    format!("Ticket number {label}, please come to counter {counter}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line checked by hand against how Vietnamese is read aloud.
    const NORTH: &[(u32, &str)] = &[
        (0, "không"),
        (1, "một"),
        (4, "bốn"),
        (5, "năm"),
        (9, "chín"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (19, "mười chín"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (31, "ba mươi mốt"),
        (45, "bốn mươi lăm"),
        (55, "năm mươi lăm"),
        (70, "bảy mươi"),
        (99, "chín mươi chín"),
        (100, "một trăm"),
        (101, "một trăm linh một"),
        (104, "một trăm linh bốn"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (111, "một trăm mười một"),
        (115, "một trăm mười lăm"),
        (121, "một trăm hai mươi mốt"),
        (205, "hai trăm linh năm"),
        (999, "chín trăm chín mươi chín"),
        (1000, "một nghìn"),
        (1001, "một nghìn không trăm linh một"),
        (1005, "một nghìn không trăm linh năm"),
        (1010, "một nghìn không trăm mười"),
        (1015, "một nghìn không trăm mười lăm"),
        (1023, "một nghìn không trăm hai mươi ba"),
        (1100, "một nghìn một trăm"),
        (1234, "một nghìn hai trăm ba mươi tư"),
        (1999, "một nghìn chín trăm chín mươi chín"),
        (2001, "hai nghìn không trăm linh một"),
        (2024, "hai nghìn không trăm hai mươi tư"),
        (2500, "hai nghìn năm trăm"),
        (10000, "mười nghìn"),
        (15000, "mười lăm nghìn"),
        (21000, "hai mươi mốt nghìn"),
        (100000, "một trăm nghìn"),
        (105000, "một trăm linh năm nghìn"),
        (1000000, "một triệu"),
        (1000005, "một triệu không trăm linh năm"),
        (
            2021001,
            "hai triệu không trăm hai mươi mốt nghìn không trăm linh một",
        ),
        (1000000000, "một tỷ"),
    ];

    #[test]
    fn northern_reading_matches_the_hand_checked_table() {
        for (n, words) in NORTH {
            assert_eq!(number_words(*n, Dialect::North), *words, "{n}");
        }
    }

    #[test]
    fn southern_reading_says_ngan_and_le() {
        assert_eq!(number_words(105, Dialect::South), "một trăm lẻ năm");
        assert_eq!(
            number_words(1005, Dialect::South),
            "một ngàn không trăm lẻ năm"
        );
        assert_eq!(
            number_words(1024, Dialect::South),
            "một ngàn không trăm hai mươi tư"
        );
    }

    #[test]
    fn prefixed_labels_read_the_letter_then_the_number() {
        assert_eq!(label_words("A023", Dialect::North), "a hai mươi ba");
        assert_eq!(label_words("B105", Dialect::North), "bê một trăm linh năm");
        assert_eq!(
            label_words("1023", Dialect::North),
            "một nghìn không trăm hai mươi ba"
        );
    }

    #[test]
    fn the_call_is_spoken_as_phrase_and_word_clips() {
        assert_eq!(
            call_clips("1023", 3, Dialect::North),
            [
                "Mời công dân có số thứ tự",
                "một",
                "nghìn",
                "không",
                "trăm",
                "hai",
                "mươi",
                "ba",
                ",",
                "số",
                "một",
                "nghìn",
                "không",
                "trăm",
                "hai",
                "mươi",
                "ba",
                ",",
                "đến quầy số",
                "ba"
            ]
        );
        assert_eq!(
            call_clips("A105", 12, Dialect::South),
            [
                "Mời công dân có số thứ tự",
                "a",
                "một",
                "trăm",
                "lẻ",
                "năm",
                ",",
                "số",
                "a",
                "một",
                "trăm",
                "lẻ",
                "năm",
                ",",
                "đến quầy số",
                "mười",
                "hai"
            ]
        );
    }

    #[test]
    fn the_call_sentence_names_ticket_and_counter() {
        assert_eq!(
            call_sentence_vi("1023", 3, Dialect::North),
            "Mời công dân có số thứ tự một nghìn không trăm hai mươi ba, số một nghìn không \
             trăm hai mươi ba, đến quầy số ba"
        );
        // The default office's way, in Hồ Chí Minh City.
        assert_eq!(
            call_sentence_vi("1001", 1, Dialect::default()),
            "Mời công dân có số thứ tự một ngàn không trăm lẻ một, số một ngàn không trăm \
             lẻ một, đến quầy số một"
        );
        assert_eq!(
            call_sentence_en("1023", 3),
            "Ticket number 1023, please come to counter 3."
        );
    }
}
