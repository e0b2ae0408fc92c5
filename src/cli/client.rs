//! How the client commands (`weft call`, `weft link`, `weft get`, `weft patch`,
//! `weft rollout`) find and talk to a node's API: `--cluster URL` (or `--api ADDR`), else
//! `WEFT_CLUSTER`, else the URL `weft cluster up` recorded (`DIR/cluster` under the
//! default cluster directory), else the address `weft run` listens on by default. Every
//! request has a timeout; a refusal prints the node's reason.

use crate::{Exit, Io};
use std::time::Duration;

/// Where `weft run` serves its API unless told otherwise (and the port is free).
pub const DEFAULT_API: &str = "127.0.0.1:7311";

/// The longest a request waits for its answer: a call may wait for a busy agent
/// (`call_wait_max`, 30 s) and then run a turn.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);

/// The longest connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The node or cluster to talk to (default: $WEFT_CLUSTER, else the cluster `weft
    /// cluster up` started, else http://127.0.0.1:7311).
    #[arg(long, value_name = "URL")]
    pub cluster: Option<String>,
    /// A node's API address, as `weft run` printed it (the same as --cluster).
    #[arg(long, value_name = "ADDR", conflicts_with = "cluster")]
    pub api: Option<String>,
}

impl Target {
    /// The base URL, without a trailing slash, always with a scheme.
    pub fn url(&self) -> String {
        let url = self
            .cluster
            .clone()
            .or_else(|| self.api.clone())
            .or_else(|| std::env::var("WEFT_CLUSTER").ok().filter(|u| !u.is_empty()))
            .or_else(recorded_cluster)
            .unwrap_or_else(|| format!("http://{DEFAULT_API}"));
        let url = url.trim_end_matches('/').to_string();
        if url.contains("://") {
            url
        } else {
            format!("http://{url}")
        }
    }

    /// The `host:port` part of the URL.
    pub fn authority(&self) -> Result<String, String> {
        let url = self.url();
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("`{url}` is not an http:// URL"))?;
        Ok(rest.split('/').next().unwrap_or(rest).to_string())
    }
}

/// The first line of the cluster file `weft cluster up` writes, if there is one.
fn recorded_cluster() -> Option<String> {
    let file = super::cluster::default_dir()?.join("cluster");
    let text = std::fs::read_to_string(file).ok()?;
    let url = text.lines().next()?.trim();
    (!url.is_empty()).then(|| url.to_string())
}

/// What an API request came back with.
pub enum Answer {
    /// 2xx, with its JSON body.
    Ok(serde_json::Value),
    /// 5xx from a method that failed, with the reason.
    Failed(String),
    /// 4xx (or another 5xx): the request was refused, with the reason.
    Refused(String),
    /// 409 or 422: refused with more to read than the reason (a breaking patch's diff, a
    /// REPL input's output before it trapped): the reason and the whole answer.
    Rejected(String, serde_json::Value),
}

fn client() -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())
}

fn unreachable(url: &str, e: reqwest::Error) -> String {
    if e.is_connect() {
        format!(
            "cannot reach a node at {url}: is `weft run --serve` running there? \
             (set --cluster or WEFT_CLUSTER)"
        )
    } else if e.is_timeout() {
        format!("{url} did not answer within {REQUEST_TIMEOUT:?}")
    } else {
        format!("{url}: {e}")
    }
}

fn answer(url: &str, r: reqwest::blocking::Response) -> Result<Answer, String> {
    let status = r.status();
    let body = r.text().map_err(|e| unreachable(url, e))?;
    let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    if status.is_success() {
        return json
            .map(Answer::Ok)
            .ok_or_else(|| format!("{url} answered with something that is not JSON"));
    }
    let reason = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(|e| e.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{status}: {}", body.trim()));
    if status == reqwest::StatusCode::CONFLICT
        || status == reqwest::StatusCode::UNPROCESSABLE_ENTITY
    {
        return Ok(Answer::Rejected(reason, json.unwrap_or_default()));
    }
    Ok(if status == reqwest::StatusCode::INTERNAL_SERVER_ERROR {
        Answer::Failed(reason)
    } else {
        Answer::Refused(reason)
    })
}

/// `DELETE {base}{path}`.
pub fn delete(target: &Target, path: &str) -> Result<Answer, String> {
    let url = format!("{}{path}", target.url());
    let r = client()?
        .delete(&url)
        .send()
        .map_err(|e| unreachable(&url, e))?;
    answer(&url, r)
}

/// `GET {base}{path}`.
pub fn get(target: &Target, path: &str) -> Result<Answer, String> {
    let url = format!("{}{path}", target.url());
    let r = client()?
        .get(&url)
        .send()
        .map_err(|e| unreachable(&url, e))?;
    answer(&url, r)
}

/// `POST {base}{path}` with a JSON body.
pub fn post(target: &Target, path: &str, body: &serde_json::Value) -> Result<Answer, String> {
    let url = format!("{}{path}", target.url());
    let r = client()?
        .post(&url)
        .json(body)
        .send()
        .map_err(|e| unreachable(&url, e))?;
    answer(&url, r)
}

/// `PUT {base}{path}` with a text body.
pub fn put_text(target: &Target, path: &str, body: String) -> Result<Answer, String> {
    let url = format!("{}{path}", target.url());
    let r = client()?
        .put(&url)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body)
        .send()
        .map_err(|e| unreachable(&url, e))?;
    answer(&url, r)
}

/// `GET {base}{path}` of bytes (a module).
pub fn get_bytes(target: &Target, path: &str) -> Result<Vec<u8>, String> {
    let url = format!("{}{path}", target.url());
    let r = client()?
        .get(&url)
        .send()
        .map_err(|e| unreachable(&url, e))?;
    if !r.status().is_success() {
        return Err(format!("{url}: {}", r.status()));
    }
    r.bytes()
        .map(|b| b.to_vec())
        .map_err(|e| unreachable(&url, e))
}

/// `POST {base}{path}` with bytes (a module) as the body.
pub fn post_bytes(target: &Target, path: &str, body: Vec<u8>) -> Result<Answer, String> {
    let url = format!("{}{path}", target.url());
    let r = client()?
        .post(&url)
        .header("content-type", "application/wasm")
        .body(body)
        .send()
        .map_err(|e| unreachable(&url, e))?;
    answer(&url, r)
}

/// The strings of the JSON array `v` (none when it is not one).
pub fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default()
}

/// Runs a request and turns an unreachable node or a refusal into an error exit.
pub fn expect_ok(io: &Io, r: Result<Answer, String>) -> Result<serde_json::Value, Exit> {
    match r {
        Ok(Answer::Ok(json)) => Ok(json),
        Ok(Answer::Failed(reason)) => {
            io.error(&format!("error: {reason}\n"));
            Err(Exit::Failure)
        }
        Ok(Answer::Refused(reason)) | Ok(Answer::Rejected(reason, _)) | Err(reason) => {
            io.error(&format!("error: {reason}\n"));
            Err(Exit::Error)
        }
    }
}
