//! Volumes: files on one node's disk, under `ROOT/PROGRAM/NAME/`, used only by the
//! instances on that node whose handlers captured the Volume.
//!
//! Sticky: the scheduler binds a Volume to the node of the first replica placed that
//! uses it (the Volume's placement) and places every later one there. Fenced: each
//! instance started in this process takes a token greater than every one before, and
//! the process keeps the newest token that claimed each Volume; a write with an older
//! one is refused, so an instance that was replaced (stopping while its successor
//! starts, after a redeploy or a move) can never write after its successor started.
//! Only this process's instances reach its Volumes, so a process-wide counter orders
//! them all. Paths are relative, of plain components (`a-z A-Z 0-9 . _ -`, not `.` or
//! `..`), at most [`PATH_LEN_MAX`] bytes; a Volume's files hold at most its `size`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

/// The longest path within a Volume.
pub const PATH_LEN_MAX: usize = 255;

static ROOT: OnceLock<PathBuf> = OnceLock::new();
/// The newest token seen for each Volume (by handle) in this process.
static FENCES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

static TOKENS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A fencing token greater than every one taken before in this process.
pub fn next_token() -> u64 {
    TOKENS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The size of each of `handles` (Volumes), as their records say.
pub fn sizes(
    kv: &dyn weft_resources::kinds::Kv,
    handles: &[String],
) -> Result<HashMap<String, u64>, String> {
    let mut out = HashMap::new();
    for h in handles {
        let r = weft_resources::kinds::by_handle(kv, h)?;
        let size = r
            .settings
            .iter()
            .find(|(n, _)| n == "size")
            .map_or(1 << 30, |(_, v)| *v);
        out.insert(h.clone(), size.max(0) as u64);
    }
    Ok(out)
}

/// Sets where this process keeps Volumes (once): `DATA/volumes`.
pub fn set_root(path: PathBuf) {
    let _ = ROOT.set(path);
}

fn root() -> PathBuf {
    ROOT.get()
        .cloned()
        .unwrap_or_else(|| std::env::temp_dir().join("weft-volumes"))
}

/// An instance's access: the Volumes it captured (handle → size in bytes) and its
/// fencing token.
#[derive(Clone, Debug, Default)]
pub struct Access {
    pub sizes: HashMap<String, u64>,
    pub token: u64,
}

impl Access {
    /// The access of an instance holding `token`, raising each Volume's fence to it.
    pub fn claim(sizes: HashMap<String, u64>, token: u64) -> Access {
        let mut fences = FENCES.lock().unwrap_or_else(PoisonError::into_inner);
        for h in sizes.keys() {
            let f = fences.entry(h.clone()).or_insert(0);
            *f = (*f).max(token);
        }
        Access { sizes, token }
    }

    /// The Volume's directory, when this access may use it now.
    fn dir(&self, handle: &str, writing: bool) -> Result<PathBuf, String> {
        if !self.sizes.contains_key(handle) {
            return Err(format!(
                "{handle}: a Volume is used only by the code on the cluster that captures it"
            ));
        }
        if writing {
            let fences = FENCES.lock().unwrap_or_else(PoisonError::into_inner);
            let newest = fences.get(handle).copied().unwrap_or(0);
            if newest > self.token {
                return Err(format!(
                    "{handle}: fenced: a newer instance (token {newest}) owns this Volume; this one (token {}) may not write",
                    self.token
                ));
            }
        }
        Ok(root().join(handle))
    }

    /// Writes `text` to `path` (replacing it, atomically).
    pub fn write(&self, handle: &str, path: &str, text: &str) -> Result<(), String> {
        let dir = self.dir(handle, true)?;
        let file = dir.join(checked(path)?);
        let size = self.sizes.get(handle).copied().unwrap_or(0);
        let before = std::fs::metadata(&file).map_or(0, |m| m.len());
        let used = used_bytes(&dir);
        if used - before.min(used) + text.len() as u64 > size {
            return Err(format!("{handle}: the Volume is full ({size} bytes)"));
        }
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{handle}: {e}"))?;
        }
        let tmp = file.with_extension("weft-tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::File::open(&tmp).and_then(|f| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, &file))
            .map_err(|e| format!("{handle}: {path}: {e}"))
    }

    /// The text at `path`, if there is a file.
    pub fn read(&self, handle: &str, path: &str) -> Result<Option<String>, String> {
        let file = self.dir(handle, false)?.join(checked(path)?);
        match std::fs::read(&file) {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{handle}: {path}: {e}")),
        }
    }

    /// Removes the file at `path`, if there is one.
    pub fn delete(&self, handle: &str, path: &str) -> Result<(), String> {
        let file = self.dir(handle, true)?.join(checked(path)?);
        match std::fs::remove_file(&file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("{handle}: {path}: {e}")),
        }
    }

    /// The paths of the files whose path starts with `prefix`, sorted.
    pub fn list(&self, handle: &str, prefix: &str) -> Result<Vec<String>, String> {
        let dir = self.dir(handle, false)?;
        let mut out = vec![];
        walk(&dir, &dir, &mut out);
        out.retain(|p| p.starts_with(prefix));
        out.sort();
        Ok(out)
    }
}

/// The handles of the resources of kind `kind` among `captures` (wire bytes of the
/// types `tys`, whose records are in `types`): the values captured directly, not inside
/// others.
pub fn captured_handles(
    types: &[weft_compiler::manifest::AdtDesc],
    tys: &[weft_compiler::manifest::TypeDesc],
    captures: &[u8],
    kind: &str,
) -> Vec<String> {
    use weft_compiler::manifest::TypeDesc;
    use weft_runtime::value::{decode_prefix, Value};
    let mut out = vec![];
    let mut rest = captures;
    for t in tys {
        let Ok((v, n)) = decode_prefix(rest, t, types) else {
            break;
        };
        if let (TypeDesc::Resource(ty), Value::Str(handle)) = (t, v) {
            if ty == kind && !out.contains(&handle) {
                out.push(handle);
            }
        }
        rest = rest.get(n..).unwrap_or_default();
    }
    out
}

/// `path` as a relative path of plain components.
fn checked(path: &str) -> Result<&Path, String> {
    let plain = |c: &str| {
        !c.is_empty()
            && c != "."
            && c != ".."
            && !c.ends_with(".weft-tmp")
            && c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'))
    };
    if path.len() > PATH_LEN_MAX || !path.split('/').all(plain) {
        return Err(format!(
            "`{}` is not a Volume path (relative, of letters, digits, `.`, `_`, `-`, at most {PATH_LEN_MAX} bytes)",
            path.escape_debug()
        ));
    }
    Ok(Path::new(path))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            let rel = rel.to_string_lossy().into_owned();
            if !rel.ends_with(".weft-tmp") {
                out.push(rel);
            }
        }
    }
}

fn used_bytes(dir: &Path) -> u64 {
    let mut files = vec![];
    walk(dir, dir, &mut files);
    files
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_stay_inside_their_volume_within_its_size_and_a_replaced_instance_is_fenced() {
        let dir = std::env::temp_dir().join(format!("weft-volumes-test-{}", std::process::id()));
        set_root(dir.clone());
        let sizes = HashMap::from([("t/v".to_string(), 10u64)]);
        let old = Access::claim(sizes.clone(), 5);
        old.write("t/v", "a/b.txt", "hello").expect("written");
        assert_eq!(
            old.read("t/v", "a/b.txt").expect("read"),
            Some("hello".into())
        );
        assert_eq!(old.read("t/v", "none").expect("read"), None);
        assert!(old.write("t/v", "big", "123456").is_err(), "over its size");
        old.write("t/v", "a/b.txt", "0123456789")
            .expect("a replacement fits");
        for bad in ["../x", "/etc/passwd", "a//b", ".", "a/../../b", "x y", ""] {
            assert!(old.write("t/v", bad, "x").is_err(), "{bad}");
        }
        assert!(old.write("t/other", "x", "x").is_err(), "not captured");
        let new = Access::claim(sizes, 9);
        assert!(old.write("t/v", "c", "x").unwrap_err().contains("fenced"));
        assert!(old.delete("t/v", "a/b.txt").is_err());
        // The old instance may still read; the new one writes.
        assert!(old.read("t/v", "a/b.txt").is_ok());
        new.delete("t/v", "a/b.txt").expect("deleted");
        new.write("t/v", "c", "x").expect("written");
        assert_eq!(new.list("t/v", "").expect("listed"), vec!["c".to_string()]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
