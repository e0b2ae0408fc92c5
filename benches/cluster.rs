//! `cargo bench --bench cluster`: the replicated store next to etcd (being written).

fn main() {}
