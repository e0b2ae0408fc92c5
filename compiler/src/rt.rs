//! The runtime routines every module carries, written directly in wasm: the allocator,
//! traps, checked arithmetic, strings, lists and maps. Each is generated only when used.
//!
//! The allocator: blocks are 16-byte aligned and rounded to a size class (multiples of 16
//! up to 1 KiB, then powers of two); each class has a free list whose head lives at
//! `FREE_LISTS + 4 * class`; a free block's first word links to the next. Without a free
//! block the bump pointer (global 0) advances, growing memory as needed. Every block's
//! header records its rounded size, so `free` needs no other information.

pub mod builder;
pub mod list;
pub mod map;
pub mod text;

use crate::emit::FuncBuilder;
use crate::imports;
use crate::module::{Module, DATA_BASE, FREE_LISTS, HEAP_BASE_GLOBAL, LIVE_BLOCKS_GLOBAL};
use wasm_encoder::BlockType;
use wasm_encoder::ValType::{self, I32, I64};

/// A runtime routine. Signatures are in the generators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rt {
    Alloc,
    Free,
    DecFree,
    TrapStr,
    TrapIndex,
    MulCheck,
    IntPow,
    IncElems,
    Memeq,
    StrNew,
    StrConcat,
    StrEq,
    StrCmp,
    StrHash,
    StrLen,
    StrFind,
    StrStartsWith,
    StrEndsWith,
    StrSlice,
    StrTrim,
    StrCase,
    StrSplit,
    StrChars,
    StrReplace,
    StrCharToByte,
    StrByteToChar,
    StrSubstring,
    StrParseInt,
    StrParseFloat,
    StrRepeat,
    SbNew,
    SbReserve,
    SbPush,
    SbByte,
    SbStr,
    SbQuoted,
    SbInt,
    SbFloat,
    SbDuration,
    ListNew,
    ListReserve,
    ListUnique,
    ListPush32,
    ListConcat,
    ListSlice,
    ListReverse,
    ListJoin,
    /// Sorts a unique list in place: 0 Int/Duration, 1 Float, 2 Bool, 3 String.
    Sort(u8),
    Sift(u8),
    /// `() -> ()`: forgets every allocation (see [`reset`]).
    Reset,
}

/// Generates the body of a runtime routine; returns it with its name.
pub fn generate(m: &mut Module, r: Rt) -> FuncBuilder {
    use Rt::*;
    match r {
        Alloc => alloc(m),
        Reset => reset(),
        Free => free(),
        DecFree => dec_free(m),
        TrapStr => trap_str(),
        TrapIndex => trap_index(m),
        MulCheck => mul_check(m),
        IntPow => int_pow(m),
        IncElems => inc_elems(),
        Memeq => memeq(),
        StrNew | StrConcat | StrEq | StrCmp | StrHash | StrLen | StrFind | StrStartsWith
        | StrEndsWith | StrSlice | StrTrim | StrCase | StrSplit | StrChars | StrReplace
        | StrCharToByte | StrByteToChar | StrSubstring | StrParseInt | StrParseFloat
        | StrRepeat => text::generate(m, r),
        SbNew | SbReserve | SbPush | SbByte | SbStr | SbQuoted | SbInt | SbFloat | SbDuration => {
            builder::generate(m, r)
        }
        ListNew | ListReserve | ListUnique | ListPush32 | ListConcat | ListSlice | ListReverse
        | ListJoin | Sort(_) | Sift(_) => list::generate(m, r),
    }
}

pub fn fb(params: &[ValType], results: &[ValType]) -> FuncBuilder {
    FuncBuilder::new(params.to_vec(), results.to_vec())
}

/// Emits a trap with a fixed message (never returns).
pub fn trap(m: &mut Module, f: &mut FuncBuilder, msg: &str) {
    let s = m.str_lit(msg.as_bytes());
    let t = m.rt(Rt::TrapStr);
    f.i32c(s as i32).call(t);
    f.ins().unreachable();
}

/// The free-list offset of a block of a power-of-two size above 1 KiB (on the stack):
/// class `ctz(size) + 54` (2 KiB is class 65, after the 64 small ones), 4 bytes each.
/// `alloc` and `free` must agree, so both use this.
fn large_class(f: &mut FuncBuilder) {
    f.ins().i32_ctz();
    f.i32c(54);
    f.ins().i32_add();
    f.i32c(2);
    f.ins().i32_shl();
}

/// Turns the class offset in `head` into the address of its free list.
fn free_list_addr(f: &mut FuncBuilder, head: u32) {
    f.get(head).i32c(FREE_LISTS as i32);
    f.ins().i32_add();
    f.set(head);
}

/// `(size) -> ptr`: a block of at least `size` bytes (header included) with refcount 1.
fn alloc(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (n, rounded, head, p, new) = (0, f.local(I32), f.local(I32), f.local(I32), f.local(I32));
    f.get(n).i32c(0x4000_0000);
    f.ins().i32_gt_u();
    f.if_then(|f| trap(m, f, "out of memory"));
    f.get(n).i32c(1024);
    f.ins().i32_le_u();
    f.if_(BlockType::Empty);
    f.get(n).i32c(15);
    f.ins().i32_add();
    f.i32c(-16);
    f.ins().i32_and();
    f.tee(rounded).i32c(2);
    f.ins().i32_shr_u();
    f.set(head);
    f.else_();
    f.i32c(1).i32c(32).get(n).i32c(1);
    f.ins().i32_sub().i32_clz().i32_sub().i32_shl();
    f.tee(rounded);
    large_class(&mut f);
    f.set(head);
    f.end();
    free_list_addr(&mut f, head);
    f.get(head).ld32(0).tee(p);
    f.if_(BlockType::Empty);
    f.get(head).get(p).ld32(0).st32(0);
    f.else_();
    f.ins().global_get(0);
    f.tee(p).get(rounded);
    f.ins().i32_add();
    f.tee(new).get(p);
    f.ins().i32_lt_u();
    f.if_then(|f| trap(m, f, "out of memory"));
    f.get(new);
    f.ins().memory_size(0);
    f.i32c(16);
    f.ins().i32_shl().i32_gt_u();
    f.if_then(|f| {
        f.get(new);
        f.ins().memory_size(0);
        f.i32c(16);
        f.ins().i32_shl().i32_sub();
        f.i32c(65535);
        f.ins().i32_add();
        f.i32c(16);
        f.ins().i32_shr_u().memory_grow(0);
        f.i32c(-1);
        f.ins().i32_eq();
        f.if_then(|f| trap(m, f, "out of memory"));
    });
    f.get(new);
    f.ins().global_set(0);
    f.end();
    f.get(p).i32c(1).st32(0);
    f.get(p).get(rounded).st32(4);
    live(&mut f, 1);
    f.get(p);
    f
}

/// `() -> ()`: puts the allocator back as instantiation left it: the bump pointer at the
/// heap's base (global 3), no live blocks, empty free lists. A node calls it (exported as
/// `weft.reset`) after a turn that ended normally, to run the next turn in the same
/// instance: the turn's values were all copied out to the host, so every block is dead.
/// Memory keeps its size and its old bytes; no code reads a block before writing it.
fn reset() -> FuncBuilder {
    let mut f = fb(&[], &[]);
    f.ins().global_get(HEAP_BASE_GLOBAL);
    f.ins().global_set(0);
    f.i32c(0);
    f.ins().global_set(LIVE_BLOCKS_GLOBAL);
    f.i32c(0);
    f.ins().global_set(crate::module::WIRE_POS_GLOBAL);
    f.i32c(FREE_LISTS as i32)
        .i32c(0)
        .i32c((DATA_BASE - FREE_LISTS) as i32);
    f.ins().memory_fill(0);
    f
}

fn live(f: &mut FuncBuilder, delta: i32) {
    f.ins().global_get(LIVE_BLOCKS_GLOBAL);
    f.i32c(delta);
    f.ins().i32_add().global_set(LIVE_BLOCKS_GLOBAL);
}

/// `(ptr)`: returns a block to its class's free list.
fn free() -> FuncBuilder {
    let mut f = fb(&[I32], &[]);
    let (p, size, head) = (0, f.local(I32), f.local(I32));
    f.get(p).ld32(4).tee(size).i32c(1024);
    f.ins().i32_le_u();
    f.if_(BlockType::Empty);
    f.get(size).i32c(2);
    f.ins().i32_shr_u();
    f.set(head);
    f.else_();
    f.get(size);
    large_class(&mut f);
    f.set(head);
    f.end();
    free_list_addr(&mut f, head);
    f.get(p).get(head).ld32(0).st32(0);
    f.get(head).get(p).st32(0);
    live(&mut f, -1);
    f
}

/// `(ptr)`: drops a reference to an object without heap children (null allowed).
fn dec_free(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32], &[]);
    let (p, rc) = (0, f.local(I32));
    f.get(p);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.ins().return_();
    });
    f.get(p).ld32(0).tee(rc).i32c(1);
    f.ins().i32_gt_s();
    f.if_(BlockType::Empty);
    f.get(p).get(rc).i32c(1);
    f.ins().i32_sub();
    f.st32(0);
    f.else_();
    let fr = m.rt(Rt::Free);
    f.get(p).call(fr);
    f.end();
    f
}

/// `(string)`: traps with the string's bytes as the message.
fn trap_str() -> FuncBuilder {
    let mut f = fb(&[I32], &[]);
    f.get(0).i32c(12);
    f.ins().i32_add();
    f.get(0).ld32(8).call(imports::index_of("trap"));
    f.ins().unreachable();
    f
}

/// `(index i64, len i32)`: "index 5 out of bounds for list of length 3".
fn trap_index(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I64, I32], &[]);
    let sb = f.local(I32);
    let (new, push_s, int) = (m.rt(Rt::SbNew), m.rt(Rt::SbStr), m.rt(Rt::SbInt));
    let a = m.str_lit(b"index ");
    let b = m.str_lit(b" out of bounds for list of length ");
    f.call(new)
        .i32c(a as i32)
        .call(push_s)
        .get(0)
        .call(int)
        .i32c(b as i32)
        .call(push_s)
        .get(1);
    f.ins().i64_extend_i32_u();
    f.call(int).set(sb);
    f.get(sb).call(m.rt(Rt::TrapStr));
    f.ins().unreachable();
    f
}

/// `(a, b) -> a * b`, trapping on overflow (the slow path of checked multiplication).
fn mul_check(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I64, I64], &[I64]);
    let (a, b, r) = (0, 1, f.local(I64));
    f.get(a);
    f.ins().i64_eqz();
    f.if_then(|f| {
        f.i64c(0);
        f.ins().return_();
    });
    f.get(a).i64c(-1);
    f.ins().i64_eq();
    f.if_then(|f| {
        f.get(b).i64c(i64::MIN);
        f.ins().i64_eq();
        f.if_then(|f| trap(m, f, "integer overflow"));
        f.i64c(0).get(b);
        f.ins().i64_sub().return_();
    });
    f.get(a).get(b);
    f.ins().i64_mul();
    f.tee(r).get(a);
    f.ins().i64_div_s();
    f.get(b);
    f.ins().i64_ne();
    f.if_then(|f| trap(m, f, "integer overflow"));
    f.get(r);
    f
}

/// `(base, exp) -> base ** exp`, trapping on a negative exponent or overflow.
fn int_pow(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I64, I64], &[I64]);
    let (base, exp, r) = (0, 1, f.local(I64));
    let mul = m.rt(Rt::MulCheck);
    f.get(exp).i64c(0);
    f.ins().i64_lt_s();
    f.if_then(|f| trap(m, f, "negative exponent in pow"));
    f.i64c(1).set(r);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(exp);
    f.ins().i64_eqz();
    f.br_if(brk);
    f.get(exp).i64c(1);
    f.ins().i64_and().i32_wrap_i64();
    f.if_then(|f| {
        f.get(r).get(base).call(mul).set(r);
    });
    f.get(exp).i64c(1);
    f.ins().i64_shr_u();
    f.tee(exp);
    f.ins().i64_eqz();
    f.br_if(brk);
    f.get(base).get(base).call(mul).set(base);
    f.br(top);
    f.end();
    f.end();
    f.get(r);
    f
}

/// `(addr, n)`: increments the refcount of each of n pointers stored from addr.
fn inc_elems() -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[]);
    let (addr, n, i, p) = (0, 1, f.local(I32), f.local(I32));
    f.for_i32(i, n, |f, _| {
        f.get(addr).get(i).i32c(2);
        f.ins().i32_shl().i32_add();
        f.ld32(0).set(p);
        f.inc_local(p);
    });
    f
}

/// `(a, b, n) -> i32`: whether n bytes at a and b are equal.
fn memeq() -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[I32]);
    let (a, b, n, i) = (0, 1, 2, f.local(I32));
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(i).i32c(8);
    f.ins().i32_add();
    f.get(n);
    f.ins().i32_gt_u();
    f.br_if(brk);
    f.get(a).get(i);
    f.ins().i32_add();
    f.ld64(0).get(b).get(i);
    f.ins().i32_add();
    f.ld64(0);
    f.ins().i64_ne();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    f.get(i).i32c(8);
    f.ins().i32_add();
    f.set(i);
    f.br(top);
    f.end();
    f.end();
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(i).get(n);
    f.ins().i32_ge_u();
    f.br_if(brk);
    f.get(a).get(i);
    f.ins().i32_add().i32_load8_u(crate::emit::mem(0, 1));
    f.get(b).get(i);
    f.ins().i32_add().i32_load8_u(crate::emit::mem(0, 1));
    f.ins().i32_ne();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    f.get(i).i32c(1);
    f.ins().i32_add();
    f.set(i);
    f.br(top);
    f.end();
    f.end();
    f.i32c(1);
    f
}
