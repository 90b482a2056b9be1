//! Vietnamese in the printer's own font: TCVN-3 (TCVN 5712:1993 VN3), the code pages an
//! Epson selects with `ESC t 30` (lower case) and `ESC t 31` (capitals). A ticket in
//! text mode is a tenth of the size of one with raster lines, but only printers that
//! carry these pages print it right (see firmware-notes/printers.md).
//!
//! Bytes below 0x80 are ASCII on both pages. Page 30 has the lower-case letters with
//! their marks; page 31 has the capitals at the same bytes, except Ă, Â and Đ, which sit
//! at 0xA1, 0xA2 and 0xA7 (page 30 leaves those empty).

use crate::escpos::ESC;

pub const LOWER_PAGE: u8 = 30;
pub const UPPER_PAGE: u8 = 31;

/// Page 30, by byte.
const LOWER: [(u8, char); 67] = [
    (0xA8, 'ă'),
    (0xA9, 'â'),
    (0xAA, 'ê'),
    (0xAB, 'ô'),
    (0xAC, 'ơ'),
    (0xAD, 'ư'),
    (0xAE, 'đ'),
    (0xB5, 'à'),
    (0xB6, 'ả'),
    (0xB7, 'ã'),
    (0xB8, 'á'),
    (0xB9, 'ạ'),
    (0xBB, 'ằ'),
    (0xBC, 'ẳ'),
    (0xBD, 'ẵ'),
    (0xBE, 'ắ'),
    (0xC6, 'ặ'),
    (0xC7, 'ầ'),
    (0xC8, 'ẩ'),
    (0xC9, 'ẫ'),
    (0xCA, 'ấ'),
    (0xCB, 'ậ'),
    (0xCC, 'è'),
    (0xCE, 'ẻ'),
    (0xCF, 'ẽ'),
    (0xD0, 'é'),
    (0xD1, 'ẹ'),
    (0xD2, 'ề'),
    (0xD3, 'ể'),
    (0xD4, 'ễ'),
    (0xD5, 'ế'),
    (0xD6, 'ệ'),
    (0xD7, 'ì'),
    (0xD8, 'ỉ'),
    (0xDC, 'ĩ'),
    (0xDD, 'í'),
    (0xDE, 'ị'),
    (0xDF, 'ò'),
    (0xE1, 'ỏ'),
    (0xE2, 'õ'),
    (0xE3, 'ó'),
    (0xE4, 'ọ'),
    (0xE5, 'ồ'),
    (0xE6, 'ổ'),
    (0xE7, 'ỗ'),
    (0xE8, 'ố'),
    (0xE9, 'ộ'),
    (0xEA, 'ờ'),
    (0xEB, 'ở'),
    (0xEC, 'ỡ'),
    (0xED, 'ớ'),
    (0xEE, 'ợ'),
    (0xEF, 'ù'),
    (0xF1, 'ủ'),
    (0xF2, 'ũ'),
    (0xF3, 'ú'),
    (0xF4, 'ụ'),
    (0xF5, 'ừ'),
    (0xF6, 'ử'),
    (0xF7, 'ữ'),
    (0xF8, 'ứ'),
    (0xF9, 'ự'),
    (0xFA, 'ỳ'),
    (0xFB, 'ỷ'),
    (0xFC, 'ỹ'),
    (0xFD, 'ý'),
    (0xFE, 'ỵ'),
];

/// Page 31's own places for the capitals whose lower-case byte it does not reuse.
const UPPER_MOVED: [(u8, char); 3] = [(0xA1, 'Ă'), (0xA2, 'Â'), (0xA7, 'Đ')];

/// Page 31, by byte: the moved capitals, then the capitals of page 30's letters at their
/// bytes (ă, â and đ excepted: their capitals are the moved ones).
fn upper() -> impl Iterator<Item = (u8, char)> {
    let at_lower_bytes = LOWER
        .iter()
        .filter(|(byte, _)| !matches!(byte, 0xA8 | 0xA9 | 0xAE))
        .filter_map(|(byte, c)| c.to_uppercase().next().map(|upper| (*byte, upper)));
    UPPER_MOVED.into_iter().chain(at_lower_bytes)
}

/// The page and byte of `c`, or None when TCVN-3 has no place for it.
fn place(c: char) -> Option<(u8, u8)> {
    let byte_of = |(byte, t): (u8, char)| (t == c).then_some(byte);
    LOWER
        .into_iter()
        .find_map(byte_of)
        .map(|byte| (LOWER_PAGE, byte))
        .or_else(|| upper().find_map(byte_of).map(|byte| (UPPER_PAGE, byte)))
}

/// The character printed for `byte` on `page`, if any.
pub fn decode(page: u8, byte: u8) -> Option<char> {
    let char_at = |(b, c): (u8, char)| (b == byte).then_some(c);
    match page {
        _ if byte < 0x80 => Some(byte as char),
        LOWER_PAGE => LOWER.into_iter().find_map(char_at),
        UPPER_PAGE => upper().find_map(char_at),
        _ => None,
    }
}

/// `text` as TCVN-3 bytes, with `ESC t` wherever the page must change; `page` is the
/// page selected before and is left at the page selected after. A character with no
/// place in TCVN-3 prints as a close ASCII one ('-' for dashes and the middle dot) or '?'.
pub fn encode(text: &str, page: &mut u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c as u8);
            continue;
        }
        match place(c) {
            Some((wanted, byte)) => {
                if *page != wanted {
                    out.extend_from_slice(&[ESC, b't', wanted]);
                    *page = wanted;
                }
                out.push(byte);
            }
            None => out.push(match c {
                '–' | '—' | '·' | '•' => b'-',
                _ => b'?',
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every letter of Vietnamese with its marks, lower and upper case.
    const ALL: &str = "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợ\
                       pqrstuùủũúụưừửữứựvxyỳỷỹýỵ";

    fn decode_all(bytes: &[u8]) -> String {
        let mut page = 0;
        let mut out = String::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == ESC && bytes.get(i + 1) == Some(&b't') {
                page = bytes[i + 2];
                i += 3;
                continue;
            }
            out.push(decode(page, bytes[i]).expect("a printable byte"));
            i += 1;
        }
        out
    }

    #[test]
    fn every_vietnamese_letter_has_a_place_in_either_case() {
        for text in [ALL.to_string(), ALL.to_uppercase()] {
            let mut page = 0;
            let bytes = encode(&text, &mut page);
            assert!(!bytes.contains(&b'?'), "{text}");
            assert_eq!(decode_all(&bytes), text);
        }
    }

    /// Page 30 against TCVN 5712:1993 VN3 as Vietnamese converters publish it: the bytes
    /// written as Latin-1 characters, in the order à á ả ã ạ, ă …, ư (0xAD, a soft hyphen).
    #[test]
    fn the_lower_case_page_is_tcvn_5712_vn3() {
        let letters = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ";
        let vn3 = "µ¸¶·¹¨»¾¼½Æ©ÇÊÈÉË®ÌÐÎÏÑªÒÕÓÔÖ×ÝØÜÞßãáâä«åèæçé¬êíëìîïóñòô\u{AD}õøö÷ùúýûüþ";
        let expected: Vec<u8> = vn3.chars().map(|c| c as u32 as u8).collect();
        let mut page = LOWER_PAGE;
        assert_eq!(encode(letters, &mut page), expected);
    }

    #[test]
    fn known_bytes_and_page_switches() {
        let mut page = LOWER_PAGE;
        // "Số" needs no switch for 'S'; 'ố' is 0xE8 on page 30.
        assert_eq!(encode("Số", &mut page), b"S\xE8");
        assert_eq!(
            encode("SỐ THỨ TỰ", &mut page),
            [b"S\x1bt\x1f\xE8 TH\xF8 T\xF9".as_slice()].concat(),
            "capitals switch to page 31 once"
        );
        assert_eq!(page, UPPER_PAGE);
        assert_eq!(encode("Đ đ", &mut page), b"\xA7 \x1bt\x1e\xAE");
        assert_eq!(
            encode("Quầy 2 — ưu tiên", &mut page),
            b"Qu\xC7y 2 - \xADu ti\xAAn"
        );
        assert_eq!(encode("日", &mut page), b"?");
    }
}
