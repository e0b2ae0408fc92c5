//! The control plane inside `weft run`: the same controller code as `weft node
//! --controller`, as a one-member raft group with its data in `DATA/cluster/`, its raft
//! routes on a loopback port of their own, and its API routes (nodes, store, leases,
//! watches) served beside the node's on the node's API. It runs on a runtime of its own,
//! registers itself as `node-1`, and keeps its heartbeat like any controller.

use super::registry::{self, Record, Role};
use super::{api, BasicNode};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use weft_resources::raft::Controller;

/// The embedded node's id.
const ID: u64 = 1;

/// The heartbeat lease's TTL in `weft run`.
const LEASE_TTL: Duration = Duration::from_secs(3);

/// A running one-member control plane.
pub struct Embedded {
    rt: tokio::runtime::Runtime,
    node: Arc<api::Node>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The Cells' scheduler and this node's agent, once started.
    cells: Vec<super::cells::Looping>,
    /// The load balancer provider, when asked for.
    lb: Option<super::lb::Lb>,
    /// The group's directory.
    dir: std::path::PathBuf,
    registered: bool,
}

impl Embedded {
    /// Opens (or creates) the group in `dir` and starts it.
    pub fn start(dir: &Path) -> Result<Embedded, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weft-control")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the control plane: {e}"))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("the control plane cannot listen: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        // A group made before is opened as it is (its only member's address is where
        // peers would reach it, and there are none).
        let fresh = !dir.join("raft").exists();
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        super::secrets::key_from_file(&dir.join("secrets.key"))?;
        if let Some(data) = dir.parent() {
            super::cells::volumes::set_root(data.join("volumes"));
        }
        let node = rt.block_on(async {
            let controller = Controller::start(ID, dir, listener)
                .await
                .map_err(|e| format!("cannot start the control plane: {e}"))?;
            if fresh {
                let group = BTreeMap::from([(ID, BasicNode::new(addr.to_string()))]);
                controller
                    .initialize(group)
                    .await
                    .map_err(|e| format!("cannot start the control plane: {e}"))?;
            }
            Ok::<_, String>(Arc::new(api::Node {
                controller: Arc::new(controller),
                apis: BTreeMap::new(),
                client: api::client()?,
            }))
        })?;
        Ok(Embedded {
            rt,
            node,
            tasks: vec![],
            cells: vec![],
            lb: None,
            dir: dir.to_path_buf(),
            registered: false,
        })
    }

    /// The store as this process's resources reach it.
    pub fn kv(&self) -> super::resources::Local {
        super::resources::Local {
            controller: Arc::downgrade(&self.node.controller),
            handle: self.rt.handle().clone(),
        }
    }

    /// The API routes, to serve beside the node's.
    pub fn routes(&self) -> axum::Router {
        api::routes(self.node.clone())
    }

    /// Records this node (its API at `api_url`) and starts its heartbeat and the lease
    /// expiry ticks.
    pub fn register(&mut self, api_url: String) {
        if std::mem::replace(&mut self.registered, true) {
            return;
        }
        let controller = self.node.controller.clone();
        let (cpu_milli, memory_bytes) = registry::capacity(None, None);
        let record = Record {
            id: ID,
            name: registry::name(ID),
            role: Role::Controller,
            raft: Some(controller.addr().to_string()),
            api: api_url,
            cpu_milli,
            memory_bytes,
        };
        let _guard = self.rt.enter();
        self.tasks.push(tokio::spawn(super::register(
            controller.clone(),
            record,
            None,
            crate::Io::buffers(),
        )));
        self.tasks.push(tokio::spawn(registry::heartbeat(
            controller.clone(),
            registry::name(ID),
            LEASE_TTL,
        )));
        self.tasks
            .push(tokio::spawn(registry::expire_leases(controller)));
    }

    /// Runs code on the cluster here: the scheduler, and this node's agent (their prints
    /// go to `output`). The node is registered (with no API) if it was not.
    pub fn start_cells(&mut self, output: weft_runtime::Output) {
        self.register(String::new());
        let kv: Arc<dyn weft_resources::kinds::Kv> = Arc::new(self.kv());
        self.cells
            .push(super::cells::start_scheduler(kv.clone(), || true));
        self.cells
            .push(super::cells::start_agent(kv, registry::name(ID), output));
    }

    /// Runs the load balancer provider `provider` (`nginx`) here, its files in
    /// `DATA/cluster/lb/`, listening on 127.0.0.1.
    pub fn start_lb(&mut self, provider: &str, output: weft_runtime::Output) -> Result<(), String> {
        if provider != "nginx" {
            return Err(format!(
                "--lb {provider}: no such load balancer provider (there is: nginx)"
            ));
        }
        let kv: Arc<dyn weft_resources::kinds::Kv> = Arc::new(self.kv());
        let lb = super::lb::start(
            kv,
            self.dir.join("lb"),
            std::path::PathBuf::from("nginx"),
            "127.0.0.1".into(),
            output,
        )
        .map_err(|e| format!("--lb nginx: {e}"))?;
        self.lb = Some(lb);
        Ok(())
    }

    /// Stops the Cells, the background tasks and raft, and closes the storage.
    pub fn stop(self) {
        let Embedded {
            rt,
            node,
            tasks,
            cells,
            lb,
            ..
        } = self;
        drop(lb);
        drop(cells);
        rt.block_on(async move {
            for task in tasks {
                task.abort();
                let _ = task.await;
            }
            let controller = node.controller.clone();
            drop(node);
            if let Ok(controller) = Arc::try_unwrap(controller) {
                let _ = controller.shutdown().await;
            }
        });
    }
}
