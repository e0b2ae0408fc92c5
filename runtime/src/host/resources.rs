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
        let (settings, handlers) = site_args(&desc, &args)?;
        resources
            .ensure(&desc, &settings, &handlers)
            .map_err(|e| format!("new {}(\"{}\") at {}: {e}", desc.ty, desc.name, desc.at))
    })();
    let handle = super::agents::ok(&mut caller, r)?;
    super::agents::stage(&mut caller, crate::value::encode_str(&handle))
}

/// A site's arguments: the name (which the site already knows), one 8-byte setting
/// each, then for a Cell each queue handler's source (a handle), and each handler's
/// captures.
fn site_args(
    desc: &weft_compiler::manifest::ResourceDesc,
    args: &[u8],
) -> Result<(Vec<i64>, Vec<crate::resources::Handler>), String> {
    use weft_compiler::manifest::TypeDesc;
    const SHORT: &str = "a resource's arguments are cut short";
    let (_, mut pos) =
        crate::value::decode_prefix(args, &TypeDesc::String, &[]).map_err(|_| SHORT.to_string())?;
    let mut settings = vec![];
    for _ in &desc.settings {
        let b = args.get(pos..pos + 8).ok_or(SHORT)?;
        settings.push(i64::from_le_bytes(b.try_into().map_err(|_| SHORT)?));
        pos += 8;
    }
    let mut sources = vec![];
    for h in &desc.handlers {
        if h.event != "queue" {
            // Requests and ticks come from the handler's own resource.
            sources.push(String::new());
            continue;
        }
        let rest = args.get(pos..).ok_or(SHORT)?;
        match crate::value::decode_prefix(rest, &TypeDesc::String, &[]) {
            Ok((crate::value::Value::Str(s), n)) => {
                sources.push(s);
                pos += n;
            }
            _ => return Err(SHORT.into()),
        }
    }
    let mut handlers = vec![];
    for (h, source) in desc.handlers.iter().zip(sources) {
        let start = pos;
        for t in &h.captures {
            let rest = args.get(pos..).ok_or(SHORT)?;
            let (_, n) = crate::value::decode_prefix(rest, t, &desc.types)
                .map_err(|e| format!("a handler's captures: {e}"))?;
            pos += n;
        }
        handlers.push((source, args[start..pos].to_vec()));
    }
    Ok((settings, handlers))
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
    } else if op == ResourceOp::SecretGet && !node.settings().secrets.contains(&handle) {
        Err(
            "a Secret is read only by the code on the cluster that captures it (a Cell's handler, an HttpService's, a Timer's)"
                .to_string(),
        )
    } else {
        resources.read(&handle, op, &a)
    };
    let bytes = super::agents::ok(&mut caller, r.map_err(|e| format!("{handle}: {e}")))?;
    super::agents::stage(&mut caller, bytes)
}
