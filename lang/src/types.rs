//! Semantic types: what the checker infers and the compiler lays out.

use std::fmt;

/// Index of a record or enum in [`crate::tir::Program::adts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdtId(pub u32);

/// Index into [`crate::tir::Program::agents`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub u32);

/// A kind of cluster resource a program allocates with `new` (`new QueueService<Job>("jobs")`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// `QueueService<T>`: a durable, replicated queue of `T`.
    Queue,
    /// `Table<K, V>`: a durable key/value table.
    Table,
    /// `Cell`: replicated compute that handles events (`on queue |msg| { }`).
    Cell,
    /// `HttpService`: replicated compute that answers HTTP requests (`|req| { }`).
    HttpService,
    /// `Timer`: a body run once every period, somewhere on the cluster.
    Timer,
    /// `Secret`: a value kept encrypted, read only by the code on the cluster that
    /// captures it.
    Secret,
    /// `Volume`: files on one node's disk; the code that captures it runs on that node.
    Volume,
}

impl ResourceKind {
    /// Every kind, by its type name.
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::Queue,
        ResourceKind::Table,
        ResourceKind::Cell,
        ResourceKind::HttpService,
        ResourceKind::Timer,
        ResourceKind::Secret,
        ResourceKind::Volume,
    ];

    /// The type's name as a program writes it.
    pub fn type_name(self) -> &'static str {
        match self {
            ResourceKind::Queue => "QueueService",
            ResourceKind::Table => "Table",
            ResourceKind::Cell => "Cell",
            ResourceKind::HttpService => "HttpService",
            ResourceKind::Timer => "Timer",
            ResourceKind::Secret => "Secret",
            ResourceKind::Volume => "Volume",
        }
    }

    /// How many type arguments the type takes.
    pub fn arity(self) -> usize {
        match self {
            ResourceKind::Queue => 1,
            ResourceKind::Table => 2,
            ResourceKind::Cell
            | ResourceKind::HttpService
            | ResourceKind::Timer
            | ResourceKind::Secret
            | ResourceKind::Volume => 0,
        }
    }

    /// Whether it runs code of the program on the cluster's nodes (its handlers).
    pub fn runs_code(self) -> bool {
        matches!(
            self,
            ResourceKind::Cell | ResourceKind::HttpService | ResourceKind::Timer
        )
    }

    pub fn from_type_name(name: &str) -> Option<ResourceKind> {
        ResourceKind::ALL
            .into_iter()
            .find(|k| k.type_name() == name)
    }
}

/// A type. After checking, no [`Ty::Var`] remains anywhere in a [`crate::tir::Program`];
/// [`Ty::Param`] appears only inside generic functions and ADT definitions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    /// 64-bit signed, overflow traps.
    Int,
    Float,
    Bool,
    /// UTF-8 text.
    String,
    Bytes,
    Unit,
    /// Nanoseconds, as a 64-bit integer.
    Duration,
    /// The type of `return`, `break`, `continue`, `panic(..)`: has no values, fits anywhere.
    Never,
    List(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    /// Two or more elements (the empty tuple is `Unit`).
    Tuple(Vec<Ty>),
    /// A closure or function value.
    Fn(Vec<Ty>, Box<Ty>),
    /// A record or enum (including the prelude's `Option` and `Result`), with its type arguments.
    Adt(AdtId, Vec<Ty>),
    /// A reference to an agent of this type; at run time, the agent's URI.
    Agent(AgentId),
    /// A handle on a cluster resource, with its type arguments; at run time, the
    /// resource's full name (`program/name`).
    Resource(ResourceKind, Vec<Ty>),
    /// The n-th generic parameter of the enclosing function or ADT definition.
    Param(u32),
    /// An inference variable (only while checking).
    Var(u32),
}

impl Ty {
    pub fn list(t: Ty) -> Ty {
        Ty::List(Box::new(t))
    }

    /// Replaces every `Param(i)` by `args[i]`.
    pub fn subst(&self, args: &[Ty]) -> Ty {
        match self {
            Ty::Param(i) => args.get(*i as usize).cloned().unwrap_or(Ty::Unit),
            Ty::List(t) => Ty::List(Box::new(t.subst(args))),
            Ty::Map(k, v) => Ty::Map(Box::new(k.subst(args)), Box::new(v.subst(args))),
            Ty::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| t.subst(args)).collect()),
            Ty::Fn(ps, r) => Ty::Fn(
                ps.iter().map(|t| t.subst(args)).collect(),
                Box::new(r.subst(args)),
            ),
            Ty::Adt(id, ts) => Ty::Adt(*id, ts.iter().map(|t| t.subst(args)).collect()),
            Ty::Resource(k, ts) => Ty::Resource(*k, ts.iter().map(|t| t.subst(args)).collect()),
            t => t.clone(),
        }
    }

    /// True for types whose values live in linear memory and are reference counted.
    pub fn is_heap(&self) -> bool {
        matches!(
            self,
            Ty::String
                | Ty::Bytes
                | Ty::List(_)
                | Ty::Map(..)
                | Ty::Tuple(_)
                | Ty::Fn(..)
                | Ty::Adt(..)
                | Ty::Agent(_)
                | Ty::Resource(..)
        )
    }

    pub fn has_params(&self) -> bool {
        match self {
            Ty::Param(_) => true,
            Ty::List(t) => t.has_params(),
            Ty::Map(k, v) => k.has_params() || v.has_params(),
            Ty::Tuple(ts) | Ty::Adt(_, ts) | Ty::Resource(_, ts) => ts.iter().any(Ty::has_params),
            Ty::Fn(ps, r) => ps.iter().any(Ty::has_params) || r.has_params(),
            _ => false,
        }
    }
}

/// Displays a type the way a user writes it; ADT and agent names come from lookup tables.
pub struct TyDisplay<'a> {
    pub ty: &'a Ty,
    pub adt_names: &'a dyn Fn(AdtId) -> String,
    pub agent_names: &'a dyn Fn(AgentId) -> String,
    pub param_names: &'a [String],
}

impl fmt::Display for TyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sub = |ty| TyDisplay {
            ty,
            adt_names: self.adt_names,
            agent_names: self.agent_names,
            param_names: self.param_names,
        };
        match self.ty {
            Ty::Int => write!(f, "Int"),
            Ty::Float => write!(f, "Float"),
            Ty::Bool => write!(f, "Bool"),
            Ty::String => write!(f, "String"),
            Ty::Bytes => write!(f, "Bytes"),
            Ty::Unit => write!(f, "Unit"),
            Ty::Duration => write!(f, "Duration"),
            Ty::Never => write!(f, "Never"),
            Ty::List(t) => write!(f, "List<{}>", sub(t)),
            Ty::Map(k, v) => write!(f, "Map<{}, {}>", sub(k), sub(v)),
            Ty::Tuple(ts) => {
                write!(f, "(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}", sub(t))?;
                }
                write!(f, ")")
            }
            Ty::Fn(ps, r) => {
                write!(f, "fn(")?;
                for (i, t) in ps.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}", sub(t))?;
                }
                write!(f, ") -> {}", sub(r))
            }
            Ty::Adt(..) | Ty::Resource(..) => {
                let (name, ts) = match self.ty {
                    Ty::Adt(id, ts) => ((self.adt_names)(*id), ts),
                    Ty::Resource(k, ts) => (k.type_name().to_string(), ts),
                    _ => unreachable!(),
                };
                write!(f, "{name}")?;
                if !ts.is_empty() {
                    write!(f, "<")?;
                    for (i, t) in ts.iter().enumerate() {
                        if i > 0 {
                            write!(f, ", ")?;
                        }
                        write!(f, "{}", sub(t))?;
                    }
                    write!(f, ">")?;
                }
                Ok(())
            }
            Ty::Param(i) => match self.param_names.get(*i as usize) {
                Some(n) => write!(f, "{n}"),
                None => write!(f, "T{i}"),
            },
            Ty::Var(_) => write!(f, "_"),
            Ty::Agent(id) => write!(f, "{}", (self.agent_names)(*id)),
        }
    }
}
