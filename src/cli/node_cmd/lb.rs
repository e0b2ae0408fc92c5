//! The nginx load-balancer provider: the endpoints loop that keeps a real nginx serving
//! exactly the ready endpoints of every HttpService exposed through it.
//!
//! # Keys it reads (the contract with the HttpService instances)
//! - `/resources/PROGRAM/NAME` with `kind == "HttpService"` ([`kinds::list`]): its
//!   settings hold `("port", P)`, the port nginx listens on for it, and `("expose", E)`:
//!   1 is exposed through this provider, anything else is not (skipped).
//! - `/endpoints/PROGRAM/NAME/R` (R the replica): JSON `{"node": "node-2", "address":
//!   "127.0.0.1:41234", "ready": true}`, written by the node that runs the replica.
//! - `/registry/leases/NODE`: the node is alive while it exists ([`registry::LEASES`]).
//!
//! An endpoint counts when it is ready, its node is alive and its address is a socket
//! address. It never writes to the store.
//!
//! # How it runs
//! Every [`TICK`] the loop reads those keys, renders the configuration
//! (`render.rs`: one upstream and one server per exposed service; a service without a
//! ready endpoint answers 503 at once) and, when the text changed, applies it to its nginx
//! (`nginx.rs`: `nginx -t` first, then a reload; a refused text is reported and the
//! running one kept, and not tried again until the text changes). An nginx that exited is
//! started again, after a back-off from one tick doubling to [`RESTART_WAIT_MAX_MS`].
//! It says one line on its output when it applies a change or something fails (each
//! failure once, until something else happens). nginx's files, logs and temp paths are all
//! under the provider's directory.

mod nginx;
mod render;
#[cfg(test)]
mod tests;

pub use nginx::Nginx;
pub use render::{render, Setup};

use super::registry;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use weft_resources::kinds::{self, Kv, Record};
use weft_runtime::Output;

/// Where endpoints live.
pub const ENDPOINTS: &str = "/endpoints/";
/// How often the loop looks again.
pub const TICK: Duration = Duration::from_millis(100);
/// The most endpoint keys one pass reads.
pub const ENDPOINTS_READ_MAX: usize = render::SERVICES_MAX * render::SERVICE_ENDPOINTS_MAX;
/// The longest wait between two starts of an nginx that keeps exiting.
pub const RESTART_WAIT_MAX_MS: u64 = 5000;

/// One exposed service as nginx serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// `PROGRAM/NAME`.
    pub handle: String,
    /// The port nginx listens on for it.
    pub port: u16,
    /// Its ready endpoints on live nodes, sorted, each once.
    pub endpoints: Vec<String>,
}

/// One replica's endpoint, as its node writes it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Endpoint {
    #[serde(default)]
    pub node: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub ready: bool,
}

fn setting(r: &Record, name: &str) -> Option<i64> {
    r.settings.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// The exposed services with their ready endpoints on `alive` nodes, in handle order;
/// `endpoints` is `(handle, endpoint)`. Pure, so the filtering is tested without a store.
pub fn collect(
    records: &[Record],
    endpoints: &[(String, Endpoint)],
    alive: &BTreeSet<String>,
) -> Vec<Service> {
    let mut by_handle: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (handle, e) in endpoints {
        let address = e.address.parse::<std::net::SocketAddr>();
        if let (true, true, Ok(address)) = (e.ready, alive.contains(&e.node), address) {
            by_handle
                .entry(handle)
                .or_default()
                .insert(address.to_string());
        }
    }
    let mut out: Vec<Service> = records
        .iter()
        .filter(|r| r.kind == "HttpService" && setting(r, "expose") == Some(1))
        .filter_map(|r| {
            let port = u16::try_from(setting(r, "port")?).ok()?;
            let handle = r.handle();
            let endpoints = by_handle.get(handle.as_str()).cloned().unwrap_or_default();
            Some(Service {
                handle,
                port,
                endpoints: endpoints.into_iter().collect(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.handle.cmp(&b.handle));
    out
}

/// The names of the nodes whose heartbeat lease lives.
fn alive(kv: &dyn Kv) -> Result<BTreeSet<String>, String> {
    Ok(kv
        .range(registry::LEASES.as_bytes(), None)?
        .into_iter()
        .filter_map(|p| {
            let key = String::from_utf8(p.key).ok()?;
            key.strip_prefix(registry::LEASES).map(String::from)
        })
        .collect())
}

/// The endpoints under `prefix` as `(handle, endpoint)`; unreadable ones are left out.
fn endpoints(kv: &dyn Kv, prefix: &str) -> Result<Vec<(String, Endpoint)>, String> {
    Ok(kv
        .range(prefix.as_bytes(), Some(ENDPOINTS_READ_MAX))?
        .into_iter()
        .filter_map(|p| {
            let key = String::from_utf8(p.key).ok()?;
            let (handle, _replica) = key.strip_prefix(ENDPOINTS)?.rsplit_once('/')?;
            let e: Endpoint = serde_json::from_slice(&p.value).ok()?;
            Some((handle.to_string(), e))
        })
        .collect())
}

/// One pass's reading: every exposed service with its ready endpoints.
pub fn read(kv: &dyn Kv) -> Result<Vec<Service>, String> {
    let records = kinds::list(kv, None)?;
    let found = endpoints(kv, ENDPOINTS)?;
    Ok(collect(&records, &found, &alive(kv)?))
}

/// The addresses nginx would send `handle`'s requests to now (for `weft describe`).
pub fn upstreams(kv: &dyn Kv, handle: &str) -> Result<Vec<String>, String> {
    let found = endpoints(kv, &format!("{ENDPOINTS}{handle}/"))?;
    let alive = alive(kv)?;
    let mut out: Vec<String> = found
        .into_iter()
        .filter(|(h, e)| h == handle && e.ready && alive.contains(&e.node))
        .filter_map(|(_, e)| e.address.parse::<std::net::SocketAddr>().ok())
        .map(|a| a.to_string())
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The loop running on a thread of its own; dropping it stops the loop and its nginx.
pub struct Lb {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Lb {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the endpoints loop: nginx (`nginx`, a path or a name on PATH) kept in `dir`,
/// serving every exposed service on `listen_host:PORT`. Refuses a directory or host nginx
/// could misread, or a binary that does not run.
pub fn start(
    kv: Arc<dyn Kv>,
    dir: PathBuf,
    nginx: PathBuf,
    listen_host: String,
    output: Output,
) -> Result<Lb, String> {
    let setup = setup_for(&nginx, &dir, &listen_host)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("weft-lb-nginx".into())
        .spawn(move || {
            let mut provider = Provider::new(nginx, setup, output);
            while !flag.load(Ordering::Relaxed) {
                provider.pass(&*kv);
                std::thread::sleep(TICK);
            }
            // Dropping the provider stops nginx, from the thread that started it.
            drop(provider);
        })
        .map_err(|e| format!("cannot start the load-balancer loop: {e}"))?;
    Ok(Lb {
        stop,
        thread: Some(thread),
    })
}

/// The setup for `binary`: its temp-path directives, and `user root` when run as root.
pub fn setup_for(binary: &Path, dir: &Path, listen_host: &str) -> Result<Setup, String> {
    let mut setup = Setup::new(dir, listen_host)?;
    let modules = nginx::version(binary)?;
    setup.temp_paths = render::TEMP_PATHS
        .iter()
        .filter(|(_, _, module)| {
            module.is_empty() || !modules.contains(&format!("--without-{module}_module"))
        })
        .map(|(directive, _, _)| *directive)
        .collect();
    // SAFETY: geteuid cannot fail and has no memory effects.
    if unsafe { libc::geteuid() } == 0 {
        setup.user = Some("root".to_string());
    }
    Ok(setup)
}

/// The loop's state between passes.
struct Provider {
    binary: PathBuf,
    setup: Setup,
    output: Output,
    nginx: Option<Nginx>,
    /// The text nginx runs.
    applied: Option<String>,
    /// The last text nginx refused: not tried again until the text changes.
    refused: Option<String>,
    /// The last failure said, so each is said once.
    said: Option<String>,
    restart_at: Instant,
    restart_wait_ms: u64,
}

impl Provider {
    fn new(binary: PathBuf, setup: Setup, output: Output) -> Provider {
        Provider {
            binary,
            setup,
            output,
            nginx: None,
            applied: None,
            refused: None,
            said: None,
            restart_at: Instant::now(),
            restart_wait_ms: TICK.as_millis() as u64,
        }
    }

    fn pass(&mut self, kv: &dyn Kv) {
        let services = match read(kv) {
            Ok(s) => s,
            Err(e) => return self.fail(format!("lb nginx: cannot read the endpoints: {e}")),
        };
        let text = render(&self.setup, &services);
        if let Some(status) = self.nginx.as_mut().and_then(Nginx::exited) {
            self.nginx = None;
            self.applied = None;
            self.fail(format!(
                "lb nginx: nginx exited ({status}); starting it again"
            ));
        }
        let unchanged =
            self.refused.as_ref() == Some(&text) || self.applied.as_ref() == Some(&text);
        if let (Some(n), true) = (&self.nginx, unchanged) {
            n.trim_logs();
            return;
        }
        let summary = summary(&services);
        match &mut self.nginx {
            Some(n) => match n.apply(&text) {
                Ok(()) => self.applied(text, summary),
                Err(e) => self.refuse(text, e),
            },
            None if Instant::now() < self.restart_at => {}
            None => match Nginx::start(&self.binary, &self.setup.dir, &text) {
                Ok(n) => {
                    self.nginx = Some(n);
                    self.restart_wait_ms = TICK.as_millis() as u64;
                    self.applied(text, summary);
                }
                Err(e) => {
                    self.restart_at = Instant::now() + Duration::from_millis(self.restart_wait_ms);
                    self.restart_wait_ms = (self.restart_wait_ms * 2).min(RESTART_WAIT_MAX_MS);
                    self.fail(format!("lb nginx: cannot start nginx: {e}"));
                }
            },
        }
    }

    fn applied(&mut self, text: String, summary: String) {
        self.applied = Some(text);
        self.refused = None;
        self.said = None;
        let _ = self.output.line(&format!("lb nginx: serving {summary}"));
    }

    fn refuse(&mut self, text: String, why: String) {
        self.refused = Some(text);
        self.fail(format!("lb nginx: kept the running configuration: {why}"));
    }

    /// Says `what` unless it was the last thing said.
    fn fail(&mut self, what: String) {
        if self.said.as_ref() != Some(&what) {
            let _ = self.output.line(&what);
            self.said = Some(what);
        }
    }
}

/// `a/web :8080 (2 endpoints), b/api :8081 (none)`.
fn summary(services: &[Service]) -> String {
    if services.is_empty() {
        return "no exposed service".to_string();
    }
    let parts: Vec<String> = services
        .iter()
        .map(|s| match s.endpoints.len() {
            0 => format!("{} :{} (no ready endpoint)", s.handle, s.port),
            1 => format!("{} :{} (1 endpoint)", s.handle, s.port),
            n => format!("{} :{} ({n} endpoints)", s.handle, s.port),
        })
        .collect();
    parts.join(", ")
}
