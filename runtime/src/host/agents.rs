//! Lanes, agent references, calls and sends: the imports behind the agent intrinsics.
//! Values cross in the wire format (`weft_compiler::manifest`); bytes for the module are
//! staged in the turn and copied in by `staged_take` once the module has made room.

use super::{read_bytes, trap, write_bytes};
use crate::agents::Turn;
use crate::state::State;
use wasmtime::{Caller, Linker};
use weft_compiler::imports::MODULE;

pub fn register(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "staged_take", staged_take)?;
    linker.func_wrap(MODULE, "result", result)?;
    linker.func_wrap(MODULE, "agent_self", agent_self)?;
    linker.func_wrap(MODULE, "lane_get", lane_get)?;
    linker.func_wrap(MODULE, "lane_set", lane_set)?;
    linker.func_wrap(MODULE, "map_lane_get", map_lane_get)?;
    linker.func_wrap(MODULE, "map_lane_put", map_lane_put)?;
    linker.func_wrap(MODULE, "map_lane_remove", map_lane_remove)?;
    linker.func_wrap(MODULE, "map_lane_contains", map_lane_contains)?;
    linker.func_wrap(MODULE, "agent_ref", agent_ref)?;
    linker.func_wrap(MODULE, "agent_call", agent_call)?;
    linker.func_wrap(MODULE, "agent_send", agent_send)?;
    Ok(())
}

/// The run's turn, or a trap saying agents need a node.
pub(super) fn turn<'a>(caller: &'a mut Caller<'_, State>) -> wasmtime::Result<&'a mut Turn> {
    if caller.data().turn.is_none() {
        return Err(trap(
            caller,
            "agents are not available here: this run has no node",
        ));
    }
    Ok(caller
        .data_mut()
        .turn
        .as_deref_mut()
        .expect("checked above"))
}

/// Stages `bytes` for `staged_take`; returns their length.
pub(super) fn stage(caller: &mut Caller<'_, State>, bytes: Vec<u8>) -> wasmtime::Result<i32> {
    let len = i32::try_from(bytes.len());
    let Ok(len) = len else {
        return Err(trap(caller, "a value too large to cross into the module"));
    };
    turn(caller)?.staged = bytes;
    Ok(len)
}

/// Turns a turn operation's error into a trap of the running program.
pub(super) fn ok<T>(caller: &mut Caller<'_, State>, r: Result<T, String>) -> wasmtime::Result<T> {
    r.map_err(|m| trap(caller, &m))
}

fn staged_take(mut caller: Caller<'_, State>, ptr: i32) -> wasmtime::Result<()> {
    let bytes = std::mem::take(&mut turn(&mut caller)?.staged);
    write_bytes(&mut caller, ptr, &bytes)
}

fn result(mut caller: Caller<'_, State>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    let bytes = read_bytes(&mut caller, ptr, len)?;
    turn(&mut caller)?.result = Some(bytes);
    Ok(())
}

fn agent_self(mut caller: Caller<'_, State>) -> wasmtime::Result<i32> {
    let uri = turn(&mut caller)?.uri.clone();
    stage(&mut caller, crate::value::encode_str(&uri))
}

fn lane_get(mut caller: Caller<'_, State>, lane: i32) -> wasmtime::Result<i32> {
    let r = turn(&mut caller)?.lane_get(lane);
    let bytes = ok(&mut caller, r)?;
    stage(&mut caller, bytes)
}

fn lane_set(mut caller: Caller<'_, State>, lane: i32, ptr: i32, len: i32) -> wasmtime::Result<()> {
    let bytes = read_bytes(&mut caller, ptr, len)?;
    let r = turn(&mut caller)?.lane_set(lane, bytes);
    ok(&mut caller, r)
}

fn map_lane_get(caller: Caller<'_, State>, lane: i32, kp: i32, kl: i32) -> wasmtime::Result<i32> {
    map_lookup(caller, lane, kp, kl, |t, lane, key| t.map_get(lane, key))
}

fn map_lane_remove(
    caller: Caller<'_, State>,
    lane: i32,
    kp: i32,
    kl: i32,
) -> wasmtime::Result<i32> {
    map_lookup(caller, lane, kp, kl, |t, lane, key| t.map_remove(lane, key))
}

fn map_lane_contains(
    mut caller: Caller<'_, State>,
    lane: i32,
    kp: i32,
    kl: i32,
) -> wasmtime::Result<i32> {
    let key = read_bytes(&mut caller, kp, kl)?;
    let r = turn(&mut caller)?.map_get(lane, &key);
    Ok(ok(&mut caller, r)?.is_some() as i32)
}

/// Runs `op` on the map lane entry for the key at `kp..kp+kl` and stages the
/// `Option<V>` it returns; returns its length.
fn map_lookup(
    mut caller: Caller<'_, State>,
    lane: i32,
    kp: i32,
    kl: i32,
    op: impl FnOnce(&mut Turn, i32, &[u8]) -> Result<Option<Vec<u8>>, String>,
) -> wasmtime::Result<i32> {
    let key = read_bytes(&mut caller, kp, kl)?;
    let r = op(turn(&mut caller)?, lane, &key);
    let found = ok(&mut caller, r)?;
    stage(&mut caller, crate::value::encode_option(found))
}

fn map_lane_put(
    mut caller: Caller<'_, State>,
    lane: i32,
    kp: i32,
    kl: i32,
    vp: i32,
    vl: i32,
) -> wasmtime::Result<()> {
    let key = read_bytes(&mut caller, kp, kl)?;
    let value = read_bytes(&mut caller, vp, vl)?;
    let r = turn(&mut caller)?.map_put(lane, key, value);
    ok(&mut caller, r)
}

fn read_uri(caller: &mut Caller<'_, State>, ptr: i32, len: i32) -> wasmtime::Result<String> {
    let bytes = read_bytes(caller, ptr, len)?;
    String::from_utf8(bytes).map_err(|_| trap(caller, "an agent URI that is not UTF-8"))
}

fn agent_ref(mut caller: Caller<'_, State>, agent: i32, up: i32, ul: i32) -> wasmtime::Result<()> {
    let uri = read_uri(&mut caller, up, ul)?;
    let t = turn(&mut caller)?;
    let r = t.node.check_ref(&t.version, agent, &uri);
    ok(&mut caller, r)
}

#[allow(clippy::too_many_arguments)]
fn agent_call(
    mut caller: Caller<'_, State>,
    agent: i32,
    method: i32,
    up: i32,
    ul: i32,
    ap: i32,
    al: i32,
) -> wasmtime::Result<i32> {
    super::granted(&mut caller, "agents")?;
    let uri = read_uri(&mut caller, up, ul)?;
    let args = read_bytes(&mut caller, ap, al)?;
    let t = turn(&mut caller)?;
    let node = t.node.clone();
    if t.is_main() {
        // `main` sees the node settled: one-way messages in flight (its own and those
        // its calls caused) are handled before its next call.
        node.drain(node.settings().call_wait_max);
    }
    let version = t.version.clone();
    let r = node.call_from_turn(&version, agent, method, &uri, args);
    let bytes = ok(&mut caller, r)?;
    stage(&mut caller, bytes)
}

#[allow(clippy::too_many_arguments)]
fn agent_send(
    mut caller: Caller<'_, State>,
    agent: i32,
    method: i32,
    up: i32,
    ul: i32,
    ap: i32,
    al: i32,
) -> wasmtime::Result<()> {
    super::granted(&mut caller, "agents")?;
    let uri = read_uri(&mut caller, up, ul)?;
    let args = read_bytes(&mut caller, ap, al)?;
    let r = turn(&mut caller)?.send(agent, method, uri, args);
    ok(&mut caller, r)
}
