//! The orchestrator's control plane: cubestore, an MVCC key/value store with revisions,
//! watches and leases, kept in sled (replication by openraft comes on top of it).
