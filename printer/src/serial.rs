//! The printer on a serial port: status asked with `DLE EOT`, tickets written only when
//! it says it can print them, and reported printed only when it still says so after.

use std::io::{Read, Write};
use std::time::Duration;

use serialport::SerialPort;

use qms_core::config::FlowControl;
use qms_core::protocol::PrinterFault;

use crate::escpos::status_request;
use crate::status::{BadStatus, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSettings {
    pub path: String,
    pub baud: u32,
    /// Flow control between the host and the printer.
    pub flow: FlowControl,
    /// How long a status answer or a write may take.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    #[error("cannot open the printer port {path}: {cause}")]
    Open {
        path: String,
        cause: serialport::Error,
    },
    #[error("the printer on {path} did not answer a status request within {} ms: is it on and connected?", waited.as_millis())]
    NoAnswer { path: String, waited: Duration },
    #[error("the printer cannot print: {}", describe(status))]
    NotReady { status: Status },
    #[error("the printer on {path} answered nonsense: {cause}")]
    BadStatus { path: String, cause: BadStatus },
    #[error("writing to the printer on {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
}

impl PrinterError {
    /// What the printer's status says of this error.
    pub fn faults(&self) -> Vec<PrinterFault> {
        match self {
            PrinterError::Open { .. } | PrinterError::Io { .. } => vec![PrinterFault::Unreachable],
            PrinterError::NoAnswer { .. } | PrinterError::BadStatus { .. } => {
                vec![PrinterFault::NoAnswer]
            }
            PrinterError::NotReady { status } => status.faults(),
        }
    }
}

/// The status in the driver's words.
pub fn describe(status: &Status) -> String {
    let mut parts = Vec::new();
    if status.paper == crate::status::Paper::Out {
        parts.push("out of paper");
    } else if status.paper == crate::status::Paper::NearEnd {
        parts.push("paper near its end");
    }
    if status.cover_open {
        parts.push("cover open");
    }
    if status.error {
        parts.push("mechanical or cutter error");
    }
    if !status.online {
        parts.push("offline");
    }
    if parts.is_empty() {
        "ready".into()
    } else {
        parts.join(", ")
    }
}

pub struct SerialPrinter {
    port: Box<dyn SerialPort>,
    path: String,
    timeout: Duration,
}

impl SerialPrinter {
    pub fn open(settings: &PortSettings) -> Result<SerialPrinter, PrinterError> {
        let flow = match settings.flow {
            FlowControl::None => serialport::FlowControl::None,
            FlowControl::XonXoff => serialport::FlowControl::Software,
            FlowControl::RtsCts => serialport::FlowControl::Hardware,
        };
        let port = serialport::new(&settings.path, settings.baud)
            .flow_control(flow)
            .timeout(settings.timeout)
            .open()
            .map_err(|cause| PrinterError::Open {
                path: settings.path.clone(),
                cause,
            })?;
        Ok(SerialPrinter {
            port,
            path: settings.path.clone(),
            timeout: settings.timeout,
        })
    }

    /// Asks `DLE EOT 1`, `2` and `4`, one at a time, each answered before the next.
    pub fn status(&mut self) -> Result<Status, PrinterError> {
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        let mut answers = [0u8; 3];
        for (answer, n) in answers.iter_mut().zip([1u8, 2, 4]) {
            self.write(&status_request(n))?;
            let mut byte = [0u8; 1];
            match self.port.read(&mut byte) {
                Ok(1) => *answer = byte[0],
                Ok(_) => return Err(self.no_answer()),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(self.no_answer()),
                Err(cause) => {
                    return Err(PrinterError::Io {
                        path: self.path.clone(),
                        cause,
                    })
                }
            }
        }
        Status::from_bytes(answers[0], answers[1], answers[2]).map_err(|cause| {
            PrinterError::BadStatus {
                path: self.path.clone(),
                cause,
            }
        })
    }

    /// Prints `bytes` if the printer is ready, and returns its status after them.
    pub fn print(&mut self, bytes: &[u8]) -> Result<Status, PrinterError> {
        self.ready()?;
        let after = self.write_ticket(bytes)?;
        if !after.ready() {
            return Err(PrinterError::NotReady { status: after });
        }
        Ok(after)
    }

    /// The status, or `NotReady` when it says the printer cannot print now.
    pub fn ready(&mut self) -> Result<Status, PrinterError> {
        let status = self.status()?;
        if status.ready() {
            Ok(status)
        } else {
            Err(PrinterError::NotReady { status })
        }
    }

    /// Writes a ticket's bytes and returns the status after them: the ticket counts as
    /// printed only when that is ready. Ask [`SerialPrinter::status`] first.
    pub fn write_ticket(&mut self, bytes: &[u8]) -> Result<Status, PrinterError> {
        self.write(bytes)?;
        self.status()
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        self.port
            .write_all(bytes)
            .and_then(|()| self.port.flush())
            .map_err(|cause| PrinterError::Io {
                path: self.path.clone(),
                cause,
            })
    }

    fn no_answer(&self) -> PrinterError {
        PrinterError::NoAnswer {
            path: self.path.clone(),
            waited: self.timeout,
        }
    }
}
