//! A function body under construction: locals, the instruction bytes, structured labels
//! and the source positions recorded for stack traces.
//!
//! Instructions go into a plain byte buffer so locals can be added while the body is being
//! written; [`FuncBuilder::finish`] prepends the locals and shifts the recorded offsets by
//! that prefix, so they are relative to the start of the body after its size, which is
//! what wasmtime's `FrameInfo::func_offset` measures from.

use std::collections::HashMap;
use wasm_encoder::{BlockType, Function, InstructionSink, MemArg, ValType};
use weft_lang::source::Span;

/// A structured control label (block, loop or if) opened in a [`FuncBuilder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u32);

pub struct FuncBuilder {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    locals: Vec<ValType>,
    code: Vec<u8>,
    locs: Vec<(u32, Span, Option<u32>)>,
    ctrl: Vec<u32>,
    next_label: u32,
    free_temps: HashMap<ValTypeKey, Vec<u32>>,
    /// The source position of the expression being compiled: recorded before every call.
    pub cur: Option<Span>,
    /// The inlined call (an index into [`FuncBuilder::inlined`]) whose body is being
    /// compiled: recorded with every position.
    pub site: Option<u32>,
    /// The calls inlined into this function, for its debug info.
    pub inlined: Vec<InlineFrame>,
}

/// A call inlined into the function being built.
#[derive(Clone, Debug)]
pub struct InlineFrame {
    /// The inlined function as a stack trace names it.
    pub name: String,
    /// The call, in the function of `parent` (or the function being built).
    pub call: Span,
    /// The inlined call this one is inside, if any.
    pub parent: Option<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum ValTypeKey {
    I32,
    I64,
    F64,
    Other,
}

fn key(vt: ValType) -> ValTypeKey {
    match vt {
        ValType::I32 => ValTypeKey::I32,
        ValType::I64 => ValTypeKey::I64,
        ValType::F64 => ValTypeKey::F64,
        _ => ValTypeKey::Other,
    }
}

/// A memory operand at `offset` with natural alignment for `bytes`-wide access.
pub fn mem(offset: u32, bytes: u32) -> MemArg {
    let align = match bytes {
        1 => 0,
        2 => 1,
        4 => 2,
        _ => 3,
    };
    MemArg {
        offset: offset as u64,
        align,
        memory_index: 0,
    }
}

impl FuncBuilder {
    pub fn new(params: Vec<ValType>, results: Vec<ValType>) -> FuncBuilder {
        FuncBuilder {
            params,
            results,
            locals: vec![],
            code: vec![],
            locs: vec![],
            ctrl: vec![],
            next_label: 0,
            free_temps: HashMap::new(),
            cur: None,
            site: None,
            inlined: vec![],
        }
    }

    /// The instruction sink.
    pub fn ins(&mut self) -> InstructionSink<'_> {
        InstructionSink::new(&mut self.code)
    }

    /// A new local (never reused).
    pub fn local(&mut self, vt: ValType) -> u32 {
        self.locals.push(vt);
        (self.params.len() + self.locals.len() - 1) as u32
    }

    /// A scratch local, reused after [`FuncBuilder::free_temp`].
    pub fn temp(&mut self, vt: ValType) -> u32 {
        if let Some(l) = self.free_temps.get_mut(&key(vt)).and_then(Vec::pop) {
            return l;
        }
        self.local(vt)
    }

    pub fn free_temp(&mut self, l: u32) {
        let vt = self.local_type(l);
        self.free_temps.entry(key(vt)).or_default().push(l);
    }

    pub fn local_type(&self, l: u32) -> ValType {
        let l = l as usize;
        if l < self.params.len() {
            self.params[l]
        } else {
            self.locals[l - self.params.len()]
        }
    }

    /// Records that the next instruction belongs to `span` (in the current inlined call).
    pub fn mark(&mut self, span: Span) {
        let off = self.code.len() as u32;
        if let Some(last) = self.locs.last_mut() {
            if last.0 == off {
                last.1 = span;
                last.2 = self.site;
                return;
            }
        }
        self.locs.push((off, span, self.site));
    }

    fn open(&mut self) -> Label {
        let l = self.next_label;
        self.next_label += 1;
        self.ctrl.push(l);
        Label(l)
    }

    pub fn block(&mut self, bt: BlockType) -> Label {
        self.ins().block(bt);
        self.open()
    }

    pub fn loop_(&mut self, bt: BlockType) -> Label {
        self.ins().loop_(bt);
        self.open()
    }

    pub fn if_(&mut self, bt: BlockType) -> Label {
        self.ins().if_(bt);
        self.open()
    }

    pub fn else_(&mut self) {
        self.ins().else_();
    }

    pub fn end(&mut self) {
        self.ctrl.pop().expect("end without an open block");
        self.ins().end();
    }

    fn depth(&self, l: Label) -> u32 {
        let pos = self
            .ctrl
            .iter()
            .rposition(|x| *x == l.0)
            .expect("branch to a label that is not open");
        (self.ctrl.len() - 1 - pos) as u32
    }

    pub fn br(&mut self, l: Label) {
        let d = self.depth(l);
        self.ins().br(d);
    }

    pub fn br_if(&mut self, l: Label) {
        let d = self.depth(l);
        self.ins().br_if(d);
    }

    // Short forms for the most common instructions.
    pub fn get(&mut self, l: u32) -> &mut Self {
        self.ins().local_get(l);
        self
    }
    pub fn set(&mut self, l: u32) -> &mut Self {
        self.ins().local_set(l);
        self
    }
    pub fn tee(&mut self, l: u32) -> &mut Self {
        self.ins().local_tee(l);
        self
    }
    pub fn i32c(&mut self, v: i32) -> &mut Self {
        self.ins().i32_const(v);
        self
    }
    pub fn i64c(&mut self, v: i64) -> &mut Self {
        self.ins().i64_const(v);
        self
    }
    pub fn call(&mut self, f: u32) -> &mut Self {
        if let Some(s) = self.cur {
            // An explicit mark at this offset is more precise; keep it.
            if self
                .locs
                .last()
                .is_none_or(|l| l.0 != self.code.len() as u32)
            {
                self.mark(s);
            }
        }
        self.ins().call(f);
        self
    }
    pub fn ld32(&mut self, off: u32) -> &mut Self {
        self.ins().i32_load(mem(off, 4));
        self
    }
    pub fn st32(&mut self, off: u32) -> &mut Self {
        self.ins().i32_store(mem(off, 4));
        self
    }
    pub fn ld64(&mut self, off: u32) -> &mut Self {
        self.ins().i64_load(mem(off, 8));
        self
    }
    pub fn st64(&mut self, off: u32) -> &mut Self {
        self.ins().i64_store(mem(off, 8));
        self
    }

    /// Loads a value of type `vt` from `[addr + off]` (address on the stack).
    pub fn load(&mut self, vt: ValType, off: u32) -> &mut Self {
        match vt {
            ValType::I64 => self.ins().i64_load(mem(off, 8)),
            ValType::F64 => self.ins().f64_load(mem(off, 8)),
            _ => self.ins().i32_load(mem(off, 4)),
        };
        self
    }

    /// Stores a value of type `vt` to `[addr + off]` (address, then value on the stack).
    pub fn store(&mut self, vt: ValType, off: u32) -> &mut Self {
        match vt {
            ValType::I64 => self.ins().i64_store(mem(off, 8)),
            ValType::F64 => self.ins().f64_store(mem(off, 8)),
            _ => self.ins().i32_store(mem(off, 4)),
        };
        self
    }

    /// A zero of type `vt`.
    pub fn zero(&mut self, vt: ValType) -> &mut Self {
        match vt {
            ValType::I64 => self.ins().i64_const(0),
            ValType::F64 => self.ins().f64_const(0.0.into()),
            _ => self.ins().i32_const(0),
        };
        self
    }

    /// `for i in 0..n` over i32 locals (`n` read each iteration); `body` gets the break label.
    pub fn for_i32(&mut self, i: u32, n: u32, body: impl FnOnce(&mut Self, Label)) {
        self.i32c(0).set(i);
        let brk = self.block(BlockType::Empty);
        let top = self.loop_(BlockType::Empty);
        self.get(i).get(n);
        self.ins().i32_ge_u();
        self.br_if(brk);
        body(self, brk);
        self.get(i).i32c(1);
        self.ins().i32_add();
        self.set(i);
        self.br(top);
        self.end();
        self.end();
    }

    /// `if (cond on the stack) { then }`.
    pub fn if_then(&mut self, then: impl FnOnce(&mut Self)) {
        self.if_(BlockType::Empty);
        then(self);
        self.end();
    }

    /// Increments the refcount of the pointer in local `p`.
    pub fn inc_local(&mut self, p: u32) {
        self.get(p).get(p).ld32(0).i32c(1);
        self.ins().i32_add();
        self.st32(0);
    }

    /// The encoded body and the recorded `(offset, span, inlined call)`, sorted by offset.
    pub fn finish(mut self) -> (Function, Vec<(u32, Span, Option<u32>)>) {
        assert!(self.ctrl.is_empty(), "unbalanced blocks in a function body");
        self.ins().end();
        let mut groups: Vec<(u32, ValType)> = vec![];
        for vt in &self.locals {
            match groups.last_mut() {
                Some((n, t)) if t == vt => *n += 1,
                _ => groups.push((1, *vt)),
            }
        }
        let mut f = Function::new(groups);
        let prefix = f.byte_len() as u32;
        f.raw(self.code.iter().copied());
        let locs = self
            .locs
            .into_iter()
            .map(|(o, s, i)| (o + prefix, s, i))
            .collect();
        (f, locs)
    }
}
