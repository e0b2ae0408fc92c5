//! One nginx master as a child process: started in the foreground in a process group of
//! its own, every configuration checked with `nginx -t` before it is used, a changed one
//! applied by SIGHUP (and confirmed from the error log), stopped by SIGQUIT and then
//! SIGKILL to the whole group when dropped, so no master or worker is left behind.
//!
//! The master gets SIGTERM if the thread that started it ends (`PR_SET_PDEATHSIG`), so
//! a `weft` killed outright does not leave nginx serving a stale set: start it from the
//! thread that will drop it.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long `nginx -t` may take.
pub const CHECK_WAIT_MS: u64 = 5000;
/// How long a starting master may take to write its pid file.
pub const START_WAIT_MS: u64 = 5000;
/// How long a reload may take to start its new workers.
pub const RELOAD_WAIT_MS: u64 = 5000;
/// How long a graceful stop may take before the group is killed.
pub const STOP_WAIT_MS: u64 = 3000;
/// How often a wait looks again.
const POLL_MS: u64 = 10;
/// The most of nginx's messages a report carries.
const MESSAGE_MAX_BYTES: usize = 600;
/// The most a log may grow to before it is emptied.
pub const LOG_MAX_BYTES: u64 = 16 << 20;

/// A running nginx master (and its workers).
pub struct Nginx {
    child: Child,
    binary: PathBuf,
    dir: PathBuf,
}

impl Nginx {
    /// Checks `config`, writes it as `DIR/nginx.conf` and starts nginx on it; returns
    /// once the master has bound its ports (its pid file exists), or why it could not.
    pub fn start(binary: &Path, dir: &Path, config: &str) -> Result<Nginx, String> {
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| format!("{}: {e}", dir.display()))?;
        check(binary, dir, config)?;
        let conf = dir.join("nginx.conf");
        std::fs::rename(dir.join("nginx.conf.next"), &conf)
            .map_err(|e| format!("{}: {e}", conf.display()))?;
        let pid_file = dir.join("nginx.pid");
        let _ = std::fs::remove_file(&pid_file);
        let log_from = log_len(dir);
        let mut command = base(binary, dir, &conf);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of this process.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let mut nginx = Nginx {
            child,
            binary: binary.to_path_buf(),
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_millis(START_WAIT_MS);
        loop {
            if let Some(status) = nginx.exited() {
                let said = errors_since(dir, log_from);
                return Err(format!("nginx exited ({status}) on start: {said}"));
            }
            if pid_file.exists() {
                return Ok(nginx);
            }
            if Instant::now() >= deadline {
                let said = errors_since(dir, log_from);
                return Err(format!(
                    "nginx did not start within {START_WAIT_MS} ms: {said}"
                ));
            }
            std::thread::sleep(Duration::from_millis(POLL_MS));
        }
    }

    /// The master's process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Why the master ended, if it has.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// Checks `config` and, if nginx takes it, makes it the running one by a reload;
    /// returns once the new workers started, or why the running config was kept.
    pub fn apply(&mut self, config: &str) -> Result<(), String> {
        check(&self.binary, &self.dir, config)?;
        let conf = self.dir.join("nginx.conf");
        let kept = std::fs::read(&conf).unwrap_or_default();
        std::fs::rename(self.dir.join("nginx.conf.next"), &conf)
            .map_err(|e| format!("{}: {e}", conf.display()))?;
        let log_from = log_len(&self.dir);
        self.signal(libc::SIGHUP)?;
        let deadline = Instant::now() + Duration::from_millis(RELOAD_WAIT_MS);
        loop {
            let new = read_log_from(&self.dir, log_from);
            if new.contains("[emerg]") || new.contains("[alert]") {
                // The master kept the old config; keep the file saying what runs.
                let _ = std::fs::write(&conf, kept);
                return Err(format!("nginx refused the reload: {}", errors(&new)));
            }
            if new.contains("start worker process") {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(format!("nginx exited ({status}) on reload"));
            }
            if Instant::now() >= deadline {
                return Err(format!("nginx did not reload within {RELOAD_WAIT_MS} ms"));
            }
            std::thread::sleep(Duration::from_millis(POLL_MS));
        }
    }

    /// Empties the logs that outgrew [`LOG_MAX_BYTES`] (nginx appends, so it goes on
    /// writing at the new end).
    pub fn trim_logs(&self) {
        for name in ["access.log", "error.log"] {
            let path = self.dir.join(name);
            let big = std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_MAX_BYTES);
            if big {
                if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&path) {
                    let _ = f.set_len(0);
                }
            }
        }
    }

    fn signal(&self, signal: libc::c_int) -> Result<(), String> {
        let pid = libc::pid_t::try_from(self.child.id()).map_err(|e| e.to_string())?;
        // SAFETY: kill has no memory effects; the child is not reaped, so its pid is ours.
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(format!(
                "cannot signal nginx: {}",
                std::io::Error::last_os_error()
            ))
        }
    }

    /// SIGKILL to the master's whole process group (workers included).
    fn kill_group(&self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: as in `signal`; the group id is held while any member lives.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if self.exited().is_some() {
            // Workers of a master that died may still run.
            self.kill_group();
            return;
        }
        // A graceful stop: the master exits only after its workers did.
        let _ = self.signal(libc::SIGQUIT);
        let deadline = Instant::now() + Duration::from_millis(STOP_WAIT_MS);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(POLL_MS));
        }
        // Not reaped yet, so the group cannot have been reused.
        self.kill_group();
        let _ = self.child.wait();
    }
}

/// nginx with the provider's directory as its prefix, config and startup error log.
fn base(binary: &Path, dir: &Path, conf: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(conf)
        .arg("-e")
        .arg(dir.join("error.log"));
    command
}

/// Writes `config` to `DIR/nginx.conf.next` and has `nginx -t` check it.
pub fn check(binary: &Path, dir: &Path, config: &str) -> Result<(), String> {
    let next = dir.join("nginx.conf.next");
    std::fs::write(&next, config).map_err(|e| format!("{}: {e}", next.display()))?;
    let mut command = base(binary, dir, &next);
    command.arg("-t").arg("-q");
    let (ok, said) = bounded(command, binary, "-t")?;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "nginx -t refused the configuration: {}",
            errors(&said)
        ))
    }
}

/// The version line and modules of `binary` (`nginx -V`), bounded like a check.
pub fn version(binary: &Path) -> Result<String, String> {
    let mut command = Command::new(binary);
    command.arg("-V");
    bounded(command, binary, "-V").map(|(_, said)| said)
}

/// Runs `command` (nginx with `flag`) for at most [`CHECK_WAIT_MS`]: whether it
/// succeeded, and what it wrote to stderr (little: a pipe buffer holds it all, so it is
/// read once the process ended).
fn bounded(mut command: Command, binary: &Path, flag: &str) -> Result<(bool, String), String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let deadline = Instant::now() + Duration::from_millis(CHECK_WAIT_MS);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(POLL_MS))
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} {flag} took over {CHECK_WAIT_MS} ms",
                    binary.display()
                ));
            }
        }
    };
    let mut said = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut said);
    }
    Ok((status.success(), said))
}

fn log_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("error.log")).map_or(0, |m| m.len())
}

/// What the error log gained since `from` (all of it if it was emptied meanwhile).
fn read_log_from(dir: &Path, from: u64) -> String {
    let Ok(mut f) = std::fs::File::open(dir.join("error.log")) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let from = if len < from { 0 } else { from };
    let mut bytes = vec![];
    if f.seek(SeekFrom::Start(from)).is_ok() {
        let _ = f.take(LOG_MAX_BYTES).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn errors_since(dir: &Path, from: u64) -> String {
    errors(&read_log_from(dir, from))
}

/// The `[emerg]`, `[alert]` and `[crit]` lines of nginx's text (else its last line),
/// shortened to [`MESSAGE_MAX_BYTES`].
fn errors(text: &str) -> String {
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[emerg]") || l.contains("[alert]") || l.contains("[crit]"))
        .collect();
    let mut out = if bad.is_empty() {
        text.lines().last().unwrap_or("no message").to_string()
    } else {
        bad.join("; ")
    };
    if out.len() > MESSAGE_MAX_BYTES {
        let mut end = MESSAGE_MAX_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    out
}
