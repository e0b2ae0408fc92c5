//! The host functions a compiled module imports (module `weft`): the one list both the
//! compiler and the runtime are built from, so their signatures cannot drift apart.

/// The import module name.
pub const MODULE: &str = "weft";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValType {
    I32,
    I64,
    F64,
}

#[derive(Clone, Copy, Debug)]
pub struct ImportSig {
    pub name: &'static str,
    pub params: &'static [ValType],
    pub results: &'static [ValType],
}

use ValType::*;

/// Every import, in the order the compiler declares them (so import `i` is function index `i`).
pub const IMPORTS: &[ImportSig] = &[
    // (ptr, len): writes the UTF-8 bytes and a newline to the program's stdout.
    ImportSig {
        name: "print",
        params: &[I32, I32],
        results: &[],
    },
    // (ptr, len): stops the program with this message; never returns.
    ImportSig {
        name: "trap",
        params: &[I32, I32],
        results: &[],
    },
    // (x, out): writes the shortest text that reads back as x ("2.0", "0.1", "1e300", "NaN",
    // "inf") to out (at least 32 bytes free); returns its length.
    ImportSig {
        name: "float_to_string",
        params: &[F64, I32],
        results: &[I32],
    },
    // (x, digits, out, cap): x with `digits` decimals into out; returns the length, or -1
    // when it needs more than cap bytes.
    ImportSig {
        name: "float_to_fixed",
        params: &[F64, I32, I32, I32],
        results: &[I32],
    },
    // (ptr, len, out): parses a Float; writes it to out (8 bytes) and returns 1, or returns 0.
    ImportSig {
        name: "parse_float",
        params: &[I32, I32, I32],
        results: &[I32],
    },
    // (op, a, b): 0 pow, 1 sin, 2 cos, 3 tan, 4 atan2, 5 exp, 6 ln (b unused for unary ops).
    ImportSig {
        name: "fmath",
        params: &[I32, F64, F64],
        results: &[F64],
    },
    // (): milliseconds since the Unix epoch.
    ImportSig {
        name: "now_ms",
        params: &[],
        results: &[I64],
    },
    // (): a uniform Float in [0, 1).
    ImportSig {
        name: "random",
        params: &[],
        results: &[F64],
    },
    // (nanos): waits.
    ImportSig {
        name: "sleep",
        params: &[I64],
        results: &[],
    },
    // (closure, out): calls a `fn() -> T` closure value through the exported table. When
    // it returns, writes its result at out (4 or 8 bytes, as its wasm type) and returns 1;
    // when it traps, keeps the trap's message for `caught_message` and returns 0. Running
    // out of time or memory is not caught: the run stops.
    ImportSig {
        name: "try_call",
        params: &[I32, I32],
        results: &[I32],
    },
    // (): the byte length of the message of the last trap `try_call` caught.
    ImportSig {
        name: "caught_len",
        params: &[],
        results: &[I32],
    },
    // (ptr): writes that message at ptr.
    ImportSig {
        name: "caught_message",
        params: &[I32],
        results: &[],
    },
    // (ptr): copies the bytes the host staged (whose length the import that staged them
    // returned) to ptr.
    ImportSig {
        name: "staged_take",
        params: &[I32],
        results: &[],
    },
    // (ptr, len): the wire form of an agent entry's result.
    ImportSig {
        name: "result",
        params: &[I32, I32],
        results: &[],
    },
    // (): stages the URI of the agent this turn belongs to (wire form of a String);
    // returns its length.
    ImportSig {
        name: "agent_self",
        params: &[],
        results: &[I32],
    },
    // (lane): stages the lane's value (wire form); returns its length.
    ImportSig {
        name: "lane_get",
        params: &[I32],
        results: &[I32],
    },
    // (lane, ptr, len): replaces the lane's value.
    ImportSig {
        name: "lane_set",
        params: &[I32, I32, I32],
        results: &[],
    },
    // (lane, kptr, klen): stages `Option<V>` for the key; returns its length.
    ImportSig {
        name: "map_lane_get",
        params: &[I32, I32, I32],
        results: &[I32],
    },
    // (lane, kptr, klen, vptr, vlen): inserts or replaces the entry.
    ImportSig {
        name: "map_lane_put",
        params: &[I32, I32, I32, I32, I32],
        results: &[],
    },
    // (lane, kptr, klen): removes the entry; stages the `Option<V>` it held, returns its length.
    ImportSig {
        name: "map_lane_remove",
        params: &[I32, I32, I32],
        results: &[I32],
    },
    // (lane, kptr, klen): 1 if the map lane has the key.
    ImportSig {
        name: "map_lane_contains",
        params: &[I32, I32, I32],
        results: &[I32],
    },
    // (agent, uptr, ulen): traps unless the URI matches agent type `agent`'s route.
    ImportSig {
        name: "agent_ref",
        params: &[I32, I32, I32],
        results: &[],
    },
    // (agent, method, uptr, ulen, aptr, alen): calls the method of the agent at the URI with
    // the wire-encoded arguments and waits; stages the result, returns its length.
    ImportSig {
        name: "agent_call",
        params: &[I32, I32, I32, I32, I32, I32],
        results: &[I32],
    },
    // (agent, method, uptr, ulen, aptr, alen): sends the call one-way when the turn commits.
    ImportSig {
        name: "agent_send",
        params: &[I32, I32, I32, I32, I32, I32],
        results: &[],
    },
    // (site, aptr, alen): ensures the resource of manifest site `site` exists with the
    // wire-encoded name and settings; stages its handle (a string), returns its length.
    ImportSig {
        name: "resource_new",
        params: &[I32, I32, I32],
        results: &[I32],
    },
    // (op, hptr, hlen, aptr, alen, bptr, blen): runs operation `op` (`ResourceOp::code`)
    // on the resource whose handle is at hptr with its wire-encoded first argument at
    // aptr and second (a table row's value) at bptr; stages the result, returns its length.
    ImportSig {
        name: "resource_op",
        params: &[I32, I32, I32, I32, I32, I32, I32],
        results: &[I32],
    },
];

/// The function index of a named import.
pub fn index_of(name: &str) -> u32 {
    IMPORTS
        .iter()
        .position(|i| i.name == name)
        .map(|i| i as u32)
        .unwrap_or(u32::MAX)
}
