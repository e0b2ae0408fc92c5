//! Where a run's `print` goes: the process's stdout for the command line, a buffer for
//! tests, or any writer. A cheap handle, cloned into each run's store.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// A shared, line-oriented output sink.
#[derive(Clone)]
pub struct Output {
    sink: Arc<Mutex<Sink>>,
}

enum Sink {
    Stdout,
    Stderr,
    Buffer(Vec<u8>),
    Writer(Box<dyn Write + Send>),
}

impl Output {
    /// The process's standard output (flushed after every line, so output interleaves
    /// correctly with stderr and survives a trap).
    pub fn stdout() -> Output {
        Output::from_sink(Sink::Stdout)
    }

    /// The process's standard error.
    pub fn stderr() -> Output {
        Output::from_sink(Sink::Stderr)
    }

    /// An in-memory buffer; read it with [`Output::contents`] or [`Output::take`].
    pub fn buffer() -> Output {
        Output::from_sink(Sink::Buffer(Vec::new()))
    }

    /// Any writer.
    pub fn writer(w: impl Write + Send + 'static) -> Output {
        Output::from_sink(Sink::Writer(Box::new(w)))
    }

    fn from_sink(sink: Sink) -> Output {
        Output {
            sink: Arc::new(Mutex::new(sink)),
        }
    }

    /// Writes `text` as is.
    pub fn write_str(&self, text: &str) -> io::Result<()> {
        self.write_bytes(text.as_bytes())
    }

    /// Writes `text` and a newline.
    pub fn line(&self, text: &str) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        self.write_bytes(&bytes)
    }

    /// Writes raw bytes (a `print` of possibly invalid UTF-8 passes them through).
    pub fn write_bytes(&self, bytes: &[u8]) -> io::Result<()> {
        // A panic while holding the lock cannot leave a byte buffer inconsistent.
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *sink {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Sink::Stderr => {
                let mut err = io::stderr().lock();
                err.write_all(bytes)?;
                err.flush()
            }
            Sink::Buffer(buf) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
            Sink::Writer(w) => {
                w.write_all(bytes)?;
                w.flush()
            }
        }
    }

    /// What a buffer holds so far (lossily decoded); empty for the other sinks.
    pub fn contents(&self) -> String {
        let sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        match &*sink {
            Sink::Buffer(buf) => String::from_utf8_lossy(buf).into_owned(),
            _ => String::new(),
        }
    }

    /// Empties a buffer and returns what it held; empty for the other sinks.
    pub fn take(&self) -> String {
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *sink {
            Sink::Buffer(buf) => String::from_utf8_lossy(&std::mem::take(buf)).into_owned(),
            _ => String::new(),
        }
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        let kind = match &*sink {
            Sink::Stdout => "stdout",
            Sink::Stderr => "stderr",
            Sink::Buffer(_) => "buffer",
            Sink::Writer(_) => "writer",
        };
        write!(f, "Output({kind})")
    }
}
