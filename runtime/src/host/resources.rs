//! `new` and the methods of resource handles: the imports behind `ResourceNew` and
//! `ResourceOp`. Writes and acknowledgements go to the turn (`Turn::write_resource`).

use super::{read_bytes, trap};
use crate::resources::ResourceWrite;
use crate::state::State;
use wasmtime::{Caller, Linker};
use weft_compiler::imports::MODULE;
use weft_lang::tir::ResourceOp;

pub fn register(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "resource_new", resource_new)?;
    linker.func_wrap(MODULE, "resource_op", resource_op)?;
    Ok(())
}

fn resource_new(
    mut caller: Caller<'_, State>,
    site: i32,
    ap: i32,
    al: i32,
) -> wasmtime::Result<i32> {
    let args = read_bytes(&mut caller, ap, al)?;
    let turn = super::agents::turn(&mut caller)?;
    let desc = usize::try_from(site)
        .ok()
        .and_then(|i| turn.version.manifest().resources.get(i).cloned());
    let node = turn.node.clone();
    let r = (|| {
        let desc = desc.ok_or("no such resource site")?;
        let resources = node.resources().ok_or(
            "resources need a cluster: this node has no control plane (`weft run` starts one unless --no-api)",
        )?;
        // The name (which the site already knows), then one 8-byte setting each.
        let n = args
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
            .ok_or("a resource's arguments are cut short")?;
        let settings: Vec<i64> = args
            .get(4 + n..)
            .ok_or("a resource's arguments are cut short")?
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        resources
            .ensure(&desc, &settings)
            .map_err(|e| format!("new {}(\"{}\") at {}: {e}", desc.ty, desc.name, desc.at))
    })();
    let handle = super::agents::ok(&mut caller, r)?;
    super::agents::stage(&mut caller, crate::value::encode_str(&handle))
}

#[allow(clippy::too_many_arguments)]
fn resource_op(
    mut caller: Caller<'_, State>,
    op: i32,
    hp: i32,
    hl: i32,
    ap: i32,
    al: i32,
    bp: i32,
    bl: i32,
) -> wasmtime::Result<i32> {
    let handle = read_bytes(&mut caller, hp, hl)?;
    let Ok(handle) = String::from_utf8(handle) else {
        return Err(trap(&mut caller, "a resource handle that is not UTF-8"));
    };
    let a = read_bytes(&mut caller, ap, al)?;
    let b = read_bytes(&mut caller, bp, bl)?;
    let Some(op) = u32::try_from(op).ok().and_then(ResourceOp::from_code) else {
        return Err(trap(&mut caller, "no such resource operation"));
    };
    let turn = super::agents::turn(&mut caller)?;
    let node = turn.node.clone();
    let Some(resources) = node.resources() else {
        return Err(trap(
            &mut caller,
            "resources need a cluster: this node has none",
        ));
    };
    let r: Result<Vec<u8>, String> = if op.writes() {
        let w = ResourceWrite::Op {
            handle: handle.clone(),
            op,
            a,
            b,
        };
        turn.write_resource(&*resources, w).map(|()| vec![])
    } else if op == ResourceOp::QueueReceive {
        resources.receive(&handle).and_then(|taken| match taken {
            Some((msg, receipt)) => {
                let ack = ResourceWrite::Ack {
                    handle: handle.clone(),
                    receipt,
                };
                turn.write_resource(&*resources, ack)?;
                Ok(crate::value::encode_option(Some(msg)))
            }
            None => Ok(crate::value::encode_option(None)),
        })
    } else {
        resources.read(&handle, op, &a)
    };
    let bytes = super::agents::ok(&mut caller, r.map_err(|e| format!("{handle}: {e}")))?;
    super::agents::stage(&mut caller, bytes)
}
