//! How values are represented: the wasm type of every Weft type and the byte layout of
//! every heap object.
//!
//! Every heap object starts with an 8-byte header `[refcount i32][block size i32]` and is
//! 16-byte aligned. Payloads:
//! - String, Bytes: `[len i32 @8][bytes @12..]`.
//! - List: `[len i32 @8][cap i32 @12][elements @16..]`, elements 4 or 8 bytes wide, inline
//!   (the object is reallocated when it grows).
//! - Record, tuple: fields from offset 8, each aligned to its width (8 for i64/f64, 4 else).
//! - Enum: `[tag i32 @8]`, then the variant's fields from offset 12, aligned.
//! - Closure: `[code slot i32 @8][drop slot i32 @12][captures from 16]`.
//! - Map: see [`crate::rt::map`].

use wasm_encoder::ValType;
use weft_lang::tir::{AdtKind, Program};
use weft_lang::types::Ty;

pub const HDR: u32 = 8;
pub const LIST_LEN: u32 = 8;
pub const LIST_DATA: u32 = 16;
pub const TAG: u32 = 8;
pub const CLO_CODE: u32 = 8;
pub const CLO_DROP: u32 = 12;
pub const CLO_CAPS: u32 = 16;
/// The refcount of statically allocated objects: never reaches 1, never freed.
pub const STATIC_RC: i32 = 1 << 30;

/// The wasm type that holds a value of `ty`.
pub fn vt(ty: &Ty) -> ValType {
    match ty {
        Ty::Int | Ty::Duration => ValType::I64,
        Ty::Float => ValType::F64,
        _ => ValType::I32,
    }
}

/// Width in bytes of a value of `ty` stored in memory.
pub fn width(ty: &Ty) -> u32 {
    match vt(ty) {
        ValType::I32 => 4,
        _ => 8,
    }
}

pub fn is_heap(ty: &Ty) -> bool {
    ty.is_heap()
}

/// Fields laid out from `start`: their offsets and the total size.
pub fn fields_from(start: u32, tys: &[Ty]) -> (Vec<u32>, u32) {
    let mut off = start;
    let mut offs = vec![];
    for t in tys {
        let w = width(t);
        off = off.div_ceil(w) * w;
        offs.push(off);
        off += w;
    }
    (offs, off)
}

/// A record, tuple or enum variant: the concrete field types and their offsets.
#[derive(Clone, Debug)]
pub struct Shape {
    pub tys: Vec<Ty>,
    pub offs: Vec<u32>,
    pub size: u32,
}

impl Shape {
    pub fn new(start: u32, tys: Vec<Ty>) -> Shape {
        let (offs, size) = fields_from(start, &tys);
        Shape { tys, offs, size }
    }

    pub fn heap_fields(&self) -> impl Iterator<Item = (u32, &Ty)> {
        self.offs
            .iter()
            .copied()
            .zip(self.tys.iter())
            .filter(|(_, t)| is_heap(t))
    }
}

/// The fields of a record or tuple type (concrete).
pub fn record_shape(p: &Program, ty: &Ty) -> Option<Shape> {
    match ty {
        Ty::Tuple(ts) => Some(Shape::new(HDR, ts.clone())),
        Ty::Adt(id, args) => match &p.adts.get(id.0 as usize)?.kind {
            AdtKind::Record(fs) => Some(Shape::new(
                HDR,
                fs.iter().map(|f| f.ty.subst(args)).collect(),
            )),
            AdtKind::Enum(_) => None,
        },
        _ => None,
    }
}

/// The variants of an enum type (concrete), each with its payload shape.
pub fn enum_shapes(p: &Program, ty: &Ty) -> Option<Vec<Shape>> {
    match ty {
        Ty::Adt(id, args) => match &p.adts.get(id.0 as usize)?.kind {
            AdtKind::Enum(vs) => Some(
                vs.iter()
                    .map(|v| Shape::new(TAG + 4, v.fields.iter().map(|f| f.subst(args)).collect()))
                    .collect(),
            ),
            AdtKind::Record(_) => None,
        },
        _ => None,
    }
}

/// The variant shape of one variant of an enum type.
pub fn variant_shape(p: &Program, ty: &Ty, variant: u32) -> Option<Shape> {
    enum_shapes(p, ty)?.into_iter().nth(variant as usize)
}

/// Nesting depth of a type (for the monomorphization limit).
pub fn ty_depth(ty: &Ty) -> u32 {
    match ty {
        Ty::List(t) => 1 + ty_depth(t),
        Ty::Map(k, v) => 1 + ty_depth(k).max(ty_depth(v)),
        Ty::Tuple(ts) | Ty::Adt(_, ts) => 1 + ts.iter().map(ty_depth).max().unwrap_or(0),
        Ty::Fn(ps, r) => 1 + ps.iter().map(ty_depth).max().unwrap_or(0).max(ty_depth(r)),
        _ => 0,
    }
}

/// A concrete type as a user writes it (`Option<Int>`, `Counter`).
pub fn ty_name(p: &Program, ty: &Ty) -> String {
    let adts = |id: weft_lang::types::AdtId| {
        p.adts
            .get(id.0 as usize)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let agents = |id: weft_lang::types::AgentId| {
        p.agents
            .get(id.0 as usize)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    weft_lang::types::TyDisplay {
        ty,
        adt_names: &adts,
        agent_names: &agents,
        param_names: &[],
    }
    .to_string()
}
