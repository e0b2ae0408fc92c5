//! `to_string` in Weft syntax: `[1, 2]`, `Point { x: 1.0, y: 2.0 }`, `Some(3)`, `None`,
//! `("a", 1)`, `{"k": 1}`; strings quoted and escaped inside values; Float shortest
//! round-trip (`2.0`, `0.1`); Duration in the largest exact unit (`250ms`, `2s`, `1500us`).

use super::{is_enum, shapes};
use crate::emit::FuncBuilder;
use crate::layout::{vt, width, LIST_DATA, LIST_LEN, TAG};
use crate::module::{FnKey, Module};
use crate::rt::map::MapOp;
use crate::rt::{fb, Rt};
use wasm_encoder::BlockType;
use wasm_encoder::ValType::I32;
use weft_lang::tir::AdtKind;
use weft_lang::types::Ty;

/// Appends the value on the stack to the builder below it: `[sb, v] -> [sb]`.
pub fn emit_show(m: &mut Module, f: &mut FuncBuilder, ty: &Ty) {
    match ty {
        Ty::Int => {
            let c = m.rt(Rt::SbInt);
            f.call(c);
        }
        Ty::Duration => {
            let c = m.rt(Rt::SbDuration);
            f.call(c);
        }
        Ty::Float => {
            let c = m.rt(Rt::SbFloat);
            f.call(c);
        }
        Ty::Bool => {
            let (t, fl, push) = (m.str_lit(b"true"), m.str_lit(b"false"), m.rt(Rt::SbStr));
            let v = f.temp(I32);
            f.set(v).i32c(t as i32).i32c(fl as i32).get(v);
            f.ins().select();
            f.call(push);
            f.free_temp(v);
        }
        Ty::Unit | Ty::Never => {
            let (s, push) = (m.str_lit(b"()"), m.rt(Rt::SbStr));
            f.ins().drop();
            f.i32c(s as i32).call(push);
        }
        Ty::String => {
            let c = m.rt(Rt::SbQuoted);
            f.call(c);
        }
        Ty::Agent(_) | Ty::Resource(..) => {
            // `Counter("/counters/a")`, `QueueService<Job>("shop/jobs")`
            let name = match ty {
                Ty::Agent(id) => m
                    .prog
                    .agents
                    .get(id.0 as usize)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                _ => crate::layout::ty_name(m.prog, ty),
            };
            let (open, close) = (m.str_lit(format!("{name}(").as_bytes()), m.str_lit(b")"));
            let (push, quoted) = (m.rt(Rt::SbStr), m.rt(Rt::SbQuoted));
            let v = f.temp(I32);
            f.set(v).i32c(open as i32).call(push).get(v).call(quoted);
            f.i32c(close as i32).call(push);
            f.free_temp(v);
        }
        Ty::Fn(..) => {
            let (s, push) = (m.str_lit(b"<fn>"), m.rt(Rt::SbStr));
            f.ins().drop();
            f.i32c(s as i32).call(push);
        }
        Ty::Map(..) => {
            let c = m.func(FnKey::Map(MapOp::Show, ty.clone()));
            f.call(c);
        }
        _ => {
            let c = m.func(FnKey::Show(ty.clone()));
            f.call(c);
        }
    }
}

/// Appends a fixed text to the builder in local `sb`.
fn lit(m: &mut Module, f: &mut FuncBuilder, sb: u32, s: &str) {
    let (p, push) = (m.str_lit(s.as_bytes()), m.rt(Rt::SbStr));
    f.get(sb).i32c(p as i32).call(push).set(sb);
}

/// `(sb, v) -> sb` for lists, tuples, records, enums and Bytes.
pub fn gen_show(m: &mut Module, ty: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (sb, v) = (0, 1);
    match ty {
        Ty::List(e) => {
            let (i, n) = (f.local(I32), f.local(I32));
            lit(m, &mut f, sb, "[");
            f.get(v).ld32(LIST_LEN).set(n);
            let e2 = (**e).clone();
            f.for_i32(i, n, |f, _| {
                f.get(i);
                f.if_then(|f| lit(m, f, sb, ", "));
                f.get(sb)
                    .get(v)
                    .get(i)
                    .i32c(if width(&e2) == 8 { 3 } else { 2 });
                f.ins().i32_shl().i32_add();
                f.load(vt(&e2), LIST_DATA);
                emit_show(m, f, &e2);
                f.set(sb);
            });
            lit(m, &mut f, sb, "]");
        }
        Ty::Bytes => {
            let int = m.rt(Rt::SbInt);
            lit(m, &mut f, sb, "<");
            f.get(sb).get(v).ld32(8);
            f.ins().i64_extend_i32_u();
            f.call(int).set(sb);
            lit(m, &mut f, sb, " bytes>");
        }
        Ty::Tuple(_) => {
            let ss = shapes(m, ty).unwrap_or_default();
            lit(m, &mut f, sb, "(");
            if let Some(s) = ss.first() {
                fields(m, &mut f, sb, v, s, None);
            }
            lit(m, &mut f, sb, ")");
        }
        Ty::Adt(id, _) => {
            let adt = &m.prog.adts[id.0 as usize];
            let name = adt.name.clone();
            let kind = adt.kind.clone();
            let ss = shapes(m, ty).unwrap_or_default();
            match kind {
                AdtKind::Record(fs) => {
                    lit(m, &mut f, sb, &name);
                    if let Some(s) = ss.first().filter(|s| !s.tys.is_empty()) {
                        lit(m, &mut f, sb, " { ");
                        let names: Vec<String> =
                            fs.iter().map(|x| format!("{}: ", x.name)).collect();
                        fields(m, &mut f, sb, v, s, Some(&names));
                        lit(m, &mut f, sb, " }");
                    }
                }
                AdtKind::Enum(vs) => {
                    let _ = is_enum(m, ty);
                    for (k, (vd, s)) in vs.iter().zip(&ss).enumerate() {
                        f.get(v).ld32(TAG).i32c(k as i32);
                        f.ins().i32_eq();
                        f.if_(BlockType::Empty);
                        lit(m, &mut f, sb, &vd.name);
                        if !s.tys.is_empty() {
                            lit(m, &mut f, sb, "(");
                            fields(m, &mut f, sb, v, s, None);
                            lit(m, &mut f, sb, ")");
                        }
                        f.end();
                    }
                }
            }
        }
        _ => {}
    }
    f.get(sb);
    f
}

/// Appends the fields of `s` separated by ", ", each preceded by its label if given.
fn fields(
    m: &mut Module,
    f: &mut FuncBuilder,
    sb: u32,
    v: u32,
    s: &crate::layout::Shape,
    labels: Option<&[String]>,
) {
    for (i, (t, off)) in s.tys.iter().zip(&s.offs).enumerate() {
        if i > 0 {
            lit(m, f, sb, ", ");
        }
        if let Some(l) = labels.and_then(|ls| ls.get(i)) {
            lit(m, f, sb, l);
        }
        f.get(sb).get(v).load(vt(t), *off);
        emit_show(m, f, t);
        f.set(sb);
    }
}
