//! The current snapshot on disk: one file holding a snapshot's meta and its bytes, so
//! `get_current_snapshot` answers the same after a restart.
//!
//! Layout: `"WEFTSNAP"` | meta length (u32 BE) | the meta as JSON | the snapshot bytes
//! ([`Store::snapshot`](crate::Store::snapshot)'s format, checksummed on its own). It is
//! replaced atomically: written to a temporary file, synced, renamed over the old one,
//! and the directory synced. Reading checks the framing and never panics.

use super::NodeId;
use openraft::{BasicNode, SnapshotMeta};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"WEFTSNAP";
const FILE: &str = "current";
const TEMPORARY: &str = "current.partial";
/// The longest meta a file may claim (a membership of a few nodes is well under this).
const MAX_META: usize = 1 << 20;

/// A snapshot's meta, for cubestore's types.
pub(crate) type Meta = SnapshotMeta<NodeId, BasicNode>;

/// The directory the current snapshot lives in.
#[derive(Debug)]
pub(crate) struct SnapshotFile {
    dir: PathBuf,
}

impl SnapshotFile {
    /// The snapshot file in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<SnapshotFile, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(SnapshotFile {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// The current snapshot's meta, without reading its bytes.
    pub fn load_meta(&self) -> Result<Option<Meta>, String> {
        let Some(mut file) = self.open_file()? else {
            return Ok(None);
        };
        read_meta(&mut file).map(Some)
    }

    /// The current snapshot: its meta and its bytes.
    pub fn load(&self) -> Result<Option<(Meta, Vec<u8>)>, String> {
        let Some(mut file) = self.open_file()? else {
            return Ok(None);
        };
        let meta = read_meta(&mut file)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)
            .map_err(|e| format!("cannot read the snapshot: {e}"))?;
        Ok(Some((meta, data)))
    }

    /// Makes `meta` and `data` the current snapshot, durably.
    pub fn save(&self, meta: &Meta, data: &[u8]) -> Result<(), String> {
        let json = serde_json::to_vec(meta).map_err(|e| e.to_string())?;
        let len = u32::try_from(json.len())
            .ok()
            .filter(|&len| len as usize <= MAX_META)
            .ok_or("the snapshot meta is too long")?;
        let temporary = self.dir.join(TEMPORARY);
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(MAGIC)?;
            file.write_all(&len.to_be_bytes())?;
            file.write_all(&json)?;
            file.write_all(data)?;
            file.sync_all()?;
            std::fs::rename(&temporary, self.path())?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| format!("cannot write the snapshot in {}: {e}", self.dir.display()))
    }

    fn open_file(&self) -> Result<Option<File>, String> {
        match File::open(self.path()) {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot open the snapshot: {e}")),
        }
    }
}

/// Reads the framing and the meta, leaving `file` at the snapshot bytes.
fn read_meta(file: &mut File) -> Result<Meta, String> {
    let mut head = [0u8; 12];
    file.read_exact(&mut head)
        .map_err(|e| format!("the snapshot file is cut short: {e}"))?;
    if &head[..8] != MAGIC {
        return Err("the snapshot file does not start with its magic".into());
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&head[8..]);
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_META {
        return Err(format!("the snapshot file claims a meta of {len} bytes"));
    }
    let mut json = vec![0u8; len];
    file.read_exact(&mut json)
        .map_err(|e| format!("the snapshot file is cut short: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("the snapshot meta does not decode: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::{CommittedLeaderId, LogId, StoredMembership};

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("weft-snapshot-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn saves_loads_and_refuses_damaged_files() {
        let dir = scratch("damaged");
        let file = SnapshotFile::open(&dir).expect("open");
        assert_eq!(file.load(), Ok(None));
        let meta = Meta {
            last_log_id: Some(LogId::new(CommittedLeaderId::new(2, 1), 5)),
            last_membership: StoredMembership::default(),
            snapshot_id: "2-1-5-r3".into(),
        };
        file.save(&meta, b"data").expect("save");
        assert_eq!(file.load(), Ok(Some((meta.clone(), b"data".to_vec()))));
        assert_eq!(file.load_meta(), Ok(Some(meta)));

        let whole = std::fs::read(file.path()).expect("read");
        let mut damaged = vec![
            Vec::new(),
            b"WEFTSNA".to_vec(),
            b"NOTASNAP\0\0\0\0".to_vec(),
            [MAGIC.as_slice(), &u32::MAX.to_be_bytes()].concat(),
            [MAGIC.as_slice(), &5u32.to_be_bytes(), b"{}"].concat(),
            [MAGIC.as_slice(), &2u32.to_be_bytes(), b"{}"].concat(),
        ];
        damaged.extend((1..whole.len() - 4).map(|cut| whole[..cut].to_vec()));
        for bytes in damaged {
            std::fs::write(file.path(), &bytes).expect("write");
            assert!(file.load().is_err(), "{bytes:?}");
            assert!(file.load_meta().is_err(), "{bytes:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
