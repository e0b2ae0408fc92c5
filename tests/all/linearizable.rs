//! A linearizability check of the replicated store (being written).
