//! The printer's answer to `DLE EOT n`, one byte each, read before every job and every
//! few seconds.

use qms_core::protocol::{PaperLevel, PrinterFault};

/// Paper as the roll sensors see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Ok,
    NearEnd,
    Out,
}

/// What staff need to know, published on the printer's retained status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub online: bool,
    pub paper: Paper,
    pub cover_open: bool,
    /// A mechanical or cutter error.
    pub error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status byte {byte:#04x} for DLE EOT {request} is not a status (bits 0, 1, 4 and 7 must read 0, 1, 1, 0)")]
pub struct BadStatus {
    pub request: u8,
    pub byte: u8,
}

/// Every status byte has the form `0xx1xx10`.
fn check(request: u8, byte: u8) -> Result<u8, BadStatus> {
    if byte & 0b1001_0011 == 0b0001_0010 {
        Ok(byte)
    } else {
        Err(BadStatus { request, byte })
    }
}

impl Status {
    /// From the answers to `DLE EOT 1` (printer), `2` (offline cause) and `4` (paper).
    pub fn from_bytes(printer: u8, offline: u8, paper: u8) -> Result<Status, BadStatus> {
        let printer = check(1, printer)?;
        let offline = check(2, offline)?;
        let paper = check(4, paper)?;
        let paper_state = if paper & 0x60 != 0 || offline & 0x20 != 0 {
            Paper::Out
        } else if paper & 0x0c != 0 {
            Paper::NearEnd
        } else {
            Paper::Ok
        };
        Ok(Status {
            online: printer & 0x08 == 0,
            paper: paper_state,
            cover_open: offline & 0x04 != 0,
            error: offline & 0x40 != 0,
        })
    }

    /// Whether a ticket can be printed now.
    pub fn ready(&self) -> bool {
        self.online && self.paper != Paper::Out && !self.cover_open && !self.error
    }

    /// Why it cannot print: "offline" only when it names no cause of its own.
    pub fn faults(&self) -> Vec<PrinterFault> {
        let mut faults = Vec::new();
        if self.paper == Paper::Out {
            faults.push(PrinterFault::PaperOut);
        }
        if self.cover_open {
            faults.push(PrinterFault::CoverOpen);
        }
        if self.error {
            faults.push(PrinterFault::Mechanical);
        }
        if !self.online && faults.is_empty() {
            faults.push(PrinterFault::Offline);
        }
        faults
    }

    pub fn paper_level(&self) -> PaperLevel {
        match self.paper {
            Paper::Ok => PaperLevel::Ok,
            Paper::NearEnd => PaperLevel::NearEnd,
            Paper::Out => PaperLevel::Out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every answer a printer (or line noise) can give, all 2^24 of them: read or refused,
    /// never a panic, and refused exactly when a byte breaks the fixed bits.
    #[test]
    fn every_possible_status_answer_is_read_or_refused() {
        let fixed_bits_right = |b: u8| b & 0b1001_0011 == 0b0001_0010;
        let mut read = 0u32;
        for printer in 0..=255u8 {
            for offline in 0..=255u8 {
                let pair_right = fixed_bits_right(printer) && fixed_bits_right(offline);
                for paper in 0..=255u8 {
                    let result = Status::from_bytes(printer, offline, paper);
                    assert_eq!(result.is_ok(), pair_right && fixed_bits_right(paper));
                    read += u32::from(result.is_ok());
                }
            }
        }
        // Four free bits in each byte.
        assert_eq!(read, 16 * 16 * 16);
    }

    #[test]
    fn epson_answers_read_as_measured() {
        let normal = Status::from_bytes(0x12, 0x12, 0x12).unwrap();
        assert!(normal.ready());
        assert_eq!(normal.paper, Paper::Ok);
        let out = Status::from_bytes(0x1a, 0x32, 0x7e).unwrap();
        assert_eq!(
            (out.online, out.paper, out.ready()),
            (false, Paper::Out, false)
        );
        let cover = Status::from_bytes(0x1a, 0x16, 0x12).unwrap();
        assert!(cover.cover_open && !cover.ready());
        let near_end = Status::from_bytes(0x12, 0x12, 0x1e).unwrap();
        assert_eq!((near_end.paper, near_end.ready()), (Paper::NearEnd, true));
    }

    #[test]
    fn a_byte_that_is_no_status_is_refused() {
        assert_eq!(
            Status::from_bytes(0x41, 0x12, 0x12),
            Err(BadStatus {
                request: 1,
                byte: 0x41
            })
        );
    }
}
