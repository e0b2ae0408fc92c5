//! The typed IR: a checked program with every name resolved and every expression typed.
//!
//! This is the contract between the checker (`check`) and the compiler. Sugar is gone:
//! named and default arguments are positional, `e?` is a `Match` with a `Return`, `x += e`
//! is `x = x + e`, lambdas are lifted to functions whose leading parameters are their
//! captures, method calls are `Call`s or `Intrinsic`s, interpolation is `Interp`.
//! Generic functions stay generic (`Ty::Param`); the compiler monomorphizes.

pub mod visit;

use crate::ast::{BinOp, UnOp};
use crate::source::Span;
use crate::types::{AdtId, AgentId, ResourceKind, Ty};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

/// Index into the enclosing [`FuncDef::locals`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

#[derive(Clone, Debug)]
pub struct Program {
    pub adts: Vec<AdtDef>,
    pub funcs: Vec<FuncDef>,
    pub tests: Vec<TestDef>,
    /// `fn main()`, if the root module has one (it takes nothing and returns `Unit`).
    pub main: Option<FuncId>,
    /// Agent declarations, indexed by [`AgentId`].
    pub agents: Vec<AgentDef>,
    /// The prelude's `enum Option<T> { Some(T), None }`: variant 0 is `Some`, 1 is `None`.
    pub option: AdtId,
    /// The prelude's `enum Result<T, E> { Ok(T), Err(E) }`: variant 0 is `Ok`, 1 is `Err`.
    pub result: AdtId,
    /// Every `new` of a resource, in source order; [`Intrinsic::ResourceNew`] indexes it.
    pub resources: Vec<ResourceSite>,
}

/// One `new R("name", ...)` in the program: what it allocates, where it is written.
#[derive(Clone, Debug)]
pub struct ResourceSite {
    pub kind: ResourceKind,
    /// The name as written: `jobs`, or `program/jobs` to attach to another program's.
    pub name: String,
    /// The type arguments (`[Job]` for `QueueService<Job>`), without parameters.
    pub args: Vec<Ty>,
    /// The named settings the site passes after the name, in the kind's order.
    pub settings: Vec<String>,
    /// A Cell's event handlers, in its body's order. After the settings, the site
    /// passes each handler's source (a queue handle), then each handler's captures.
    pub handlers: Vec<CellHandler>,
    /// The whole `new` expression.
    pub span: Span,
}

/// `on jobs |job| { ... }` in a Cell's body: a lifted function whose parameters are the
/// captured values, then the message.
#[derive(Clone, Debug, PartialEq)]
pub struct CellHandler {
    pub func: FuncId,
    /// What it handles.
    pub event: HandlerEvent,
    /// A Cell's `every` timer's period in nanoseconds; 0 otherwise (a Timer's period is
    /// its `every` setting).
    pub period_ns: i64,
    /// The captured values' types, in the function's parameter order.
    pub captures: Vec<Ty>,
    /// The message's type (the queue's element type, `std::http`'s `Request`; `Unit`
    /// for a tick, which has none).
    pub msg: Ty,
    /// What it gives back: `std::http`'s `Response` for a request, else `Unit`.
    pub reply: Ty,
    /// The source's name as written (`jobs`; `request`, `every`).
    pub source: String,
    pub span: Span,
}

/// The host capabilities code on the cluster may be granted (`capabilities: [...]`),
/// each a bit of the mask its setting holds: bit `i` for `CAPABILITIES[i]`.
pub const CAPABILITIES: [&str; 4] = ["print", "clock", "sleep", "agents"];

/// The events a resource's code handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerEvent {
    /// A message of a queue (`on jobs |job| { }` in a Cell).
    Queue,
    /// An HTTP request (an HttpService's `|req| { }`).
    Http,
    /// A tick of a Timer (its body).
    Tick,
}

impl HandlerEvent {
    /// As the manifest writes it.
    pub fn name(self) -> &'static str {
        match self {
            HandlerEvent::Queue => "queue",
            HandlerEvent::Http => "http",
            HandlerEvent::Tick => "tick",
        }
    }
}

/// An operation on a resource handle; each is a method of the handle's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceOp {
    /// `(QueueService<T>, T) -> Unit`
    QueueSend,
    /// `(QueueService<T>) -> Option<T>`: takes the next message; it is acknowledged when
    /// the turn (or `main`) that took it ends without a trap, and delivered again after
    /// the queue's visibility timeout otherwise.
    QueueReceive,
    /// `(QueueService<T>) -> Int`: messages waiting or taken but not acknowledged.
    QueueLen,
    /// `(Table<K, V>, K, V) -> Unit`
    TablePut,
    /// `(Table<K, V>, K) -> Option<V>`
    TableGet,
    /// `(Table<K, V>, K) -> Unit`
    TableDelete,
    /// `(Table<String, V>, String) -> List<(String, V)>`: the rows whose key starts with
    /// the prefix, in key order.
    TableScan,
    /// `(Table<K, V>) -> Int`
    TableLen,
    /// `(Secret) -> String`: the secret's value, only in code on the cluster granted it.
    SecretGet,
    /// `(Volume, String, String) -> Unit`: writes a file of the node-local volume.
    VolumeWrite,
    /// `(Volume, String) -> Option<String>`: a file's text.
    VolumeRead,
    /// `(Volume, String) -> Unit`: removes a file.
    VolumeDelete,
    /// `(Volume, String) -> List<String>`: the files whose path starts with the prefix.
    VolumeList,
}

impl ResourceOp {
    /// The wire code the host import is called with.
    pub fn code(self) -> u32 {
        self as u32
    }

    pub const ALL: [ResourceOp; 13] = [
        ResourceOp::QueueSend,
        ResourceOp::QueueReceive,
        ResourceOp::QueueLen,
        ResourceOp::TablePut,
        ResourceOp::TableGet,
        ResourceOp::TableDelete,
        ResourceOp::TableScan,
        ResourceOp::TableLen,
        ResourceOp::SecretGet,
        ResourceOp::VolumeWrite,
        ResourceOp::VolumeRead,
        ResourceOp::VolumeDelete,
        ResourceOp::VolumeList,
    ];

    pub fn from_code(code: u32) -> Option<ResourceOp> {
        ResourceOp::ALL.get(code as usize).copied()
    }

    /// Whether the operation changes the resource (and so is held until the turn commits).
    pub fn writes(self) -> bool {
        matches!(
            self,
            ResourceOp::QueueSend
                | ResourceOp::TablePut
                | ResourceOp::TableDelete
                | ResourceOp::VolumeWrite
                | ResourceOp::VolumeDelete
        )
    }
}

#[derive(Clone, Debug)]
pub struct AdtDef {
    pub name: String,
    pub generics: Vec<String>,
    pub kind: AdtKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum AdtKind {
    Record(Vec<FieldDef>),
    Enum(Vec<VariantDef>),
}

#[derive(Clone, Debug)]
pub struct FieldDef {
    pub name: String,
    /// May mention `Ty::Param(i)` of the ADT's generics.
    pub ty: Ty,
    /// `hits: Int = 0`: the function that computes the default, with the ADT's generics,
    /// no parameters, and `ty` for its result. A record literal that leaves the field out
    /// calls it; it uses no lanes and calls no agents.
    pub default: Option<FuncId>,
}

#[derive(Clone, Debug)]
pub struct VariantDef {
    pub name: String,
    pub fields: Vec<Ty>,
}

/// An `agent` declaration. Every member body is a function whose first parameter is
/// `self` (of type `Ty::Agent(id)`), followed by the member's own parameters.
#[derive(Clone, Debug)]
pub struct AgentDef {
    /// As written, with the module prefix of a non-root module (`rooms::Room`), as ADTs are.
    pub name: String,
    /// `/counters/:id`; without `at`, `/<snake_case name>/:id`.
    pub route: String,
    pub lanes: Vec<LaneDef>,
    /// `fn` members and `command` lanes, in declaration order.
    pub methods: Vec<AgentMethod>,
    pub demands: Vec<DemandDef>,
    /// `on start`: runs once when the agent is first activated (before any message).
    pub on_start: Option<FuncId>,
    pub timers: Vec<TimerDef>,
    /// `migrate` members, in declaration order.
    pub migrations: Vec<MigrationDef>,
    /// The agent's name as written.
    pub span: Span,
}

/// `migrate count(old: Int) -> Float { ... } undo(new) { ... }`: how lane `lane`, stored
/// as `from` by an earlier version of the program, becomes the lane's type, and back.
/// Both functions are pure: no `self`, no lanes, no calls to agents.
#[derive(Clone, Debug)]
pub struct MigrationDef {
    /// An index into [`AgentDef::lanes`].
    pub lane: u32,
    /// The lane's whole type in the version migrated from; never the lane's type itself.
    pub from: Ty,
    /// `(old: from) -> lane type`; named `Counter.migrate count from Int`.
    pub func: FuncId,
    /// `(new: lane type) -> from`, when declared with `undo`; named `Counter.undo count to Int`.
    pub undo: Option<FuncId>,
    /// From `migrate` to the end of its body.
    pub span: Span,
}

/// How a lane is declared; the kind fixes the shape of its type (`Map<K, V>` for `Map`,
/// `List<T>` for `List`, anything serializable for `Value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaneKind {
    Value,
    Map,
    List,
}

#[derive(Clone, Debug)]
pub struct LaneDef {
    pub name: String,
    pub kind: LaneKind,
    /// The whole lane's type: `Int`, `Map<String, Int>`, `List<String>`.
    pub ty: Ty,
    /// Computes the initial value (`self` only); `None` starts a map or list lane empty.
    /// It uses no lane intrinsics and makes no direct calls to the agent's methods.
    pub init: Option<FuncId>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct AgentMethod {
    pub name: String,
    /// `self` first, then the declared parameters; named `Counter.incr`.
    pub func: FuncId,
    /// A `command` lane: returns `Unit`, meant to be sent one-way.
    pub command: bool,
    /// One entry per declared parameter (after `self`): the function of no parameters that
    /// computes its default, for one declared with `= value`. Direct calls and calls
    /// through references fill them in; the method's exported entry computes them for a
    /// caller that sent fewer arguments. Only trailing parameters have one.
    pub defaults: Vec<Option<FuncId>>,
}

#[derive(Clone, Debug)]
pub struct DemandDef {
    pub name: String,
    /// The demand's value type, also `func`'s result.
    pub ty: Ty,
    /// Takes `self` only.
    pub func: FuncId,
}

#[derive(Clone, Debug)]
pub struct TimerDef {
    /// The period, in nanoseconds (positive).
    pub every_ns: i64,
    /// Takes `self` only; named `Counter.every 1m`.
    pub func: FuncId,
}

#[derive(Clone, Debug)]
pub struct FuncDef {
    /// As a user would name it in a stack trace: `area`, `shapes::area`, `main::{closure}`, `test "sums"`.
    pub name: String,
    pub generics: Vec<String>,
    /// The parameters, in order, as locals; for a lifted lambda the captures come first.
    pub params: Vec<LocalId>,
    /// How many leading `params` are captures of a lifted lambda (0 for ordinary functions).
    pub captures: u32,
    /// The first parameter is `var self`: the function may change it, and the caller's
    /// place receives its final value. Only reached through [`ExprKind::MutCall`].
    pub inout_self: bool,
    /// The agent whose lanes the body reads and writes (its members and the lambdas in
    /// them); lane intrinsics refer to this agent's lanes by index.
    pub agent: Option<AgentId>,
    pub ret: Ty,
    /// Every local of the body (parameters included), indexed by [`LocalId`].
    pub locals: Vec<LocalDef>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LocalDef {
    pub name: String,
    pub ty: Ty,
    pub mutable: bool,
}

#[derive(Clone, Debug)]
pub struct TestDef {
    pub name: String,
    /// A function of no parameters returning `Unit`.
    pub func: FuncId,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    /// Also `Duration` literals (in nanoseconds), told apart by `ty`.
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Unit,
    Local(LocalId),
    /// A direct call; `args` are positional with defaults filled in.
    Call {
        func: FuncId,
        type_args: Vec<Ty>,
        args: Vec<Expr>,
    },
    /// Calls a value of type `Ty::Fn`.
    CallClosure {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// A top-level function used as a value (a closure without captures).
    FuncValue {
        func: FuncId,
        type_args: Vec<Ty>,
    },
    /// A lifted lambda: `func`'s first `captures.len()` parameters receive `captures`.
    Closure {
        func: FuncId,
        type_args: Vec<Ty>,
        captures: Vec<Expr>,
    },
    /// A built-in operation the compiler implements directly.
    Intrinsic {
        op: Intrinsic,
        args: Vec<Expr>,
    },
    /// A call that changes its receiver in place: `xs.push(1)`, `m.remove(k)`, or a
    /// Weft function declared with `var self`. The place's current value is moved into the
    /// call and the final value stored back, so a uniquely owned receiver is updated in place.
    MutCall {
        place: Place,
        callee: MutCallee,
        args: Vec<Expr>,
    },
    /// All fields, in declaration order.
    Record {
        adt: AdtId,
        type_args: Vec<Ty>,
        fields: Vec<Expr>,
    },
    /// `{ ...base, f: e }`: field index and new value.
    RecordUpdate {
        base: Box<Expr>,
        updates: Vec<(u32, Expr)>,
    },
    Variant {
        adt: AdtId,
        type_args: Vec<Ty>,
        variant: u32,
        fields: Vec<Expr>,
    },
    /// Two or more elements.
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    /// Field `index` of a record (declaration order) or element `index` of a tuple.
    Field {
        base: Box<Expr>,
        index: u32,
    },
    /// `xs[i]` on a list (traps when out of bounds). Map reads go through `Intrinsic::MapGet`.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `Neg` on Int (traps on overflow), Float, Duration; `Not` on Bool.
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    /// Arithmetic on Int (traps on overflow and division by zero), Float, Duration;
    /// `+` on String concatenates; `==`/`!=` on any type (structural); ordering on Int,
    /// Float, String, Duration; `&&`/`||` short-circuit on Bool.
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Box<Expr>,
    },
    /// Arms are tried in order; exhaustiveness has been checked.
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    Block {
        stmts: Vec<Stmt>,
        tail: Box<Expr>,
    },
    While {
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    /// `for var in lo..hi { body }`, `var` is an Int local.
    ForRange {
        var: LocalId,
        lo: Box<Expr>,
        hi: Box<Expr>,
        body: Box<Expr>,
    },
    /// `for var in list { body }`: iterates over a snapshot of the list.
    ForList {
        var: LocalId,
        list: Box<Expr>,
        body: Box<Expr>,
    },
    Break,
    Continue,
    Return(Box<Expr>),
    /// Concatenation of `String`-typed parts (non-strings are wrapped in `Intrinsic::ToString`).
    Interp(Vec<Expr>),
}

#[derive(Clone, Debug)]
pub enum MutCallee {
    Func { func: FuncId, type_args: Vec<Ty> },
    Intrinsic(Intrinsic),
}

/// A mutable location: a local followed by field, element and map-key steps.
#[derive(Clone, Debug)]
pub struct Place {
    pub root: LocalId,
    pub path: Vec<PlaceElem>,
    /// The type of the location the whole path denotes.
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PlaceElem {
    /// Record field or tuple element; `Ty` is the type of the aggregate being stepped into.
    Field(u32, Ty),
    /// List element (traps when out of bounds).
    Index(Expr),
    /// Map entry; assigning inserts, reading a missing key traps.
    MapKey(Expr),
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// Binds the pattern's locals (the pattern is irrefutable).
    Let {
        pat: Pat,
        value: Expr,
    },
    Assign {
        place: Place,
        value: Expr,
    },
    /// Evaluated for its effect; a non-Unit value is dropped.
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub struct MatchArm {
    pub pat: Pat,
    pub guard: Option<Expr>,
    pub body: Expr,
}

#[derive(Clone, Debug)]
pub struct Pat {
    pub kind: PatKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PatKind {
    Wildcard,
    Bind(LocalId),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Tuple(Vec<Pat>),
    /// Record fields by index; fields not listed are not inspected.
    Record(Vec<(u32, Pat)>),
    Variant {
        adt: AdtId,
        variant: u32,
        args: Vec<Pat>,
    },
}

/// Operations the compiler provides natively. Argument and result types are listed as
/// `(args) -> result`; `T`, `K`, `V` are taken from the argument types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Intrinsic {
    /// `(String) -> Unit`: writes the text and a newline to stdout.
    Print,
    /// `(String) -> Never`: traps with the message.
    Panic,
    /// `(Bool, String) -> Unit`: traps with the message when false.
    Assert,
    /// `(T, T, String) -> Unit`: traps with "assertion failed: left != right" and both values
    /// in Weft syntax, followed by the message, when they differ.
    AssertEq,
    /// `(T) -> String`: Int `42`, Float `3.5` / `2.0`, Bool, String as is, Duration `250ms`;
    /// lists, maps, tuples, records and enums in Weft syntax (strings inside them quoted).
    ToString,
    /// `(T) -> Int`: a structural hash.
    Hash,
    IntAbs,
    /// `(Int, Int) -> Int`
    IntMin,
    IntMax,
    /// `(Int, Int) -> Int`: traps on a negative exponent or overflow.
    IntPow,
    IntToFloat,
    FloatAbs,
    FloatSqrt,
    FloatFloor,
    FloatCeil,
    FloatRound,
    /// `(Float, Float) -> Float`
    FloatPow,
    FloatMin,
    FloatMax,
    /// `(Float) -> Int`: truncates; traps on NaN or out of range.
    FloatToInt,
    /// `(Float, Int) -> String`: fixed decimals, rounded half to even as Rust's `{:.N}`.
    FloatToFixed,
    FloatSin,
    FloatCos,
    FloatTan,
    FloatAtan2,
    FloatExp,
    FloatLn,
    /// `(Float) -> Bool`
    FloatIsNan,
    /// `(String) -> Int`: characters (Unicode scalar values).
    StrLen,
    /// `(String, String) -> Bool`
    StrContains,
    StrStartsWith,
    StrEndsWith,
    /// `(String) -> String`
    StrTrim,
    StrToUpper,
    StrToLower,
    /// `(String, String) -> List<String>`
    StrSplit,
    /// `(String) -> List<String>`: one string per character.
    StrChars,
    /// `(String, String, String) -> String`
    StrReplace,
    /// `(String, Int, Int) -> String`: characters `start..end`, clamped to the string.
    StrSubstring,
    /// `(String, String) -> Option<Int>`: character index of the first occurrence.
    StrIndexOf,
    /// `(String) -> Option<Int>`
    StrParseInt,
    /// `(String) -> Option<Float>`
    StrParseFloat,
    /// `(String, Int) -> String`
    StrRepeat,
    /// `(String) -> Bytes`
    StrToBytes,
    /// `(Bytes) -> Int`
    BytesLen,
    /// `(List<T>) -> Int`
    ListLen,
    /// MutCall only: `(T)` pushed at the end.
    ListPush,
    /// MutCall only: `() -> Option<T>` removes the last element.
    ListPop,
    /// `(List<T>) -> List<T>`: ascending; T is Int, Float, String, Bool or Duration.
    ListSort,
    /// `(List<String>, String) -> String`
    ListJoin,
    /// `(List<T>, List<T>) -> List<T>`
    ListConcat,
    /// `(List<T>, Int, Int) -> List<T>`: elements `start..end`, clamped.
    ListSlice,
    /// `(List<T>) -> List<T>`
    ListReverse,
    /// `(List<T>, T) -> Bool`
    ListContains,
    /// `() -> Map<K, V>` (types from the expression's type).
    MapNew,
    /// `(Map<K, V>, K) -> Option<V>`
    MapGet,
    /// MutCall only: `(K, V)` inserts or replaces; keeps first-insertion order.
    MapInsert,
    /// MutCall only: `(K) -> Option<V>`
    MapRemove,
    /// `(Map<K, V>, K) -> Bool`
    MapContainsKey,
    /// `(Map<K, V>) -> List<K>` in insertion order.
    MapKeys,
    /// `(Map<K, V>) -> List<V>` in insertion order.
    MapValues,
    /// `(Map<K, V>) -> Int`
    MapLen,
    /// `() -> Int`: milliseconds since the Unix epoch.
    Now,
    /// `() -> Float` in `[0, 1)`.
    Random,
    /// `(Duration) -> Unit`
    Sleep,
    /// `(Duration) -> Int` milliseconds.
    DurationMillis,
    /// `(fn() -> T) -> Option<T>`: calls the closure; `None` when it trapped (what `try`
    /// is built from). Running out of time or memory is not caught.
    TryCall,
    /// `() -> String`: the message of the last trap `TryCall` caught.
    CaughtMessage,
    /// `() -> T`: the current value of lane `n` of the enclosing function's agent (a whole
    /// map or list for those lanes), as this turn sees it.
    LaneGet(u32),
    /// `(T) -> Unit`: replaces lane `n`'s value (buffered until the turn commits).
    LaneSet(u32),
    /// `(K) -> Option<V>`: one entry of map lane `n`.
    MapLaneGet(u32),
    /// `(K, V) -> Unit`: inserts or replaces one entry of map lane `n`.
    MapLanePut(u32),
    /// `(K) -> Option<V>`: removes one entry of map lane `n`, returning it.
    MapLaneRemove(u32),
    /// `(K) -> Bool`
    MapLaneContains(u32),
    /// `(String) -> Agent`: a reference to the agent of type `n` at that URI (traps when the
    /// URI does not match the agent's route).
    AgentRef(u32),
    /// `(Agent) -> String`: the agent's URI.
    AgentUri,
    /// `(Agent, params...) -> R`: calls method `method` of agent type `agent` (an index into
    /// [`AgentDef::methods`]) and waits for its result; arguments are positional with
    /// defaults filled in.
    AgentCall {
        agent: u32,
        method: u32,
    },
    /// `(Agent, params...) -> Unit`: sends the call one-way, after this turn commits;
    /// ordered per sender.
    AgentSend {
        agent: u32,
        method: u32,
    },
    /// `(String, settings...) -> Resource`: ensures the resource of site `n`
    /// ([`Program::resources`]) exists with these settings and returns its handle.
    ResourceNew(u32),
    /// `(Resource, args...) -> R`: one operation on a resource.
    ResourceOp(ResourceOp),
}
