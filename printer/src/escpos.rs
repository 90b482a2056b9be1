//! ESC/POS commands, as bytes. Only what a ticket needs, in the subset Epson and the
//! common clones (Xprinter and others) share.

/// A 1-bit image, rows of `width_bytes` bytes, most significant bit leftmost; 1 is black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width_bytes: usize,
    pub height: usize,
    pub bits: Vec<u8>,
}

impl Bitmap {
    pub fn width(&self) -> usize {
        self.width_bytes * 8
    }

    pub fn is_black(&self, x: usize, y: usize) -> bool {
        self.bits[y * self.width_bytes + x / 8] & (0x80 >> (x % 8)) != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left = 0,
    Center = 1,
}

/// Builds a byte stream of commands.
#[derive(Debug, Default)]
pub struct Commands {
    bytes: Vec<u8>,
}

pub const ESC: u8 = 0x1b;
pub const GS: u8 = 0x1d;
pub const FS: u8 = 0x1c;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;

impl Commands {
    pub fn new() -> Commands {
        Commands::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// `ESC @` resets the printer; `FS .` takes clones out of Chinese character mode, in
    /// which they would read two bytes as one character.
    pub fn init(mut self) -> Self {
        self.bytes.extend_from_slice(&[ESC, b'@', FS, b'.']);
        self
    }

    /// `ESC a n`: applies to text and raster images that follow.
    pub fn align(mut self, align: Align) -> Self {
        self.bytes.extend_from_slice(&[ESC, b'a', align as u8]);
        self
    }

    /// `GS ! n`: character width and height multipliers, 1 to 8.
    pub fn size(mut self, width: u8, height: u8) -> Self {
        let w = width.clamp(1, 8) - 1;
        let h = height.clamp(1, 8) - 1;
        self.bytes.extend_from_slice(&[GS, b'!', (w << 4) | h]);
        self
    }

    /// `ESC E n`.
    pub fn bold(mut self, on: bool) -> Self {
        self.bytes.extend_from_slice(&[ESC, b'E', u8::from(on)]);
        self
    }

    /// Printable ASCII in the printer's own font, then a line feed. Anything else is
    /// replaced by '?': Vietnamese goes through [`Commands::raster`].
    pub fn line(mut self, text: &str) -> Self {
        self.bytes.extend(text.chars().map(|c| {
            if (' '..='~').contains(&c) {
                c as u8
            } else {
                b'?'
            }
        }));
        self.bytes.push(b'\n');
        self
    }

    /// Bytes already in the printer's code page (with their `ESC t`), then a line feed.
    pub fn raw_line(mut self, bytes: &[u8]) -> Self {
        self.bytes.extend_from_slice(bytes);
        self.bytes.push(b'\n');
        self
    }

    /// `GS v 0`: a raster image, printed where it stands.
    pub fn raster(mut self, image: &Bitmap) -> Self {
        let xl = (image.width_bytes & 0xff) as u8;
        let xh = (image.width_bytes >> 8) as u8;
        let yl = (image.height & 0xff) as u8;
        let yh = (image.height >> 8) as u8;
        self.bytes
            .extend_from_slice(&[GS, b'v', b'0', 0, xl, xh, yl, yh]);
        self.bytes.extend_from_slice(&image.bits);
        self
    }

    /// `GS ( k`: a QR code (model 2, error correction M), stored and printed.
    pub fn qr(mut self, payload: &str, module_dots: u8) -> Self {
        let data = payload.as_bytes();
        let store_len = data.len() + 3;
        let (pl, ph) = ((store_len & 0xff) as u8, (store_len >> 8) as u8);
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]); // model 2
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, module_dots.clamp(1, 16)]);
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]); // ECC M
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', pl, ph, 49, 80, 48]);
        self.bytes.extend_from_slice(data);
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]); // print
        self
    }

    /// `ESC d n`: feeds n lines.
    pub fn feed(mut self, lines: u8) -> Self {
        self.bytes.extend_from_slice(&[ESC, b'd', lines]);
        self
    }

    /// `GS V 66 n`: feeds to the cutter and cuts, leaving a hinge where only partial cuts
    /// are supported.
    pub fn cut(mut self) -> Self {
        self.bytes.extend_from_slice(&[GS, b'V', 66, 3]);
        self
    }
}

/// `DLE EOT n`: real-time status request; the printer answers one byte at once.
pub fn status_request(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}
