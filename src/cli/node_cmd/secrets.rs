//! Secrets: their values sealed (ChaCha20-Poly1305) before they reach the store, so the
//! replicated store, its log and its snapshots only ever hold ciphertext, and opened
//! only in the instance of code on the cluster that captured the Secret.
//!
//! The key: a node started with the cluster's bootstrap token derives it from the token
//! (every controller and worker is started with it); `weft run`'s embedded cluster keeps
//! a random one in `DATA/cluster/secrets.key`, readable by its owner only. A sealed
//! value is a 12-byte random nonce and the ciphertext with its tag; the Secret's handle
//! is the associated data, so a value copied to another Secret does not open.

use super::api::{error, Node};
use super::programs::{answer, blocking, refused};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::Response;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::OnceLock;
use weft_resources::kinds;
use weft_resources::Command;

/// The longest value a Secret holds.
pub const VALUE_LEN_MAX: usize = 64 * 1024;
const NONCE_LEN: usize = 12;

static KEY: OnceLock<[u8; 32]> = OnceLock::new();

/// Sets this process's key from the cluster's bootstrap token (once).
pub fn key_from_token(token: &str) {
    let _ = KEY.set(blake3::derive_key(
        "weft 2026-11 secrets v1",
        token.as_bytes(),
    ));
}

/// Sets this process's key from the file at `path`, made with a random key if missing.
pub fn key_from_file(path: &Path) -> Result<(), String> {
    let key = match std::fs::read(path) {
        Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| format!("{}: not a 32-byte key", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random::<32>()?;
            write_private(path, &key)?;
            key
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let _ = KEY.set(key);
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    use std::io::Read;
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(bytes)
}

fn cipher() -> Result<ChaCha20Poly1305, String> {
    let key = KEY
        .get()
        .ok_or("this node has no key for Secrets: start it with the cluster's token (--token)")?;
    Ok(ChaCha20Poly1305::new(Key::from_slice(key)))
}

/// `value` sealed for the Secret `handle`.
pub fn seal(handle: &str, value: &[u8]) -> Result<Vec<u8>, String> {
    if value.len() > VALUE_LEN_MAX {
        return Err(format!("a Secret holds at most {VALUE_LEN_MAX} bytes"));
    }
    let nonce = random::<NONCE_LEN>()?;
    let sealed = cipher()?
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: value,
                aad: handle.as_bytes(),
            },
        )
        .map_err(|_| "cannot seal the value".to_string())?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Ok(out)
}

/// The value sealed for the Secret `handle`.
pub fn open(handle: &str, sealed: &[u8]) -> Result<Vec<u8>, String> {
    if sealed.len() < NONCE_LEN {
        return Err(format!("the value of {handle} is cut short"));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    cipher()?
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: handle.as_bytes(),
            },
        )
        .map_err(|_| format!("the value of {handle} does not open with this node's key"))
}

/// Where the sealed value of Secret `handle` is kept: with its data, so releasing the
/// Secret removes it.
pub fn value_key(handle: &str) -> Vec<u8> {
    let mut k = weft_resources::kinds::data_prefix(handle);
    k.extend_from_slice(b"value");
    k
}

/// `PUT /api/v1/secrets/{program}/{name}`: the body (UTF-8 text) becomes the value of
/// that program's Secret, which its `main` must have allocated; it is sealed here and
/// only the sealed bytes are written. The value is never sent back.
pub async fn set_route(
    State(node): State<Arc<Node>>,
    UrlPath((program, name)): UrlPath<(String, String)>,
    body: Bytes,
) -> Response {
    let handle = format!("{program}/{name}");
    if body.len() > VALUE_LEN_MAX {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a Secret holds at most {VALUE_LEN_MAX} bytes"),
        );
    }
    if std::str::from_utf8(&body).is_err() {
        return error(
            StatusCode::BAD_REQUEST,
            "a Secret's value is text (UTF-8)".into(),
        );
    }
    answer(
        blocking(&node, move |kv| {
            let unavailable = |e: String| refused(StatusCode::SERVICE_UNAVAILABLE, e);
            match kinds::get(&*kv, &program, &name).map_err(unavailable)? {
                Some((r, _)) if r.kind == "Secret" => {}
                Some((r, _)) => {
                    return Err(refused(
                        StatusCode::CONFLICT,
                        format!("{handle} is a {}, not a Secret", r.kind),
                    ))
                }
                None => {
                    return Err(refused(
                        StatusCode::NOT_FOUND,
                        format!("no Secret {handle}: a program's `main` allocates it with `new Secret(\"{name}\")`"),
                    ))
                }
            }
            let sealed = seal(&handle, &body)
                .map_err(|e| refused(StatusCode::SERVICE_UNAVAILABLE, e))?;
            let reply = kv
                .write(Command::Put {
                    key: value_key(&handle),
                    value: sealed,
                    lease: None,
                    prev_kv: false,
                })
                .map_err(unavailable)?;
            Ok(json!({ "secret": handle, "revision": reply.revision }))
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_secret_and_holds_no_clear_text() {
        key_from_token("a token for the test");
        let sealed = seal("p/db", b"hunter2").expect("sealed");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(open("p/db", &sealed).expect("opened"), b"hunter2");
        assert!(open("p/other", &sealed).is_err());
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open("p/db", &bad).is_err());
        assert!(open("p/db", &sealed[..5]).is_err());
        // Each sealing has its own nonce.
        assert_ne!(seal("p/db", b"hunter2").expect("sealed"), sealed);
        assert!(seal("p/db", &vec![0; VALUE_LEN_MAX + 1]).is_err());
    }
}
