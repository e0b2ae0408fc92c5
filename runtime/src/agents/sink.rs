//! A linked connection's outbound side: each WARP frame encoded once as WebSocket bytes,
//! written straight to the socket by whoever has it, and queued only when the socket
//! would block.
//!
//! An event linked by a thousand clients is one [`Frame`], the same bytes for each (a
//! server's WebSocket frames are not masked). A [`Sink`] writes a frame to its socket at
//! once when nothing waits before it and the socket takes it; otherwise the frame joins
//! the sink's bounded queue, which the connection's writer empties as the socket drains
//! ([`Sink::flush`]). Frames leave in the order they were pushed, whoever pushes them.
//! So fanning an event out costs one non-blocking write per client, from one thread
//! ([`FanOut`]), rather than waking a task per client. A client that lets more than its
//! queue's bound wait is cut off: its connection closes with a reason.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;

/// The most queued frames one write hands the socket (`writev`'s slices).
const WRITE_FRAMES_MAX: usize = 64;

/// The most threads writing one job's frames (the fan-out thread and its helpers).
const FAN_OUT_THREADS_MAX: usize = 4;

/// The fewest sinks a share of a job gets: below this, splitting costs more than it saves.
const FAN_OUT_SHARE_MIN: usize = 64;

/// The most fan-out jobs (one committed turn's frames each) waiting for the fan-out
/// thread; a turn that finds it full waits (`fan_out_jobs_max`).
const FAN_OUT_JOBS_MAX: usize = 4096;

/// One WARP envelope as the WebSocket text frame carrying it, shared by every sink it
/// goes to.
#[derive(Clone, Debug)]
pub struct Frame(Arc<[u8]>);

impl Frame {
    /// The text frame carrying `envelope` (a WARP envelope's text).
    pub fn text(envelope: &str) -> Frame {
        Frame(crate::ws::text(envelope).into())
    }

    /// A close frame: `code` and `reason` (cut to what a close frame holds).
    pub fn close(code: u16, reason: &str) -> Frame {
        Frame(crate::ws::close(code, reason).into())
    }

    /// The pong answering a ping with `payload`.
    pub fn pong(payload: &[u8]) -> Frame {
        Frame(crate::ws::pong(payload).into())
    }

    /// The frame's bytes on the wire.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Where a sink writes: a socket that never blocks (it answers `WouldBlock` instead).
pub trait Wire: Send + Sync {
    /// Writes some of `bufs` without blocking; how many bytes went.
    fn try_write(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
}

/// A connection's outbound side, shared by all of its links.
#[derive(Clone)]
pub struct Sink {
    id: u64,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sink({})", self.id)
    }
}

struct Shared {
    out: Mutex<Out>,
    /// Frames wait for the connection's writer.
    queued: Notify,
    /// The sink was cut off or its socket failed: the connection should end.
    trouble: Notify,
    capacity: usize,
    wire: Arc<dyn Wire>,
}

struct Out {
    frames: VecDeque<Frame>,
    /// How much of the first queued frame the socket already took.
    written: usize,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Open,
    /// More than `capacity` frames waited: the client is too slow.
    Cut,
    /// The connection is closing: the close frame is the last one queued.
    Closing,
    /// The socket failed, or the close frame went.
    Gone,
}

/// What [`Sink::flush`] left.
#[derive(Debug, PartialEq, Eq)]
pub enum Flush {
    /// Nothing waits.
    Empty,
    /// The socket is full; flush again once it is writable.
    Blocked,
    /// Nothing more will be written: the close frame went, or the socket failed.
    Done,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Sink {
    /// A sink writing to `wire`, holding at most `capacity` frames while it blocks.
    pub fn new(capacity: usize, wire: Arc<dyn Wire>) -> Sink {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Sink {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            shared: Arc::new(Shared {
                out: Mutex::new(Out {
                    frames: VecDeque::new(),
                    written: 0,
                    state: State::Open,
                }),
                queued: Notify::new(),
                trouble: Notify::new(),
                capacity: capacity.max(1),
                wire,
            }),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends `frame` after every frame pushed before it; false when the connection is
    /// gone or too slow (then it is told, through [`Sink::trouble`]).
    pub fn push(&self, frame: &Frame) -> bool {
        let mut out = lock(&self.shared.out);
        if out.state != State::Open {
            return false;
        }
        if out.frames.is_empty() {
            match self.shared.wire.try_write(&[IoSlice::new(frame.bytes())]) {
                Ok(n) if n == frame.bytes().len() => return true,
                Ok(n) => out.written = n,
                Err(e) if would_block(&e) => {}
                Err(_) => {
                    out.state = State::Gone;
                    self.shared.trouble.notify_one();
                    return false;
                }
            }
        } else if out.frames.len() >= self.shared.capacity {
            out.state = State::Cut;
            self.shared.trouble.notify_one();
            return false;
        }
        out.frames.push_back(frame.clone());
        self.shared.queued.notify_one();
        true
    }

    /// Writes queued frames until none is left, the socket is full, or it fails.
    pub fn flush(&self) -> Flush {
        let mut out = lock(&self.shared.out);
        while !out.frames.is_empty() {
            let slices: Vec<IoSlice<'_>> = out
                .frames
                .iter()
                .take(WRITE_FRAMES_MAX)
                .enumerate()
                .map(|(i, f)| {
                    IoSlice::new(if i == 0 {
                        &f.bytes()[out.written..]
                    } else {
                        f.bytes()
                    })
                })
                .collect();
            let wrote = self.shared.wire.try_write(&slices);
            drop(slices);
            match wrote {
                Ok(0) => return self.failed(&mut out),
                Ok(mut n) => {
                    while let Some(f) = out.frames.front() {
                        let left = f.bytes().len() - out.written;
                        if n < left {
                            out.written += n;
                            break;
                        }
                        n -= left;
                        out.written = 0;
                        out.frames.pop_front();
                    }
                }
                Err(e) if would_block(&e) => return Flush::Blocked,
                Err(_) => return self.failed(&mut out),
            }
        }
        if out.state == State::Closing {
            out.state = State::Gone;
        }
        match out.state {
            State::Gone => Flush::Done,
            _ => Flush::Empty,
        }
    }

    fn failed(&self, out: &mut Out) -> Flush {
        out.state = State::Gone;
        out.frames.clear();
        self.shared.trouble.notify_one();
        Flush::Done
    }

    /// Resolves when frames wait for [`Sink::flush`] (or already did since the last
    /// flush).
    pub async fn queued(&self) {
        self.shared.queued.notified().await
    }

    /// The signal that the sink was cut off or its socket failed.
    pub fn trouble(&self) -> &Notify {
        &self.shared.trouble
    }

    /// Whether the sink was cut off for holding more than its bound.
    pub fn cut(&self) -> bool {
        lock(&self.shared.out).state == State::Cut
    }

    /// Ends the sink: no frame is pushed after this. With a close frame, the frames
    /// waiting are dropped (except the rest of one half written) and the close frame is
    /// queued last for the writer; without, nothing more is written.
    pub fn close(&self, frame: Option<Frame>) {
        let mut out = lock(&self.shared.out);
        if matches!(out.state, State::Closing | State::Gone) {
            return;
        }
        let keep = usize::from(out.written > 0);
        out.frames.truncate(keep);
        match frame {
            Some(f) => {
                out.frames.push_back(f);
                out.state = State::Closing;
            }
            None => {
                out.frames.clear();
                out.state = State::Gone;
            }
        }
        self.shared.queued.notify_one();
    }
}

/// A turn's frames on their way: each frame with the sinks linked to its lane then.
pub(crate) type Job = Vec<(Frame, Arc<Vec<Sink>>)>;

/// Some of a job: frames, each with a range of its sinks.
type Part = Vec<(Frame, Arc<Vec<Sink>>, Range<usize>)>;

/// The thread that writes committed turns' events to their sinks, in commit order, so a
/// turn does not wait for a thousand sockets. It ends when its sender is dropped.
///
/// A loopback TCP write costs a few microseconds (the kernel delivers the segment to
/// the receiving socket within the `write`), so a job for many sinks is split among the
/// fan-out thread and a helper per further core, each writing a contiguous share; the
/// next job starts once every share is written, so each sink still gets its frames in
/// commit order.
pub(crate) struct FanOut {
    jobs: mpsc::SyncSender<Job>,
}

impl FanOut {
    /// Starts the fan-out thread and its helpers; `None` if no thread could be started.
    pub fn start() -> Option<FanOut> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let helpers: Vec<mpsc::Sender<(Part, mpsc::Sender<()>)>> = (1..cores
            .min(FAN_OUT_THREADS_MAX))
            .filter_map(|i| {
                let (tx, rx) = mpsc::channel::<(Part, mpsc::Sender<()>)>();
                std::thread::Builder::new()
                    .name(format!("weft-fan-out-{i}"))
                    .spawn(move || {
                        while let Ok((part, done)) = rx.recv() {
                            write_part(&part);
                            let _ = done.send(());
                        }
                    })
                    .ok()
                    .map(|_| tx)
            })
            .collect();
        let (jobs, rx) = mpsc::sync_channel::<Job>(FAN_OUT_JOBS_MAX);
        std::thread::Builder::new()
            .name("weft-fan-out".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    write_shared(job, &helpers);
                }
            })
            .ok()?;
        Some(FanOut { jobs })
    }

    /// Queues `job` after every job queued before it (waiting while the queue is full);
    /// writes it here if the thread is gone.
    pub fn send(&self, job: Job) {
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            write_job(&job);
        }
    }
}

/// Writes `job`, sharing it with `helpers` when it is big enough to be worth it; returns
/// once all of it is written.
fn write_shared(job: Job, helpers: &[mpsc::Sender<(Part, mpsc::Sender<()>)>]) {
    let sinks: usize = job.iter().map(|(_, s)| s.len()).sum();
    let shares = (helpers.len() + 1).min(sinks / FAN_OUT_SHARE_MIN).max(1);
    if shares == 1 {
        return write_job(&job);
    }
    let mut parts: Vec<Part> = (0..shares).map(|_| Vec::new()).collect();
    for (frame, sinks) in job {
        let n = sinks.len();
        for (i, part) in parts.iter_mut().enumerate() {
            let range = n * i / shares..n * (i + 1) / shares;
            if !range.is_empty() {
                part.push((frame.clone(), sinks.clone(), range));
            }
        }
    }
    let (done, finished) = mpsc::channel();
    let mine = parts.remove(0);
    let mut waiting = 0;
    for (part, helper) in parts.into_iter().zip(helpers) {
        match helper.send((part, done.clone())) {
            Ok(()) => waiting += 1,
            Err(mpsc::SendError((part, _))) => write_part(&part),
        }
    }
    write_part(&mine);
    for _ in 0..waiting {
        if finished.recv().is_err() {
            break;
        }
    }
}

/// Pushes each frame to each of its sinks.
fn write<'a>(frames: impl IntoIterator<Item = (&'a Frame, &'a [Sink])>) {
    for (frame, sinks) in frames {
        for s in sinks {
            s.push(frame);
        }
    }
}

/// Writes a whole job here.
pub(crate) fn write_job(job: &Job) {
    write(job.iter().map(|(f, s)| (f, s.as_slice())));
}

fn write_part(part: &Part) {
    write(part.iter().map(|(f, s, r)| (f, &s[r.clone()])));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that takes `room` bytes (then blocks until given more), or fails.
    #[derive(Default)]
    struct Pipe {
        got: Mutex<Vec<u8>>,
        room: Mutex<usize>,
        broken: std::sync::atomic::AtomicBool,
    }

    impl Wire for Pipe {
        fn try_write(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            if self.broken.load(Ordering::SeqCst) {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let mut room = lock(&self.room);
            if *room == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(*room);
                lock(&self.got).extend_from_slice(&b[..take]);
                *room -= take;
                n += take;
                if *room == 0 {
                    break;
                }
            }
            Ok(n)
        }
    }

    fn pipe(room: usize) -> Arc<Pipe> {
        let p = Arc::new(Pipe::default());
        *lock(&p.room) = room;
        p
    }

    /// The text envelopes in `bytes`, a run of whole server frames.
    fn envelopes(mut bytes: &[u8]) -> Vec<String> {
        let mut out = vec![];
        while !bytes.is_empty() {
            let p = crate::ws::payload(bytes).expect("a whole frame");
            let start = p.as_ptr() as usize - bytes.as_ptr() as usize;
            out.push(String::from_utf8(p.to_vec()).expect("text"));
            bytes = &bytes[start + p.len()..];
        }
        out
    }

    #[test]
    fn frames_go_straight_to_a_socket_with_room() {
        let p = pipe(1 << 20);
        let s = Sink::new(4, p.clone());
        for i in 0..10 {
            assert!(s.push(&Frame::text(&format!("@event(node:a,lane:n){i}"))));
        }
        assert_eq!(envelopes(&lock(&p.got)).len(), 10);
        assert_eq!(s.flush(), Flush::Empty);
    }

    #[test]
    fn a_blocked_socket_gets_the_rest_in_order_once_it_drains() {
        let p = pipe(7);
        let s = Sink::new(100, p.clone());
        let sent: Vec<String> = (0..20)
            .map(|i| format!("@event(node:a,lane:n){i}"))
            .collect();
        for e in &sent {
            assert!(s.push(&Frame::text(e)));
        }
        assert_eq!(s.flush(), Flush::Blocked);
        for _ in 0..100 {
            *lock(&p.room) = 13;
            if s.flush() == Flush::Empty {
                break;
            }
        }
        assert_eq!(envelopes(&lock(&p.got)), sent);
    }

    #[test]
    fn a_client_letting_too_much_wait_is_cut_off_and_told_why_first() {
        let p = pipe(0);
        let s = Sink::new(3, p.clone());
        for i in 0..3 {
            assert!(s.push(&Frame::text(&format!("{i}"))));
        }
        assert!(
            !s.push(&Frame::text("3")),
            "the fourth waiting frame is refused"
        );
        assert!(s.cut());
        assert!(!s.push(&Frame::text("4")));
        s.close(Some(Frame::close(1008, "too slow")));
        *lock(&p.room) = 1 << 20;
        assert_eq!(s.flush(), Flush::Done);
        let got = lock(&p.got).clone();
        assert_eq!(
            crate::ws::payload(&got).map(|p| &p[..2]),
            Some(&1008u16.to_be_bytes()[..])
        );
    }

    #[test]
    fn a_half_written_frame_is_finished_before_the_close() {
        let p = pipe(3);
        let s = Sink::new(8, p.clone());
        assert!(s.push(&Frame::text("@event(node:a,lane:n)1")));
        assert!(s.push(&Frame::text("@event(node:a,lane:n)2")));
        s.close(Some(Frame::close(1001, "stopping")));
        *lock(&p.room) = 1 << 20;
        assert_eq!(s.flush(), Flush::Done);
        let got = lock(&p.got).clone();
        let first = Frame::text("@event(node:a,lane:n)1");
        assert_eq!(&got[..first.bytes().len()], first.bytes());
        assert_eq!(
            &got[first.bytes().len()..],
            Frame::close(1001, "stopping").bytes()
        );
    }

    #[test]
    fn a_failed_socket_refuses_more_and_says_so() {
        let p = pipe(1 << 20);
        let s = Sink::new(8, p.clone());
        p.broken.store(true, Ordering::SeqCst);
        assert!(!s.push(&Frame::text("x")));
        assert!(!s.push(&Frame::text("y")));
        assert_eq!(s.flush(), Flush::Done);
    }
}
