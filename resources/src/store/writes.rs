//! A batch's writes to the store's tree, and the two ways they reach sled atomically:
//! one sled batch ([`Writes::apply_atomic`]), or the redo record and then plain writes
//! ([`Writes::apply_with_redo`]), which sled takes without writing its buffer out twice
//! and waking its IO threads each time, as a sled batch does.
//!
//! The redo record (`0x00 redo`) holds the writes of the last batch written the second
//! way, and goes in ahead of them. sled recovers a prefix of its writes after a crash,
//! so if a batch's writes were cut short, its redo record is there, and every earlier
//! batch is whole; [`replay`] at open writes the record's writes again (each one sets or
//! removes a key outright, so writing them twice is harmless) and removes the record.
//! Every other way of writing the tree removes the record in the same atomic batch, so
//! a record that survives is always from the last batch written.
//!
//! The record is bookkeeping of this replica's own writes, not state: snapshots leave
//! it out.

use crate::error::StoreError;
use crate::store::layout::{decode, encode, REDO_KEY};
use serde::{Deserialize, Serialize};

/// Writes to apply in order: a key set to a value, or removed (`None`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Writes {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Writes {
    pub fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.ops
            .push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    pub fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.ops.push((key.as_ref().to_vec(), None));
    }

    /// Writes them as one sled batch, which also removes the redo record.
    pub fn apply_atomic(self, tree: &sled::Tree) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, value) in self.ops {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        batch.remove(REDO_KEY);
        tree.apply_batch(batch)?;
        Ok(())
    }

    /// Writes the redo record, then each write on its own.
    pub fn apply_with_redo(self, tree: &sled::Tree) -> Result<(), StoreError> {
        tree.insert(REDO_KEY, encode(&self)?)?;
        for (key, value) in self.ops {
            match value {
                Some(value) => tree.insert(key, value)?,
                None => tree.remove(key)?,
            };
        }
        Ok(())
    }
}

/// Finishes the batch a crash cut short, if the redo record is there: writes its writes
/// again and removes it, atomically, and flushes. Run at open, before anything reads
/// the tree.
pub(crate) fn replay(db: &sled::Db, tree: &sled::Tree) -> Result<(), StoreError> {
    let Some(bytes) = tree.get(REDO_KEY)? else {
        return Ok(());
    };
    let writes: Writes = decode(&bytes, "the redo record")?;
    writes.apply_atomic(tree)?;
    db.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (sled::Db, sled::Tree) {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        let tree = db.open_tree("t").expect("tree");
        (db, tree)
    }

    #[test]
    fn a_cut_short_batch_is_finished_by_its_redo_record() {
        let (db, tree) = open();
        tree.insert(b"gone", b"x").expect("insert");
        let mut writes = Writes::default();
        writes.insert(b"a", b"1");
        writes.remove(b"gone");
        writes.insert(b"b", b"2");
        // As if a crash kept the record and the first write only.
        tree.insert(REDO_KEY, encode(&writes).expect("encode"))
            .expect("redo");
        tree.insert(b"a", b"1").expect("insert");
        replay(&db, &tree).expect("replay");
        let pairs: Vec<_> = tree
            .iter()
            .map(|item| item.expect("pair"))
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        assert_eq!(
            pairs,
            [
                (b"a".to_vec(), b"1".to_vec()),
                (b"b".to_vec(), b"2".to_vec())
            ]
        );
    }

    #[test]
    fn an_atomic_batch_removes_the_redo_record() {
        let (_db, tree) = open();
        let mut first = Writes::default();
        first.insert(b"a", b"1");
        first.apply_with_redo(&tree).expect("with redo");
        assert!(tree.get(REDO_KEY).expect("get").is_some());
        let mut second = Writes::default();
        second.insert(b"a", b"2");
        second.apply_atomic(&tree).expect("atomic");
        assert_eq!(tree.get(REDO_KEY).expect("get"), None);
        assert_eq!(tree.get(b"a").expect("get").as_deref(), Some(&b"2"[..]));
    }
}
