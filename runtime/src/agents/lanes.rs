//! An agent's lanes as the host keeps them: value and list lanes as the wire bytes of their
//! whole value, map lanes as entries ordered by key (the order-preserving sort key of
//! `value::sort_key`). Every change also records the store write that makes it durable.

use crate::store::{Store, Write};
use crate::value::{self, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use weft_compiler::manifest::{AdtDesc, AgentDesc, LaneDesc, LaneKind, TypeDesc};

/// A map lane's entries: sort key -> (key bytes, value bytes).
type Entries = BTreeMap<Vec<u8>, (Vec<u8>, Vec<u8>)>;

#[derive(Clone, Debug)]
enum Lane {
    Whole(Vec<u8>),
    Map(Entries),
}

/// One agent's lanes, by index; `None` until loaded or initialised. Each lane is shared
/// until written, so a turn's copy of the lanes costs a pointer per lane and a lane is
/// copied only by the first write of a turn.
#[derive(Clone, Debug, Default)]
pub struct Lanes {
    lanes: Vec<Option<Arc<Lane>>>,
}

/// The wire bytes of an empty map or list (a zero count), for lanes without an initial
/// value; value lanes always have one.
pub fn empty(_l: &LaneDesc) -> Vec<u8> {
    0u32.to_le_bytes().to_vec()
}

fn map_types(l: &LaneDesc) -> Result<(&TypeDesc, &TypeDesc), String> {
    match &l.ty {
        TypeDesc::Map(k, v) => Ok((k, v)),
        _ => Err(format!("lane `{}` is not a map", l.name)),
    }
}

fn sort_key(key: &[u8], kt: &TypeDesc, types: &[AdtDesc]) -> Result<Vec<u8>, String> {
    let v = value::decode(key, kt, types).map_err(|e| format!("a malformed key: {e}"))?;
    let mut out = vec![];
    value::sort_key(&v, &mut out);
    Ok(out)
}

/// Lane `l` of the agent at `uri` as stored, if it ever was.
fn load_lane(
    store: &Store,
    uri: &str,
    l: &LaneDesc,
    types: &[AdtDesc],
) -> Result<Option<Arc<Lane>>, String> {
    Ok(match l.kind {
        LaneKind::Map => {
            let (kt, _) = map_types(l)?;
            let entries = store.map_lane(uri, &l.name).map_err(|e| e.to_string())?;
            let stored = store.lane(uri, &l.name).map_err(|e| e.to_string())?;
            if entries.is_empty() && stored.is_none() {
                None
            } else {
                let mut m = BTreeMap::new();
                for (k, v) in entries {
                    m.insert(sort_key(&k, kt, types)?, (k, v));
                }
                Some(Arc::new(Lane::Map(m)))
            }
        }
        _ => store
            .lane(uri, &l.name)
            .map_err(|e| e.to_string())?
            .map(|b| Arc::new(Lane::Whole(b))),
    })
}

impl Lanes {
    /// The lanes of the agent at `uri` as stored; lanes never stored stay unset.
    pub fn load(
        store: &Store,
        uri: &str,
        desc: &AgentDesc,
        types: &[AdtDesc],
    ) -> Result<Lanes, String> {
        let mut lanes = vec![];
        for l in &desc.lanes {
            lanes.push(load_lane(store, uri, l, types)?);
        }
        Ok(Lanes { lanes })
    }

    /// Sets lane `i` to lane `l` as stored (unset when it never was).
    pub fn restore(
        &mut self,
        i: usize,
        store: &Store,
        uri: &str,
        l: &LaneDesc,
        types: &[AdtDesc],
    ) -> Result<(), String> {
        *self.slot(i) = load_lane(store, uri, l, types)?;
        Ok(())
    }

    /// Makes lane `i` the same as lane `j` of `from` (shared, not copied).
    pub fn share(&mut self, i: usize, from: &Lanes, j: usize) {
        *self.slot(i) = from.lanes.get(j).cloned().flatten();
    }

    pub fn is_set(&self, i: usize) -> bool {
        matches!(self.lanes.get(i), Some(Some(_)))
    }

    /// Gives lane `i` its first value (wire bytes of the whole lane).
    pub fn init(
        &mut self,
        i: usize,
        l: &LaneDesc,
        bytes: Vec<u8>,
        types: &[AdtDesc],
        uri: &str,
        writes: &mut Vec<Write>,
    ) -> Result<(), String> {
        if l.kind == LaneKind::Map {
            // A marker that the map lane exists, even while it is empty.
            writes.push(Write::Lane {
                uri: uri.to_string(),
                lane: l.name.clone(),
                bytes: vec![],
            });
        }
        self.set(i, l, bytes, types, uri, writes)
    }

    fn lane(&self, i: usize) -> Option<&Lane> {
        self.lanes.get(i)?.as_deref()
    }

    fn slot(&mut self, i: usize) -> &mut Option<Arc<Lane>> {
        if self.lanes.len() <= i {
            self.lanes.resize(i + 1, None);
        }
        &mut self.lanes[i]
    }

    /// The whole lane's wire bytes.
    pub fn get(&self, i: usize, l: &LaneDesc) -> Result<Vec<u8>, String> {
        match self.lane(i) {
            Some(Lane::Whole(b)) => Ok(b.clone()),
            Some(Lane::Map(m)) => {
                let mut out = (m.len() as u32).to_le_bytes().to_vec();
                for (k, v) in m.values() {
                    out.extend_from_slice(k);
                    out.extend_from_slice(v);
                }
                Ok(out)
            }
            _ => Err(format!("lane `{}` is read before it has a value", l.name)),
        }
    }

    /// A map lane's entries, (key bytes, value bytes) in key order.
    pub fn map_entries(&self, i: usize) -> impl Iterator<Item = (&[u8], &[u8])> {
        let m = match self.lane(i) {
            Some(Lane::Map(m)) => Some(m),
            _ => None,
        };
        m.into_iter()
            .flat_map(|m| m.values().map(|(k, v)| (k.as_slice(), v.as_slice())))
    }

    /// The map lane entry whose key has sort key `sk`.
    pub fn map_entry(&self, i: usize, sk: &[u8]) -> Option<(&[u8], &[u8])> {
        match self.lane(i) {
            Some(Lane::Map(m)) => m.get(sk).map(|(k, v)| (k.as_slice(), v.as_slice())),
            _ => None,
        }
    }

    /// Replaces the whole lane.
    pub fn set(
        &mut self,
        i: usize,
        l: &LaneDesc,
        bytes: Vec<u8>,
        types: &[AdtDesc],
        uri: &str,
        writes: &mut Vec<Write>,
    ) -> Result<(), String> {
        if l.kind != LaneKind::Map {
            writes.push(Write::Lane {
                uri: uri.to_string(),
                lane: l.name.clone(),
                bytes: bytes.clone(),
            });
            *self.slot(i) = Some(Arc::new(Lane::Whole(bytes)));
            return Ok(());
        }
        // A whole map is taken apart into entries; other lanes keep the module's bytes
        // as they are (the compiler's encoder wrote them, as the module trusts the host's).
        let v = value::decode(&bytes, &l.ty, types)
            .map_err(|e| format!("lane `{}`: a malformed value: {e}", l.name))?;
        let Value::Map(entries) = v else {
            return Err(format!("lane `{}` is not a map", l.name));
        };
        let mut m = BTreeMap::new();
        writes.push(Write::MapClear {
            uri: uri.to_string(),
            lane: l.name.clone(),
        });
        for (k, v) in entries {
            let (mut kb, mut vb, mut sk) = (vec![], vec![], vec![]);
            value::encode(&k, &mut kb);
            value::encode(&v, &mut vb);
            value::sort_key(&k, &mut sk);
            writes.push(Write::MapPut {
                uri: uri.to_string(),
                lane: l.name.clone(),
                sort_key: sk.clone(),
                key: kb.clone(),
                value: vb.clone(),
            });
            m.insert(sk, (kb, vb));
        }
        *self.slot(i) = Some(Arc::new(Lane::Map(m)));
        Ok(())
    }

    fn map_mut(&mut self, i: usize, l: &LaneDesc) -> Result<&mut Entries, String> {
        let lane = self
            .slot(i)
            .get_or_insert_with(|| Arc::new(Lane::Map(BTreeMap::new())));
        match Arc::make_mut(lane) {
            Lane::Map(m) => Ok(m),
            _ => Err(format!("lane `{}` is not a map", l.name)),
        }
    }

    pub fn map_get(
        &self,
        i: usize,
        l: &LaneDesc,
        key: &[u8],
        types: &[AdtDesc],
    ) -> Result<Option<Vec<u8>>, String> {
        let (kt, _) = map_types(l)?;
        let sk = sort_key(key, kt, types)?;
        match self.lane(i) {
            Some(Lane::Map(m)) => Ok(m.get(&sk).map(|(_, v)| v.clone())),
            Some(Lane::Whole(_)) => Err(format!("lane `{}` is not a map", l.name)),
            _ => Ok(None),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn map_put(
        &mut self,
        i: usize,
        l: &LaneDesc,
        key: Vec<u8>,
        value: Vec<u8>,
        types: &[AdtDesc],
        uri: &str,
        writes: &mut Vec<Write>,
    ) -> Result<(), String> {
        let (kt, _) = map_types(l)?;
        let sk = sort_key(&key, kt, types)?;
        writes.push(Write::MapPut {
            uri: uri.to_string(),
            lane: l.name.clone(),
            sort_key: sk.clone(),
            key: key.clone(),
            value: value.clone(),
        });
        self.map_mut(i, l)?.insert(sk, (key, value));
        Ok(())
    }

    pub fn map_remove(
        &mut self,
        i: usize,
        l: &LaneDesc,
        key: &[u8],
        types: &[AdtDesc],
        uri: &str,
        writes: &mut Vec<Write>,
    ) -> Result<Option<Vec<u8>>, String> {
        let (kt, _) = map_types(l)?;
        let sk = sort_key(key, kt, types)?;
        let old = self.map_mut(i, l)?.remove(&sk).map(|(_, v)| v);
        if old.is_some() {
            writes.push(Write::MapRemove {
                uri: uri.to_string(),
                lane: l.name.clone(),
                sort_key: sk,
            });
        }
        Ok(old)
    }
}
