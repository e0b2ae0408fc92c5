//! What a running turn asks of the host: its lanes (read and written on the turn's own
//! copy, with the writes recorded for the commit) and its one-way sends.

use super::Lanes;
use super::{method_name, Msg, Node, Turn, Version};
use std::sync::Arc;

impl Turn {
    pub(super) fn new(
        node: Node,
        uri: Arc<str>,
        version: Arc<Version>,
        agent: Option<usize>,
        lanes: Lanes,
    ) -> Turn {
        Turn {
            node,
            uri,
            version,
            agent,
            lanes,
            staged: vec![],
            result: None,
            writes: vec![],
            sends: vec![],
            held: vec![],
            hold: agent.is_some(),
        }
    }

    /// A write to a resource (or an acknowledgement): an agent's turn holds it until
    /// it commits; `main` (or a test) is no transaction, so its writes go through at once.
    pub(crate) fn write_resource(
        &mut self,
        resources: &dyn crate::resources::Resources,
        w: crate::resources::ResourceWrite,
    ) -> Result<(), String> {
        if self.hold {
            self.held.push(w);
            Ok(())
        } else {
            resources.commit(vec![w])
        }
    }

    /// Whether this is `main` (or a test) rather than an agent's turn.
    pub(crate) fn is_main(&self) -> bool {
        self.agent.is_none()
    }

    pub(crate) fn lane_get(&self, lane: i32) -> Result<Vec<u8>, String> {
        let (i, l) = lane_of(&self.version, self.agent, lane)?;
        self.lanes.get(i, l)
    }

    pub(crate) fn lane_set(&mut self, lane: i32, bytes: Vec<u8>) -> Result<(), String> {
        // The version is shared (an `Arc`): holding a clone lets the lane's description
        // be borrowed while this turn's lanes change.
        let version = self.version.clone();
        let (i, l) = lane_of(&version, self.agent, lane)?;
        let types = &version.manifest().types;
        self.lanes
            .set(i, l, bytes, types, &self.uri, &mut self.writes)
    }

    pub(crate) fn map_get(&self, lane: i32, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let (i, l) = lane_of(&self.version, self.agent, lane)?;
        self.lanes
            .map_get(i, l, key, &self.version.manifest().types)
    }

    pub(crate) fn map_put(
        &mut self,
        lane: i32,
        key: Vec<u8>,
        value: Vec<u8>,
    ) -> Result<(), String> {
        let version = self.version.clone();
        let (i, l) = lane_of(&version, self.agent, lane)?;
        let types = &version.manifest().types;
        self.lanes
            .map_put(i, l, key, value, types, &self.uri, &mut self.writes)
    }

    pub(crate) fn map_remove(&mut self, lane: i32, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let version = self.version.clone();
        let (i, l) = lane_of(&version, self.agent, lane)?;
        let types = &version.manifest().types;
        self.lanes
            .map_remove(i, l, key, types, &self.uri, &mut self.writes)
    }

    pub(crate) fn send(
        &mut self,
        agent: i32,
        method: i32,
        uri: String,
        args: Vec<u8>,
    ) -> Result<(), String> {
        self.node.check_ref(&self.version, agent, &uri)?;
        let method = method_name(&self.version, agent, method)?;
        if self.agent.is_some() {
            // Part of the turn: goes out when it commits. A turn cannot wait for room
            // (it holds its agent), so a full mailbox or too many sends fail it.
            let max = self.node.inner.settings.sends_per_turn_max;
            if self.sends.len() >= max {
                return Err(format!(
                    "too many sends in one turn: {max} already (sends_per_turn_max)"
                ));
            }
            self.node.room_for(&uri)?;
            self.sends.push(Msg::Send { uri, method, args });
            Ok(())
        } else {
            // `main` (or a test) is no transaction: its sends go out at once, and a later
            // call of its waits for them (see `Node::call_from_turn`), so one sender's
            // messages arrive in order. It holds no agent, so a full mailbox makes it
            // wait (back-pressure) rather than fail.
            self.node.enqueue_when_room(Msg::Send { uri, method, args })
        }
    }
}

/// Lane `lane` of agent type `agent` in `version`'s manifest, with its index.
fn lane_of(
    version: &Version,
    agent: Option<usize>,
    lane: i32,
) -> Result<(usize, &weft_compiler::manifest::LaneDesc), String> {
    let agent = agent.ok_or("lanes are only available inside an agent")?;
    let desc = &version.manifest().agents[agent];
    usize::try_from(lane)
        .ok()
        .and_then(|i| desc.lanes.get(i).map(|l| (i, l)))
        .ok_or_else(|| format!("agent `{}` has no lane {lane}", desc.name))
}
