//! The `applied` record: the last applied log id and the last applied membership, as
//! the bytes [`Store::apply_batch_recording`](crate::Store::apply_batch_recording) keeps
//! beside the state and every snapshot carries in its header.
//!
//! Layout: one format byte, then the postcard encoding of [`Applied`]. Decoding checks
//! both and never panics.

use super::NodeId;
use openraft::{BasicNode, LogId, StoredMembership};
use serde::{Deserialize, Serialize};

/// The record's format byte.
const FORMAT: u8 = 1;

/// How far the state machine got, and the membership it last applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Applied {
    pub last_applied: Option<LogId<NodeId>>,
    pub membership: StoredMembership<NodeId, BasicNode>,
}

impl Applied {
    /// The record as bytes.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        let mut out = vec![FORMAT];
        out.extend(postcard::to_allocvec(self).map_err(|e| e.to_string())?);
        Ok(out)
    }

    /// Reads a record back; `None` (no record yet) is the initial state.
    pub fn decode(bytes: Option<&[u8]>) -> Result<Applied, String> {
        let Some(bytes) = bytes else {
            return Ok(Applied::default());
        };
        match bytes.split_first() {
            Some((&FORMAT, rest)) => {
                let (applied, left) = postcard::take_from_bytes::<Applied>(rest)
                    .map_err(|e| format!("the applied record does not decode: {e}"))?;
                if !left.is_empty() {
                    return Err("the applied record has trailing bytes".into());
                }
                Ok(applied)
            }
            Some((format, _)) => Err(format!(
                "the applied record has format {format}, not {FORMAT}"
            )),
            None => Err("the applied record is empty".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::{CommittedLeaderId, Membership};
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn round_trips_and_refuses_garbage() {
        let log_id = LogId::new(CommittedLeaderId::new(3, 1), 7);
        let nodes = BTreeMap::from([(1, BasicNode::new("127.0.0.1:1"))]);
        let membership = Membership::new(vec![BTreeSet::from([1])], nodes);
        let applied = Applied {
            last_applied: Some(log_id),
            membership: StoredMembership::new(Some(log_id), membership),
        };
        let bytes = applied.encode().expect("encodes");
        assert_eq!(Applied::decode(Some(&bytes)), Ok(applied));
        assert_eq!(Applied::decode(None), Ok(Applied::default()));
        assert!(Applied::decode(Some(&[])).is_err());
        assert!(Applied::decode(Some(&[9, 1, 2])).is_err());
        for cut in 1..bytes.len() {
            assert!(
                Applied::decode(Some(&bytes[..cut])).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Applied::decode(Some(&longer)).is_err());
    }
}
