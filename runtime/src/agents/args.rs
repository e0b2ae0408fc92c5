//! A method's arguments between their wire form and the Recon bodies WARP carries: a
//! command lane's echo, and a command that arrived over a link.

/// A method's wire-encoded arguments (a tuple of its parameters) as a Recon body. The
/// caller may have left trailing defaulted parameters out; the body leaves them out too.
pub(super) fn args_recon(
    m: &weft_compiler::manifest::MethodDesc,
    args: &[u8],
    types: &[weft_compiler::manifest::AdtDesc],
) -> Result<crate::warp::Value, String> {
    use crate::value::{decode, decode_prefix, to_recon};
    match m.params.as_slice() {
        [] => Ok(crate::warp::Value::Absent),
        [p] if p.default && args.is_empty() => Ok(crate::warp::Value::Absent),
        [p] => {
            let v = decode(args, &p.ty, types).map_err(|e| e.to_string())?;
            Ok(to_recon(&v, &p.ty, types))
        }
        ps => {
            let mut items = vec![];
            let mut at = 0;
            for p in ps {
                if at == args.len() && p.default {
                    break;
                }
                let rest = args.get(at..).unwrap_or_default();
                let (v, used) = decode_prefix(rest, &p.ty, types).map_err(|e| e.to_string())?;
                at += used;
                items.push(crate::warp::Item::slot(
                    p.name.as_str(),
                    to_recon(&v, &p.ty, types),
                ));
            }
            if at != args.len() {
                return Err("arguments with bytes left over".into());
            }
            Ok(crate::warp::Value::Record(items))
        }
    }
}

/// A Recon body read as a method's arguments, wire-encoded: one parameter reads the
/// body as its value; several read a record of values by position or of slots by name.
pub(super) fn args_from_recon(
    m: &weft_compiler::manifest::MethodDesc,
    body: &crate::warp::Value,
    types: &[weft_compiler::manifest::AdtDesc],
) -> Result<Vec<u8>, String> {
    use crate::value::{encode, from_recon};
    use crate::warp::{Item, Value as R};
    let mut out = vec![];
    match m.params.as_slice() {
        [] => {}
        // Left out, for the method's entry to compute.
        [p] if p.default && matches!(body, R::Absent) => {}
        [p] => encode(&from_recon(body, &p.ty, types)?, &mut out),
        ps => {
            let items = body.items();
            let named = |name: &str| {
                items.iter().find_map(|i| match i {
                    Item::Slot(R::Text(k), v) if k == name => Some(v),
                    _ => None,
                })
            };
            let given = |n: usize, p: &weft_compiler::manifest::ParamDesc| match named(&p.name) {
                Some(v) => Some(v),
                None => match items.get(n) {
                    Some(Item::Value(v)) => Some(v),
                    _ => None,
                },
            };
            for (n, p) in ps.iter().enumerate() {
                let Some(v) = given(n, p) else {
                    // The method's entry computes defaults for the parameters left out,
                    // which must be the last ones: the wire has no gaps.
                    let rest_left_out = ps
                        .iter()
                        .enumerate()
                        .skip(n)
                        .all(|(i, q)| given(i, q).is_none());
                    if p.default && rest_left_out {
                        break;
                    }
                    return Err(format!("no value for parameter `{}`", p.name));
                };
                let v = from_recon(v, &p.ty, types)
                    .map_err(|e| format!("parameter `{}`: {e}", p.name))?;
                encode(&v, &mut out);
            }
        }
    }
    Ok(out)
}
