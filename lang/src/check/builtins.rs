//! The built-in functions, constants and methods of the primitive types, with their types.

use crate::tir::{Intrinsic as I, ResourceOp};
use crate::types::{ResourceKind, Ty};

/// `KiB`, `MiB`, `GiB` (bytes) and `milli` (thousandths of a CPU core).
pub fn constant(name: &str) -> Option<i64> {
    match name {
        "KiB" => Some(1 << 10),
        "MiB" => Some(1 << 20),
        "GiB" => Some(1 << 30),
        "milli" => Some(1),
        _ => None,
    }
}

/// A method implemented by the compiler: its parameters (after the receiver) and result.
pub struct BuiltinMethod {
    pub op: I,
    pub params: Vec<Ty>,
    pub ret: Ty,
    /// Changes its receiver (a `MutCall`).
    pub mutating: bool,
}

fn m(op: I, params: Vec<Ty>, ret: Ty) -> Option<BuiltinMethod> {
    Some(BuiltinMethod {
        op,
        params,
        ret,
        mutating: false,
    })
}

fn mutating(op: I, params: Vec<Ty>, ret: Ty) -> Option<BuiltinMethod> {
    Some(BuiltinMethod {
        op,
        params,
        ret,
        mutating: true,
    })
}

/// The built-in method `name` on a receiver of type `recv` (already resolved at the top).
pub fn method(recv: &Ty, name: &str, option: impl Fn(Ty) -> Ty) -> Option<BuiltinMethod> {
    use Ty::*;
    match (recv, name) {
        (_, "to_string") => m(I::ToString, vec![], String),
        (_, "hash") => m(I::Hash, vec![], Int),
        (Int, "abs") => m(I::IntAbs, vec![], Int),
        (Int, "min") => m(I::IntMin, vec![Int], Int),
        (Int, "max") => m(I::IntMax, vec![Int], Int),
        (Int, "pow") => m(I::IntPow, vec![Int], Int),
        (Int, "to_float") => m(I::IntToFloat, vec![], Float),
        (Float, "abs") => m(I::FloatAbs, vec![], Float),
        (Float, "sqrt") => m(I::FloatSqrt, vec![], Float),
        (Float, "floor") => m(I::FloatFloor, vec![], Float),
        (Float, "ceil") => m(I::FloatCeil, vec![], Float),
        (Float, "round") => m(I::FloatRound, vec![], Float),
        (Float, "pow") => m(I::FloatPow, vec![Float], Float),
        (Float, "min") => m(I::FloatMin, vec![Float], Float),
        (Float, "max") => m(I::FloatMax, vec![Float], Float),
        (Float, "to_int") => m(I::FloatToInt, vec![], Int),
        (Float, "to_fixed") => m(I::FloatToFixed, vec![Int], String),
        (Float, "sin") => m(I::FloatSin, vec![], Float),
        (Float, "cos") => m(I::FloatCos, vec![], Float),
        (Float, "tan") => m(I::FloatTan, vec![], Float),
        (Float, "atan2") => m(I::FloatAtan2, vec![Float], Float),
        (Float, "exp") => m(I::FloatExp, vec![], Float),
        (Float, "ln") => m(I::FloatLn, vec![], Float),
        (Float, "is_nan") => m(I::FloatIsNan, vec![], Bool),
        (String, "len") => m(I::StrLen, vec![], Int),
        (String, "contains") => m(I::StrContains, vec![String], Bool),
        (String, "starts_with") => m(I::StrStartsWith, vec![String], Bool),
        (String, "ends_with") => m(I::StrEndsWith, vec![String], Bool),
        (String, "trim") => m(I::StrTrim, vec![], String),
        (String, "to_upper") => m(I::StrToUpper, vec![], String),
        (String, "to_lower") => m(I::StrToLower, vec![], String),
        (String, "split") => m(I::StrSplit, vec![String], Ty::list(String)),
        (String, "chars") => m(I::StrChars, vec![], Ty::list(String)),
        (String, "replace") => m(I::StrReplace, vec![String, String], String),
        (String, "substring") => m(I::StrSubstring, vec![Int, Int], String),
        (String, "index_of") => m(I::StrIndexOf, vec![String], option(Int)),
        (String, "parse_int") => m(I::StrParseInt, vec![], option(Int)),
        (String, "parse_float") => m(I::StrParseFloat, vec![], option(Float)),
        (String, "repeat") => m(I::StrRepeat, vec![Int], String),
        (String, "to_bytes") => m(I::StrToBytes, vec![], Bytes),
        (Bytes, "len") => m(I::BytesLen, vec![], Int),
        (Duration, "millis") => m(I::DurationMillis, vec![], Int),
        (List(_), "len") => m(I::ListLen, vec![], Int),
        (List(t), "push") => mutating(I::ListPush, vec![(**t).clone()], Unit),
        (List(t), "pop") => mutating(I::ListPop, vec![], option((**t).clone())),
        (List(t), "sort") => m(I::ListSort, vec![], recv.clone()).filter(|_| sortable(t)),
        (List(t), "join") if **t == String => m(I::ListJoin, vec![String], String),
        (List(_), "concat") => m(I::ListConcat, vec![recv.clone()], recv.clone()),
        (List(_), "slice") => m(I::ListSlice, vec![Int, Int], recv.clone()),
        (List(_), "reverse") => m(I::ListReverse, vec![], recv.clone()),
        (List(t), "contains") => m(I::ListContains, vec![(**t).clone()], Bool),
        (Map(_, _), "len") => m(I::MapLen, vec![], Int),
        (Map(k, v), "get") => m(I::MapGet, vec![(**k).clone()], option((**v).clone())),
        (Map(k, v), "insert") => mutating(I::MapInsert, vec![(**k).clone(), (**v).clone()], Unit),
        (Map(k, v), "remove") => mutating(I::MapRemove, vec![(**k).clone()], option((**v).clone())),
        (Map(k, _), "contains_key") => m(I::MapContainsKey, vec![(**k).clone()], Bool),
        (Map(k, _), "keys") => m(I::MapKeys, vec![], Ty::list((**k).clone())),
        (Map(_, v), "values") => m(I::MapValues, vec![], Ty::list((**v).clone())),
        (Resource(kind, a), _) => resource_method(*kind, a, name, option),
        _ => None,
    }
}

/// The methods of a resource handle.
fn resource_method(
    kind: ResourceKind,
    a: &[Ty],
    name: &str,
    option: impl Fn(Ty) -> Ty,
) -> Option<BuiltinMethod> {
    use ResourceOp as O;
    let op = |op| I::ResourceOp(op);
    let arg = |i: usize| a.get(i).cloned().unwrap_or(Ty::Unit);
    match (kind, name) {
        (ResourceKind::Queue, "send") => m(op(O::QueueSend), vec![arg(0)], Ty::Unit),
        (ResourceKind::Queue, "receive") => m(op(O::QueueReceive), vec![], option(arg(0))),
        (ResourceKind::Queue, "len") => m(op(O::QueueLen), vec![], Ty::Int),
        (ResourceKind::Table, "put") => m(op(O::TablePut), vec![arg(0), arg(1)], Ty::Unit),
        (ResourceKind::Table, "get") => m(op(O::TableGet), vec![arg(0)], option(arg(1))),
        (ResourceKind::Table, "delete") => m(op(O::TableDelete), vec![arg(0)], Ty::Unit),
        (ResourceKind::Table, "scan") if arg(0) == Ty::String => m(
            op(O::TableScan),
            vec![Ty::String],
            Ty::list(Ty::Tuple(vec![Ty::String, arg(1)])),
        ),
        (ResourceKind::Table, "len") => m(op(O::TableLen), vec![], Ty::Int),
        (ResourceKind::Secret, "get") => m(op(O::SecretGet), vec![], Ty::String),
        (ResourceKind::Volume, "write") => {
            m(op(O::VolumeWrite), vec![Ty::String, Ty::String], Ty::Unit)
        }
        (ResourceKind::Volume, "read") => {
            m(op(O::VolumeRead), vec![Ty::String], option(Ty::String))
        }
        (ResourceKind::Volume, "delete") => m(op(O::VolumeDelete), vec![Ty::String], Ty::Unit),
        (ResourceKind::Volume, "list") => {
            m(op(O::VolumeList), vec![Ty::String], Ty::list(Ty::String))
        }
        _ => None,
    }
}

/// Whether a built-in method of this name changes its receiver on some type (the
/// `mutating` entries of [`method`]).
pub fn may_mutate(name: &str) -> bool {
    matches!(name, "push" | "pop" | "insert" | "remove")
}

fn sortable(t: &Ty) -> bool {
    matches!(
        t,
        Ty::Int | Ty::Float | Ty::String | Ty::Bool | Ty::Duration | Ty::Var(_)
    )
}

/// A built-in free function: `print`, `assert`, `panic`, `now`, ...
pub enum BuiltinFn {
    Print,
    Assert,
    AssertEq,
    Panic,
    Now,
    Random,
    Sleep,
    Hash,
}

pub fn function(name: &str) -> Option<BuiltinFn> {
    Some(match name {
        "print" => BuiltinFn::Print,
        "assert" => BuiltinFn::Assert,
        "assert_eq" => BuiltinFn::AssertEq,
        "panic" => BuiltinFn::Panic,
        "now" => BuiltinFn::Now,
        "random" => BuiltinFn::Random,
        "sleep" => BuiltinFn::Sleep,
        "hash" => BuiltinFn::Hash,
        _ => return None,
    })
}
