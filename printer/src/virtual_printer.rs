//! A printer for the demo and the tests: the far end of a pseudo-terminal that decodes
//! the ESC/POS it receives, answers `DLE EOT` as an Epson does (with switchable paper-out
//! and cover-open faults), and draws each ticket to a PNG and a text dump.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};
use tracing::{info, warn};

use crate::escpos::{Align, Bitmap, DLE, EOT, ESC, FS, GS};
use crate::raster::render_line;

/// One thing the printer put on paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    Text {
        text: String,
        height: u8,
        bold: bool,
        align: Align,
    },
    Image {
        bitmap: Bitmap,
        align: Align,
    },
    Qr {
        payload: String,
        module: u8,
    },
    Feed(u8),
    Cut,
}

/// What a stretch of bytes asks of the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// `DLE EOT n`: the printer must answer a status byte.
    StatusRequest(u8),
    /// Everything up to and including a cut.
    Ticket(Vec<Element>),
}

/// Turns a byte stream into elements, across reads that split commands anywhere.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
    elements: Vec<Element>,
    line: String,
    align: Option<Align>,
    height: u8,
    bold: bool,
    qr_data: String,
    qr_module: u8,
    /// The code page selected with `ESC t`.
    page: u8,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Decoded> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            match self.command(at, &mut out) {
                Some(used) => at += used,
                None => break, // incomplete: wait for more bytes
            }
        }
        self.pending.drain(..at);
        out
    }

    /// Whether part of a ticket has come and its cut has not.
    pub fn mid_ticket(&self) -> bool {
        !self.pending.is_empty() || !self.elements.is_empty() || !self.line.is_empty()
    }

    fn align(&self) -> Align {
        self.align.unwrap_or(Align::Left)
    }

    fn end_line(&mut self) {
        let text = std::mem::take(&mut self.line);
        self.elements.push(Element::Text {
            text,
            height: self.height.max(1),
            bold: self.bold,
            align: self.align(),
        });
    }

    /// Decodes the command at `at`; the number of bytes it took, or None if incomplete.
    fn command(&mut self, at: usize, out: &mut Vec<Decoded>) -> Option<usize> {
        let b = &self.pending[at..];
        let need = |n: usize| (b.len() >= n).then_some(());
        match b[0] {
            DLE => {
                need(3)?;
                if b[1] == EOT {
                    out.push(Decoded::StatusRequest(b[2]));
                }
                Some(3)
            }
            ESC => {
                need(2)?;
                match b[1] {
                    b'@' => {
                        self.align = None;
                        self.height = 1;
                        self.bold = false;
                        self.page = 0;
                        Some(2)
                    }
                    b't' => {
                        need(3)?;
                        self.page = b[2];
                        Some(3)
                    }
                    b'a' => {
                        need(3)?;
                        self.align = Some(if b[2] == 1 {
                            Align::Center
                        } else {
                            Align::Left
                        });
                        Some(3)
                    }
                    b'E' => {
                        need(3)?;
                        self.bold = b[2] & 1 == 1;
                        Some(3)
                    }
                    b'd' => {
                        need(3)?;
                        self.elements.push(Element::Feed(b[2]));
                        Some(3)
                    }
                    _ => Some(2),
                }
            }
            FS => {
                need(2)?;
                Some(2)
            }
            GS => {
                need(2)?;
                match b[1] {
                    b'!' => {
                        need(3)?;
                        self.height = (b[2] & 0x0f) + 1;
                        Some(3)
                    }
                    b'V' => {
                        need(4)?;
                        if !self.line.is_empty() {
                            self.end_line();
                        }
                        self.elements.push(Element::Cut);
                        out.push(Decoded::Ticket(std::mem::take(&mut self.elements)));
                        Some(4)
                    }
                    b'v' => {
                        need(8)?;
                        let width_bytes = b[4] as usize | (b[5] as usize) << 8;
                        let height = b[6] as usize | (b[7] as usize) << 8;
                        let size = width_bytes * height;
                        need(8 + size)?;
                        self.elements.push(Element::Image {
                            bitmap: Bitmap {
                                width_bytes,
                                height,
                                bits: b[8..8 + size].to_vec(),
                            },
                            align: self.align(),
                        });
                        Some(8 + size)
                    }
                    b'(' => {
                        need(5)?;
                        let len = b[3] as usize | (b[4] as usize) << 8;
                        need(5 + len)?;
                        let params = &b[5..5 + len];
                        if b[2] == b'k' && params.len() >= 2 && params[0] == 49 {
                            match params[1] {
                                67 if params.len() >= 3 => self.qr_module = params[2],
                                80 => {
                                    self.qr_data =
                                        String::from_utf8_lossy(&params[3..]).into_owned()
                                }
                                81 => self.elements.push(Element::Qr {
                                    payload: std::mem::take(&mut self.qr_data),
                                    module: self.qr_module,
                                }),
                                _ => {}
                            }
                        }
                        Some(5 + len)
                    }
                    _ => Some(2),
                }
            }
            b'\n' => {
                self.end_line();
                Some(1)
            }
            c => {
                // Only the TCVN-3 pages are known here; other high bytes show as '?'.
                self.line
                    .push(crate::tcvn3::decode(self.page, c).unwrap_or('?'));
                Some(1)
            }
        }
    }
}

/// Faults to switch on and off while the printer runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    pub paper_out: bool,
    pub cover_open: bool,
    /// The printer says nothing at all (switched off, cable out).
    pub silent: bool,
    /// The printer takes no more bytes once a ticket has begun, as a slow line does: the
    /// driver's write waits in the middle of the ticket.
    pub stalled: bool,
}

impl Faults {
    /// The byte an Epson answers to `DLE EOT n` in this state.
    pub fn status_byte(&self, n: u8) -> u8 {
        let offline = self.paper_out || self.cover_open;
        match n {
            1 => 0x12 | if offline { 0x08 } else { 0 },
            2 => {
                0x12 | if self.cover_open { 0x04 } else { 0 }
                    | if self.paper_out { 0x20 } else { 0 }
            }
            4 => 0x12 | if self.paper_out { 0x6c } else { 0 },
            _ => 0x12,
        }
    }
}

/// A ticket that came out of the virtual printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub elements: Vec<Element>,
    pub png: Option<PathBuf>,
}

impl Printed {
    /// The ticket as text: native text lines as they are, images and QR codes described.
    pub fn dump(&self) -> String {
        self.elements
            .iter()
            .map(|e| match e {
                Element::Text { text, height, .. } if *height > 1 => format!("{text}  (x{height})"),
                Element::Text { text, .. } => text.clone(),
                Element::Image { bitmap, .. } => {
                    format!("[image {}x{}]", bitmap.width(), bitmap.height)
                }
                Element::Qr { payload, .. } => format!("[QR {payload}]"),
                Element::Feed(n) => format!("[feed {n}]"),
                Element::Cut => "[cut]".into(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub struct VirtualPrinter {
    /// The device the driver opens: the pseudo-terminal, e.g. `/dev/pts/4`, or the link
    /// to it given to [`VirtualPrinter::start_at`].
    pub path: String,
    pub printed: mpsc::Receiver<Printed>,
    /// `DLE EOT` requests answered or not, since the start.
    pub status_requests: Arc<AtomicU64>,
    link: Option<PathBuf>,
    shared: Shared,
    plugged: Option<Plugged>,
}

/// What every pseudo-terminal the printer is plugged in through shares.
#[derive(Clone)]
struct Shared {
    faults: Arc<Mutex<Faults>>,
    status_requests: Arc<AtomicU64>,
    tickets: Arc<AtomicUsize>,
    printed: mpsc::Sender<Printed>,
    png_dir: Option<PathBuf>,
    paper_dots: usize,
}

/// The printer's pseudo-terminal and the thread serving it.
struct Plugged {
    /// Held open so the pseudo-terminal stays usable while the driver reopens it.
    _driver_end: TTYPort,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl VirtualPrinter {
    /// Starts the printer on a new pseudo-terminal; tickets are drawn as PNGs into
    /// `png_dir` when given, `paper_dots` wide.
    pub fn start(
        png_dir: Option<PathBuf>,
        paper_dots: usize,
    ) -> serialport::Result<VirtualPrinter> {
        VirtualPrinter::new(None, png_dir, paper_dots)
    }

    /// Starts the printer behind the symbolic link `link`, as a USB adapter appears
    /// under `/dev/serial/by-id`: it can then be unplugged and plugged in again.
    pub fn start_at(
        link: &Path,
        png_dir: Option<PathBuf>,
        paper_dots: usize,
    ) -> serialport::Result<VirtualPrinter> {
        VirtualPrinter::new(Some(link.to_path_buf()), png_dir, paper_dots)
    }

    fn new(
        link: Option<PathBuf>,
        png_dir: Option<PathBuf>,
        paper_dots: usize,
    ) -> serialport::Result<VirtualPrinter> {
        let (tx, printed) = mpsc::channel();
        let shared = Shared {
            faults: Arc::new(Mutex::new(Faults::default())),
            status_requests: Arc::new(AtomicU64::new(0)),
            tickets: Arc::new(AtomicUsize::new(0)),
            printed: tx,
            png_dir,
            paper_dots,
        };
        let mut printer = VirtualPrinter {
            path: String::new(),
            printed,
            status_requests: shared.status_requests.clone(),
            link,
            shared,
            plugged: None,
        };
        printer.plug()?;
        info!(path = %printer.path, "virtual printer ready");
        Ok(printer)
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().expect("faults lock") = faults;
    }

    /// Pulls the cable: the pseudo-terminal closes and its link goes away.
    pub fn unplug(&mut self) {
        if let Some(plugged) = self.plugged.take() {
            plugged.stop.store(true, Ordering::Relaxed);
            let _ = plugged.thread.join();
        }
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }

    /// Plugs the printer in (again) on a new pseudo-terminal, behind the same link.
    pub fn plug(&mut self) -> serialport::Result<()> {
        self.unplug();
        let (mut printer_end, driver_end) = TTYPort::pair()?;
        let pty = driver_end.name().unwrap_or_default();
        printer_end.set_timeout(Duration::from_millis(50))?;
        self.path = match &self.link {
            Some(link) => {
                std::os::unix::fs::symlink(&pty, link)?;
                link.display().to_string()
            }
            None => pty,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopped) = (self.shared.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("virtual-printer".into())
            .spawn(move || serve(printer_end, shared, stopped))
            .expect("a thread can be spawned");
        self.plugged = Some(Plugged {
            _driver_end: driver_end,
            stop,
            thread,
        });
        Ok(())
    }
}

impl Drop for VirtualPrinter {
    fn drop(&mut self) {
        self.unplug();
    }
}

fn serve(mut port: TTYPort, shared: Shared, stop: Arc<AtomicBool>) {
    let mut decoder = Decoder::default();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        if shared.faults.lock().expect("faults lock").stalled && decoder.mid_ticket() {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let n = match port.read(&mut buf) {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => {
                // EIO or EPIPE while no driver has the other end open: wait for one.
                let no_driver =
                    e.kind() == std::io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(5);
                if !no_driver {
                    warn!(cause = %e, "virtual printer read failed");
                }
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let state = *shared.faults.lock().expect("faults lock");
        for decoded in decoder.push(&buf[..n]) {
            match decoded {
                Decoded::StatusRequest(request) => {
                    shared.status_requests.fetch_add(1, Ordering::Relaxed);
                    if !state.silent {
                        let _ = port.write_all(&[state.status_byte(request)]);
                    }
                }
                // A printer out of paper or with its cover open prints nothing.
                Decoded::Ticket(_) if state.paper_out || state.cover_open || state.silent => {}
                Decoded::Ticket(elements) => {
                    let count = shared.tickets.fetch_add(1, Ordering::Relaxed) + 1;
                    let png = shared
                        .png_dir
                        .as_ref()
                        .map(|dir| dir.join(format!("ticket-{count:04}.png")));
                    let printed = Printed { elements, png };
                    if let Some(path) = &printed.png {
                        let written = save_png(&draw(&printed.elements, shared.paper_dots), path)
                            .and_then(|()| {
                                std::fs::write(path.with_extension("txt"), printed.dump())
                            });
                        if let Err(e) = written {
                            warn!(cause = %e, path = %path.display(), "ticket image not written");
                        }
                    }
                    if shared.printed.send(printed).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// A grey image, 0 black and 255 white.
pub struct Paper {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Draws the elements of a ticket as the paper would show them.
pub fn draw(elements: &[Element], width: usize) -> Paper {
    let load = |bytes| {
        fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default())
            .expect("the bundled font parses")
    };
    let mono = load(dejavu::sans_mono::bold());
    // DejaVu Sans Mono lacks some Vietnamese letters (ố, ả, ẻ): such lines in Sans.
    let sans = load(dejavu::sans::bold());
    let mut blocks: Vec<(Bitmap, usize, Align)> = Vec::new(); // bitmap, scale, align
    for e in elements {
        match e {
            Element::Text {
                text,
                height,
                align,
                ..
            } => {
                // DejaVu Sans Mono at 20 px is 12 dots a character, like the printer's font A.
                let px = 20.0 * f32::from(*height);
                let line = if text.is_empty() { " " } else { text };
                let font = if line.chars().all(|c| mono.lookup_glyph_index(c) != 0) {
                    &mono
                } else {
                    &sans
                };
                blocks.push((render_line(font, line, px), 1, *align));
            }
            Element::Image { bitmap, align } => blocks.push((bitmap.clone(), 1, *align)),
            Element::Qr { payload, module } => {
                if let Ok(code) =
                    qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M)
                {
                    blocks.push((qr_bitmap(&code), usize::from(*module).max(1), Align::Center));
                }
            }
            Element::Feed(n) => blocks.push((blank(24 * usize::from(*n)), 1, Align::Left)),
            Element::Cut => {}
        }
    }
    let margin = 24;
    let height = margin * 2
        + blocks
            .iter()
            .map(|(b, s, _)| b.height * s + 4)
            .sum::<usize>();
    let mut paper = Paper {
        width,
        height,
        pixels: vec![255; width * height],
    };
    let mut y = margin;
    for (bitmap, scale, align) in blocks {
        let w = bitmap.width() * scale;
        let x0 = match align {
            Align::Center => width.saturating_sub(w) / 2,
            Align::Left => 0,
        };
        for by in 0..bitmap.height * scale {
            for bx in 0..w {
                if bitmap.is_black(bx / scale, by / scale) && x0 + bx < width {
                    paper.pixels[(y + by) * width + x0 + bx] = 0;
                }
            }
        }
        y += bitmap.height * scale + 4;
    }
    paper
}

fn blank(height: usize) -> Bitmap {
    Bitmap {
        width_bytes: 1,
        height,
        bits: vec![0; height],
    }
}

fn qr_bitmap(code: &qrcode::QrCode) -> Bitmap {
    let quiet = 2;
    let modules = code.width() + 2 * quiet;
    let width_bytes = modules.div_ceil(8);
    let mut bits = vec![0u8; width_bytes * modules];
    let colors = code.to_colors();
    for y in 0..code.width() {
        for x in 0..code.width() {
            if colors[y * code.width() + x] == qrcode::Color::Dark {
                let (px, py) = (x + quiet, y + quiet);
                bits[py * width_bytes + px / 8] |= 0x80 >> (px % 8);
            }
        }
    }
    Bitmap {
        width_bytes,
        height: modules,
        bits,
    }
}

pub fn save_png(paper: &Paper, path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        paper.width as u32,
        paper.height as u32,
    );
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
    writer
        .write_image_data(&paper.pixels)
        .map_err(std::io::Error::other)
}
