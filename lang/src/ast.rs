//! The syntax tree the parser builds: every node carries its span; no names are resolved yet.

use crate::source::{FileId, Span};

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One `.weft` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Fn(FnDecl),
    /// `type Point = { x: Float, y: Float }` (a record) or `type Id = Int` (an alias).
    Type(TypeDecl),
    Enum(EnumDecl),
    Use(UseDecl),
    Test(TestDecl),
    Agent(AgentDecl),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// `///` lines directly above, joined with '\n', without the slashes.
    pub doc: Option<String>,
    pub name: Ident,
    pub generics: Vec<Ident>,
    pub params: Vec<Param>,
    /// `None` means `Unit`.
    pub ret: Option<TypeExpr>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `var self`: the method may change its receiver.
    pub mutable: bool,
    pub name: Ident,
    pub ty: TypeExpr,
    /// `port: Int = 80`
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub generics: Vec<Ident>,
    pub ty: TypeExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub generics: Vec<Ident>,
    pub variants: Vec<Variant>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: Ident,
    /// Positional payload: `Rect(Float, Float)`; empty for `Empty`.
    pub fields: Vec<TypeExpr>,
    pub span: Span,
}

/// `use std::http` (names = None) or `use shapes::{area, Shape}`.
#[derive(Clone, Debug, PartialEq)]
pub struct UseDecl {
    pub path: Vec<Ident>,
    pub names: Option<Vec<Ident>>,
    pub span: Span,
}

/// `test "name" { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: String,
    pub body: Block,
    pub span: Span,
}

/// `agent Counter at "/counters/:id" { members }`
#[derive(Clone, Debug, PartialEq)]
pub struct AgentDecl {
    pub doc: Option<String>,
    pub name: Ident,
    /// The route after `at`, as written, and where; `None` takes the default route.
    pub route: Option<(String, Span)>,
    pub members: Vec<Member>,
    pub span: Span,
}

/// One member of an agent body.
#[derive(Clone, Debug, PartialEq)]
pub enum Member {
    /// `value count: Int = 0`, `map by_user: Map<String, Int>`, `list log: List<String>`.
    Lane(LaneDecl),
    /// `fn incr(user: String, by: Int = 1) -> Int { ... }`: a method.
    Fn(FnDecl),
    /// `command reset() { ... }`: a method returning `Unit` (its `ret` is `None`).
    Command(FnDecl),
    /// `demand doubled: Int { count * 2 }`
    Demand(DemandDecl),
    /// `on start { ... }`: `event` is the name after `on` (only `start` is valid).
    On {
        event: Ident,
        body: Block,
        span: Span,
    },
    /// `every 1m { ... }`: the period in nanoseconds as written (negative after a `-`).
    Every {
        period_ns: i64,
        period_span: Span,
        body: Block,
        span: Span,
    },
    /// `migrate count(old: Int) -> Float { ... } undo(new) { ... }`
    Migrate(Box<MigrateDecl>),
}

impl Member {
    pub fn span(&self) -> Span {
        match self {
            Member::Lane(l) => l.span,
            Member::Fn(f) | Member::Command(f) => f.span,
            Member::Demand(d) => d.span,
            Member::On { span, .. } | Member::Every { span, .. } => *span,
            Member::Migrate(m) => m.span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneKind {
    Value,
    Map,
    List,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LaneDecl {
    pub doc: Option<String>,
    pub kind: LaneKind,
    pub name: Ident,
    pub ty: TypeExpr,
    /// `= 0`; required for a value lane (the checker says so), optional otherwise.
    pub init: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DemandDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub body: Block,
    pub span: Span,
}

/// `migrate LANE(old: FROM) -> TO { body }`, with an optional `undo(new) { body }`: how a
/// lane stored as `FROM` by an earlier version of the program becomes the lane's type.
#[derive(Clone, Debug, PartialEq)]
pub struct MigrateDecl {
    pub lane: Ident,
    /// The old value: its name and its type (`FROM`).
    pub param: Param,
    /// The type the body produces (`TO`): the lane's declared type.
    pub to: TypeExpr,
    pub body: Block,
    pub undo: Option<UndoDecl>,
    /// From `migrate` to the end of the body (the `undo` clause has its own span).
    pub span: Span,
}

/// `undo(new) { body }`: the reverse of a migration, from `TO` back to `FROM`.
#[derive(Clone, Debug, PartialEq)]
pub struct UndoDecl {
    pub name: Ident,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `Int`, `List<T>`, `T`, `shapes::Shape` (path joined as written, last segment in `name`).
    Named {
        path: Vec<Ident>,
        name: Ident,
        args: Vec<TypeExpr>,
    },
    /// `(A, B)`; `()` is the empty tuple, the same as `Unit`.
    Tuple(Vec<TypeExpr>),
    /// `fn(A, B) -> C`; a missing `-> C` means `Unit`.
    Fn {
        params: Vec<TypeExpr>,
        ret: Box<TypeExpr>,
    },
    /// `{ x: Float, y: Float = 0.0 }`, only valid as the body of a `type` declaration.
    Record(Vec<FieldDecl>),
}

/// One field of a record type: `hits: Int = 0`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    /// What a record literal that leaves the field out gets; evaluated on its own.
    pub default: Option<Expr>,
}

/// `{ stmt; stmt; tail }`: the tail, if present, is the block's value.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub tail: Option<Box<Expr>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let p = e`, `var x: Int = e`, `let (a, b) = e`, `let { x, y } = p`.
    Let {
        mutable: bool,
        pat: Pattern,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    /// `target = value` or `target op= value`; target is a place expression
    /// (a name, followed by any `.field`, `.0` and `[index]`).
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    /// An expression evaluated for its effect (its value is dropped).
    Expr(Expr),
    /// `on jobs |job| { ... }`: an event handler, only in a `new Cell(...) { }` body.
    /// `kw` is whatever word was written first (the checker wants `on`).
    On {
        kw: Ident,
        source: Ident,
        handler: Expr,
    },
    /// `every 10s { ... }`: a timer, only in a `new Cell(...) { }` body; the period in
    /// nanoseconds. `kw` is whatever word was written first (the checker wants `every`).
    Every {
        kw: Ident,
        period_ns: i64,
        period_span: Span,
        body: Block,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A string literal; one `Lit` part when there is no interpolation.
    Str(Vec<StrPart>),
    /// `250ms`, in nanoseconds.
    Duration(i64),
    /// `x`, `Circle`, `None`, `Map`, `http::ok` (path before the last segment in `path`).
    Name {
        path: Vec<Ident>,
        name: Ident,
    },
    /// `f(a, b, port: 8080)`, `Circle(1.0)`, `Some(x)`.
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `xs.len()`, `Map.new()`, `c.incr("a", 1)`.
    MethodCall {
        receiver: Box<Expr>,
        method: Ident,
        args: Vec<Arg>,
    },
    /// `p.x`
    Field {
        base: Box<Expr>,
        name: Ident,
    },
    /// `t.0`
    TupleField {
        base: Box<Expr>,
        index: u32,
        index_span: Span,
    },
    /// `xs[i]`, `m[k]`
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `lo..hi` (half open); only meaningful as the iterable of a `for`.
    Range {
        lo: Box<Expr>,
        hi: Box<Expr>,
    },
    /// `if c { } else if d { } else { }`; `else_` is a `Block` or another `If` expression.
    If {
        cond: Box<Expr>,
        then: Block,
        else_: Option<Box<Expr>>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    Block(Block),
    While {
        cond: Box<Expr>,
        body: Block,
    },
    For {
        pat: Pattern,
        iter: Box<Expr>,
        body: Block,
    },
    Break,
    Continue,
    Return(Option<Box<Expr>>),
    /// `(a, b)`; `()` is the unit value.
    Tuple(Vec<Expr>),
    /// `[1, 2, 3]`
    List(Vec<Expr>),
    /// `Point { x: 1.0, y }`: a field without a value is shorthand for `y: y`.
    Record {
        name: Ident,
        fields: Vec<FieldInit>,
    },
    /// `{ ...p, x: 3.0 }`
    RecordUpdate {
        base: Box<Expr>,
        fields: Vec<FieldInit>,
    },
    /// `|x| x + 1`, `|x: Int| -> Int { x + 1 }`
    Lambda {
        params: Vec<LambdaParam>,
        ret: Option<TypeExpr>,
        body: Box<Expr>,
    },
    /// `e?`
    Question(Box<Expr>),
    /// `try e`
    Try(Box<Expr>),
    /// `send c.reset()`: a one-way call to an agent (the checker requires a method call).
    Send(Box<Expr>),
    /// `new QueueService<Job>("jobs")`, `new Cell("w", replicas: 3) { ... }`: allocates
    /// (or re-attaches to) a cluster resource of a built-in kind.
    New {
        ty: TypeExpr,
        args: Vec<Arg>,
        /// A trailing block (a Cell's or Timer's body).
        body: Option<Block>,
        /// A trailing lambda (an HttpService's `|req| { }`).
        handler: Option<Box<Expr>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Lit(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `port: 8080` has a name.
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    pub name: Ident,
    /// `None` for the shorthand `{ x }`.
    pub value: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LambdaParam {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    pub pat: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// `x` (a lower-case name binds).
    Bind(Ident),
    /// `42`, `-1`, `"text"`, `true`, `2.5`
    Lit(LitPattern),
    /// `(a, b)`
    Tuple(Vec<Pattern>),
    /// `{ x, y: 0 }` or `Point { x, .. }`: `None` for the shorthand `{ x }` (binds `x`).
    Record {
        name: Option<Ident>,
        fields: Vec<(Ident, Option<Pattern>)>,
        rest: bool,
    },
    /// `Circle(r)`, `None`, `Some(_)`, `shapes::Empty`: an upper-case name is a variant.
    Variant {
        path: Vec<Ident>,
        name: Ident,
        args: Vec<Pattern>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum LitPattern {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}
