//! The nginx configuration for a set of services: pure text from data, no IO, so the
//! same services always give the same bytes and a pass can tell "nothing changed" by
//! comparing text.
//!
//! Everything nginx writes (pid, logs, temp files) is under the provider's directory,
//! which is why nginx runs without root and never touches `/etc/nginx` or `/var`.
//! Nothing from the store reaches the text unchecked: addresses are parsed as socket
//! addresses and handles are reduced to `[A-Za-z0-9_/.-]` before they are written.

use super::Service;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The most services one configuration serves; the rest (in handle order) are left out.
pub const SERVICES_MAX: usize = 256;
/// The most endpoints one service's upstream lists; the rest (in address order) are left
/// out.
pub const SERVICE_ENDPOINTS_MAX: usize = 64;
/// How long nginx waits to connect to an endpoint before it tries the next.
pub const PROXY_CONNECT_TIMEOUT_MS: u64 = 1000;
/// How long an endpoint that refused a connection is left out of its upstream.
pub const ENDPOINT_FAIL_TIMEOUT_S: u64 = 2;
/// How long old workers may finish their requests after a reload or a stop.
pub const WORKER_SHUTDOWN_TIMEOUT_S: u64 = 2;
/// The connections one worker holds at most.
pub const WORKER_CONNECTIONS_MAX: u32 = 1024;

/// The temp-path directives nginx knows and the subdirectory each gets; a binary built
/// without a module (`--without-http_uwsgi_module`) does not know its directive.
pub const TEMP_PATHS: [(&str, &str, &str); 5] = [
    ("client_body_temp_path", "client_body", ""),
    ("proxy_temp_path", "proxy", "http_proxy"),
    ("fastcgi_temp_path", "fastcgi", "http_fastcgi"),
    ("uwsgi_temp_path", "uwsgi", "http_uwsgi"),
    ("scgi_temp_path", "scgi", "http_scgi"),
];

/// What the machine gives a configuration: where nginx keeps its files, the host servers
/// listen on, the user workers run as, and the temp-path directives the binary knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    /// The provider's directory (absolute, checked by [`Setup::new`]).
    pub dir: PathBuf,
    /// `127.0.0.1`, `0.0.0.0`, `::1`: an IP address.
    pub listen_host: String,
    /// Set when the master runs as root (`root`): workers then run as root too, so they
    /// can reach the directory whatever its mode.
    pub user: Option<String>,
    /// The temp-path directives to write (see [`TEMP_PATHS`]).
    pub temp_paths: Vec<&'static str>,
}

impl Setup {
    /// A setup for `dir` (made absolute) and `listen_host`, with every temp path and no
    /// user; refuses a directory or host nginx's syntax could misread.
    pub fn new(dir: &Path, listen_host: &str) -> Result<Setup, String> {
        let dir = std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let text = dir
            .to_str()
            .ok_or_else(|| format!("{} is not UTF-8", dir.display()))?;
        if text
            .chars()
            .any(|c| "\"'\\$;{}#".contains(c) || c.is_control())
        {
            return Err(format!(
                "nginx cannot be given the directory {text}: it holds a quote, `\\`, `$`, \
                 `;`, `{{`, `}}`, `#` or a control character"
            ));
        }
        if listen_host.parse::<std::net::IpAddr>().is_err() {
            return Err(format!(
                "the listen host `{listen_host}` is not an IP address"
            ));
        }
        Ok(Setup {
            dir,
            listen_host: listen_host.to_string(),
            user: None,
            temp_paths: TEMP_PATHS.iter().map(|(d, _, _)| *d).collect(),
        })
    }

    /// A path under the directory, as nginx's config text quotes it.
    fn path(&self, rest: &str) -> String {
        format!("\"{}\"", self.dir.join(rest).display())
    }

    /// `HOST:PORT` as `listen` takes it (IPv6 in brackets).
    fn listen(&self, port: u16) -> String {
        match self.listen_host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(_)) => format!("[{}]:{port}", self.listen_host),
            _ => format!("{}:{port}", self.listen_host),
        }
    }
}

/// The whole configuration for `services` (already filtered to ready endpoints of live
/// nodes and sorted, see [`super::collect`]). A port two services ask for goes to the
/// first in handle order.
pub fn render(setup: &Setup, services: &[Service]) -> String {
    let mut out = String::new();
    head(&mut out, setup);
    let mut ports = std::collections::BTreeSet::new();
    for (i, s) in services.iter().enumerate() {
        let handle = clean(&s.handle);
        if i >= SERVICES_MAX {
            let _ = writeln!(
                out,
                "    # {handle}: left out, beyond {SERVICES_MAX} services"
            );
            continue;
        }
        if s.port == 0 || !ports.insert(s.port) {
            let _ = writeln!(out, "    # {handle}: left out, port {} taken", s.port);
            continue;
        }
        service(&mut out, setup, s, &handle);
    }
    out.push_str("}\n");
    out
}

fn head(out: &mut String, setup: &Setup) {
    out.push_str("# Written by weft's nginx load-balancer provider; rewritten on every change.\n");
    out.push_str("daemon off;\nworker_processes 1;\n");
    if let Some(user) = &setup.user {
        let _ = writeln!(out, "user {user};");
    }
    let _ = writeln!(out, "pid {};", setup.path("nginx.pid"));
    let _ = writeln!(out, "lock_file {};", setup.path("nginx.lock"));
    let _ = writeln!(out, "error_log {} notice;", setup.path("error.log"));
    let _ = writeln!(out, "worker_shutdown_timeout {WORKER_SHUTDOWN_TIMEOUT_S}s;");
    let _ = writeln!(
        out,
        "events {{ worker_connections {WORKER_CONNECTIONS_MAX}; }}"
    );
    out.push_str("http {\n");
    let _ = writeln!(out, "    access_log {};", setup.path("access.log"));
    for directive in &setup.temp_paths {
        if let Some((_, sub, _)) = TEMP_PATHS.iter().find(|(d, _, _)| d == directive) {
            let _ = writeln!(
                out,
                "    {directive} {};",
                setup.path(&format!("tmp/{sub}"))
            );
        }
    }
    out.push_str("    default_type text/plain;\n    server_tokens off;\n");
}

fn service(out: &mut String, setup: &Setup, s: &Service, handle: &str) {
    let listen = setup.listen(s.port);
    if s.endpoints.is_empty() {
        let _ = writeln!(out, "    # {handle}: no ready endpoint");
        let _ = writeln!(out, "    server {{\n        listen {listen};");
        let _ = writeln!(
            out,
            "        location / {{ return 503 \"no ready endpoint for {handle}\\n\"; }}"
        );
        out.push_str("    }\n");
        return;
    }
    let upstream = upstream_name(handle, s.port);
    let _ = writeln!(out, "    # {handle}\n    upstream {upstream} {{");
    for address in s.endpoints.iter().take(SERVICE_ENDPOINTS_MAX) {
        let _ = writeln!(
            out,
            "        server {address} max_fails=1 fail_timeout={ENDPOINT_FAIL_TIMEOUT_S}s;"
        );
    }
    out.push_str("    }\n");
    let _ = writeln!(
        out,
        "    server {{\n        listen {listen};\n        location / {{"
    );
    let _ = writeln!(out, "            proxy_pass http://{upstream};");
    out.push_str("            proxy_set_header Host $host;\n");
    out.push_str("            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n");
    let _ = writeln!(
        out,
        "            proxy_connect_timeout {PROXY_CONNECT_TIMEOUT_MS}ms;"
    );
    out.push_str("            proxy_next_upstream error timeout;\n");
    out.push_str("        }\n    }\n");
}

/// `handle` with anything outside `[A-Za-z0-9_/.-]` replaced by `_`.
fn clean(handle: &str) -> String {
    handle
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '/' | '.' | '-' => c,
            _ => '_',
        })
        .collect()
}

/// A service's upstream name: unique by port, readable by handle.
fn upstream_name(handle: &str, port: u16) -> String {
    let name: String = handle
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("weft_{name}_{port}")
}
