//! Lanes, agent references, calls and sends, and resources (`new` and their methods):
//! every one a host import, with values crossing in the wire format (`helpers::wire`).

use super::Cx;
use crate::helpers::wire::{emit_bytes_of, emit_decode, emit_encode, emit_take_staged};
use crate::imports;
use crate::module::R;
use crate::rt::Rt;
use wasm_encoder::ValType;
use weft_lang::tir::{Expr, Intrinsic};
use weft_lang::types::Ty;

impl Cx<'_, '_> {
    pub fn agent_intrinsic(&mut self, op: Intrinsic, args: &[Expr], e: &Expr) -> R<()> {
        use Intrinsic::*;
        let rty = self.ty(&e.ty);
        match op {
            LaneGet(lane) => {
                self.f.i32c(lane as i32);
                self.f.mark(e.span);
                self.f.call(imports::index_of("lane_get"));
                self.decode_staged(&rty);
            }
            LaneSet(lane) => {
                self.f.i32c(lane as i32);
                let keep = self.encode_args(&args[..1])?;
                self.f.mark(e.span);
                self.f.call(imports::index_of("lane_set"));
                self.free_sb(keep);
                self.f.i32c(0);
            }
            MapLaneGet(lane) | MapLaneRemove(lane) | MapLaneContains(lane) => {
                self.f.i32c(lane as i32);
                let keep = self.encode_args(&args[..1])?;
                self.f.mark(e.span);
                let name = match op {
                    MapLaneGet(_) => "map_lane_get",
                    MapLaneRemove(_) => "map_lane_remove",
                    _ => "map_lane_contains",
                };
                self.f.call(imports::index_of(name));
                self.free_sb(keep);
                if !matches!(op, MapLaneContains(_)) {
                    self.decode_staged(&rty);
                }
            }
            MapLanePut(lane) => {
                self.f.i32c(lane as i32);
                let k = self.encode_args(&args[..1])?;
                let v = self.encode_args(&args[1..2])?;
                self.f.mark(e.span);
                self.f.call(imports::index_of("map_lane_put"));
                self.free_sb(k);
                self.free_sb(v);
                self.f.i32c(0);
            }
            AgentRef(agent) => {
                // The reference is the URI itself, checked against the route.
                self.expr(&args[0])?;
                let u = self.f.temp(ValType::I32);
                self.f.set(u);
                self.f.i32c(agent as i32).get(u).i32c(12);
                self.f.ins().i32_add();
                self.f.get(u).ld32(8);
                self.f.mark(e.span);
                self.f.call(imports::index_of("agent_ref"));
                self.f.get(u);
                self.f.free_temp(u);
            }
            AgentUri => {
                self.expr(&args[0])?;
            }
            AgentCall { agent, method } | AgentSend { agent, method } => {
                self.f.i32c(agent as i32).i32c(method as i32);
                let (u, tmp, scratch) = self.operand_local(&args[0])?;
                self.f.get(u).i32c(12);
                self.f.ins().i32_add();
                self.f.get(u).ld32(8);
                let keep = self.encode_args(&args[1..])?;
                self.f.mark(e.span);
                if matches!(op, AgentCall { .. }) {
                    self.f.call(imports::index_of("agent_call"));
                    self.free_sb(keep);
                    self.decode_staged(&rty);
                } else {
                    self.f.call(imports::index_of("agent_send"));
                    self.free_sb(keep);
                    self.f.i32c(0);
                }
                if scratch {
                    self.f.free_temp(u);
                }
                self.release(tmp);
            }
            ResourceNew(site) => {
                self.f.i32c(site as i32);
                let keep = self.encode_args(args)?;
                self.f.mark(e.span);
                self.f.call(imports::index_of("resource_new"));
                self.free_sb(keep);
                self.decode_staged(&rty);
            }
            ResourceOp(rop) => {
                self.f.i32c(rop.code() as i32);
                let (h, tmp, scratch) = self.operand_local(&args[0])?;
                self.f.get(h).i32c(12);
                self.f.ins().i32_add();
                self.f.get(h).ld32(8);
                let a = self.encode_args(args.get(1..2).unwrap_or_default())?;
                let b = self.encode_args(args.get(2..).unwrap_or_default())?;
                self.f.mark(e.span);
                self.f.call(imports::index_of("resource_op"));
                self.free_sb(a);
                self.free_sb(b);
                self.decode_staged(&rty);
                if scratch {
                    self.f.free_temp(h);
                }
                self.release(tmp);
            }
            _ => return Err(self.err(format!("{op:?} is not an agent operation"), e.span)),
        }
        Ok(())
    }

    /// Encodes the (borrowed) values of `args` one after another into a new builder and
    /// pushes `ptr, len` of its bytes; returns the local holding the builder.
    fn encode_args(&mut self, args: &[Expr]) -> R<u32> {
        let sb = self.f.local(ValType::I32);
        let new = self.m.rt(Rt::SbNew);
        self.f.call(new).set(sb);
        for a in args {
            let t = self.ty(&a.ty);
            let tmp = self.expr_b(a)?;
            let v = self.f.temp(crate::layout::vt(&t));
            self.f.set(v);
            self.f.get(sb).get(v);
            emit_encode(self.m, &mut self.f, &t);
            self.f.set(sb);
            self.f.free_temp(v);
            self.release(tmp);
        }
        self.f.get(sb);
        emit_bytes_of(&mut self.f, sb);
        Ok(sb)
    }

    fn free_sb(&mut self, sb: u32) {
        let d = self.m.rt(Rt::DecFree);
        self.f.get(sb).call(d);
    }

    /// With a staged length on the stack: the value of type `ty` decoded from those bytes.
    fn decode_staged(&mut self, ty: &Ty) {
        emit_take_staged(self.m, &mut self.f);
        let buf = self.f.temp(ValType::I32);
        self.f.set(buf);
        emit_decode(self.m, &mut self.f, ty);
        let d = self.m.rt(Rt::DecFree);
        self.f.get(buf).call(d);
        self.f.free_temp(buf);
    }
}
