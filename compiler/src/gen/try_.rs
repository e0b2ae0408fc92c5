//! `try`: a closure called through the host, so that a trap inside it comes back as a
//! value instead of ending the run. The checker builds `try e` from these two intrinsics.

use super::Cx;
use crate::imports;
use crate::layout::{self, TAG};
use crate::module::R;
use crate::rt::Rt;
use wasm_encoder::{BlockType, ValType};
use weft_lang::tir::Expr;

impl Cx<'_, '_> {
    /// `TryCall(f) -> Option<T>`: allocates the `Some` block first and lets the host write
    /// f's result straight into its field; on a trap the block is freed and `None` given.
    pub fn try_call(&mut self, args: &[Expr], e: &Expr) -> R<()> {
        let opt = self.ty(&e.ty);
        let shape = layout::variant_shape(self.m.prog, &opt, 0)
            .ok_or_else(|| self.err("option layout", e.span))?;
        let field = shape.offs.first().copied().unwrap_or(TAG + 4);
        let (c, ctmp, scratch) = self.operand_local(&args[0])?;
        self.alloc(shape.size);
        let p = self.f.temp(ValType::I32);
        self.f.set(p);
        self.f.get(c).get(p).i32c(field as i32);
        self.f.ins().i32_add();
        self.f.mark(e.span);
        self.f.call(imports::index_of("try_call"));
        self.f.if_(BlockType::Result(ValType::I32));
        self.f.get(p).i32c(0).st32(TAG);
        self.f.get(p);
        self.f.else_();
        let free = self.m.rt(Rt::Free);
        self.f.get(p).call(free);
        let none = self.m.static_tag(1);
        self.f.i32c(none as i32);
        self.f.end();
        self.f.free_temp(p);
        if scratch {
            self.f.free_temp(c);
        }
        self.release(ctmp);
        Ok(())
    }

    /// `CaughtMessage() -> String`
    pub fn caught_message(&mut self, e: &Expr) {
        let s = self.f.temp(ValType::I32);
        self.f.mark(e.span);
        self.f.call(imports::index_of("caught_len"));
        let new = self.m.rt(Rt::StrNew);
        self.f.call(new).tee(s).i32c(12);
        self.f.ins().i32_add();
        self.f.call(imports::index_of("caught_message"));
        self.f.get(s);
        self.f.free_temp(s);
    }
}
