//! A program's resources on the control plane: [`Local`] is the store as a controller in
//! this process reaches it (blocking on the control plane's runtime), and [`Cluster`]
//! is what the node's turns ask for (`runtime::resources::Resources`), made of the
//! resource kinds in `weft_resources::kinds`.

use super::cells::volumes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use weft_compiler::manifest::{ResourceDesc, TypeDesc};
use weft_lang::tir::ResourceOp;
use weft_resources::kinds::{self, queue, table, Kv, Record};
use weft_resources::raft::Controller;
use weft_resources::{Command, Compare, KeyValue, Op, Reply};
use weft_runtime::resources::{ResourceWrite, Resources};
use weft_runtime::value;

/// The store through a controller in this process. It does not keep the controller
/// alive: once its owner shuts it down, every request fails.
pub struct Local {
    pub controller: std::sync::Weak<Controller>,
    pub handle: tokio::runtime::Handle,
}

const STOPPED: &str = "the control plane has stopped";

impl Kv for Local {
    fn write(&self, command: Command) -> Result<Reply, String> {
        let controller = self.controller.upgrade().ok_or(STOPPED)?;
        match self.handle.block_on(controller.write(command)) {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(rejected)) => Err(rejected.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn range(&self, prefix: &[u8], limit: Option<usize>) -> Result<Vec<KeyValue>, String> {
        Ok(self.read(|s| s.range(prefix, None, limit))?.kvs)
    }

    fn count(&self, prefix: &[u8]) -> Result<u64, String> {
        self.read(|s| s.count(prefix))
    }
}

impl Local {
    /// Runs `read` on the store linearizably, blocking this thread.
    fn read<T>(
        &self,
        read: impl FnOnce(&weft_resources::Store) -> Result<T, weft_resources::StoreError>,
    ) -> Result<T, String> {
        let controller = self.controller.upgrade().ok_or(STOPPED)?;
        match self.handle.block_on(controller.read(read)) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// One program's resources.
pub struct Cluster {
    kv: Arc<dyn Kv>,
    program: String,
    /// Records by handle, read once: a resource's kind and types do not change.
    records: Mutex<HashMap<String, Record>>,
    /// The names `main` allocated in this run, for [`Cluster::finish_main`].
    allocated: Mutex<Vec<String>>,
    /// The id of the module `main` runs, which the Cells it allocates run too.
    module: Mutex<Option<String>>,
    /// The Volumes an instance's code may use here, with its fencing token; none
    /// elsewhere.
    volumes: Mutex<volumes::Access>,
}

impl Cluster {
    pub fn new(kv: Arc<dyn Kv>, program: &str) -> Cluster {
        Cluster {
            kv,
            program: program.to_string(),
            records: Mutex::new(HashMap::new()),
            allocated: Mutex::new(vec![]),
            module: Mutex::new(None),
            volumes: Mutex::new(volumes::Access::default()),
        }
    }

    /// Lets this instance's code use its Volumes.
    pub fn set_volumes(&self, access: volumes::Access) {
        *lock(&self.volumes) = access;
    }

    /// Says which module (stored at `/modules/ID`) the program's Cells run.
    pub fn set_module(&self, id: String) {
        *lock(&self.module) = Some(id);
    }

    /// The sites of `sites` that cannot attach to what the cluster holds, with why.
    pub fn check(&self, sites: &[ResourceDesc]) -> Result<Vec<(usize, String)>, String> {
        kinds::check_sites(&*self.kv, &self.program, sites)
    }

    /// After `main`: marks the program's resources it did not allocate as orphaned;
    /// their names.
    pub fn finish_main(&self) -> Result<Vec<String>, String> {
        let allocated = std::mem::take(&mut *lock(&self.allocated));
        kinds::mark_orphans(&*self.kv, &self.program, &allocated)
    }

    /// The names of this program's own resources `main` allocated so far in this run.
    pub fn allocated(&self) -> Vec<String> {
        lock(&self.allocated).clone()
    }

    fn record(&self, handle: &str) -> Result<Record, String> {
        if let Some(r) = lock(&self.records).get(handle) {
            return Ok(r.clone());
        }
        let r = kinds::by_handle(&*self.kv, handle)?;
        lock(&self.records).insert(handle.to_string(), r.clone());
        Ok(r)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn wire_u64(n: u64) -> Vec<u8> {
    (n as i64).to_le_bytes().to_vec()
}

/// The text of a `String` argument's wire bytes.
fn text_arg(a: &[u8]) -> Result<String, String> {
    match value::decode(a, &TypeDesc::String, &[]) {
        Ok(value::Value::Str(s)) => Ok(s),
        _ => Err("an argument that is not a String".to_string()),
    }
}

impl Resources for Cluster {
    fn ensure(
        &self,
        site: &ResourceDesc,
        settings: &[i64],
        handlers: &[weft_runtime::resources::Handler],
    ) -> Result<String, String> {
        let cell = if !site.handlers.is_empty() {
            let module = lock(&self.module).clone().ok_or_else(|| {
                format!(
                    "a {} needs its program's module stored in the cluster",
                    site.kind
                )
            })?;
            let handlers: Vec<kinds::HandlerSpec> = site
                .handlers
                .iter()
                .zip(handlers)
                .map(|(h, (source, captures))| kinds::HandlerSpec {
                    export: h.export.clone(),
                    event: h.event.clone(),
                    period_ns: h.period_ns,
                    source: source.clone(),
                    captures: captures.clone(),
                })
                .collect();
            let mut volumes: Vec<String> = vec![];
            for (h, spec) in site.handlers.iter().zip(&handlers) {
                for v in
                    volumes::captured_handles(&site.types, &h.captures, &spec.captures, "Volume")
                {
                    if !volumes.contains(&v) {
                        volumes.push(v);
                    }
                }
            }
            Some(kinds::CellSpec {
                module,
                handlers,
                volumes,
            })
        } else {
            None
        };
        let runs_code = cell.is_some();
        let handle = kinds::ensure(&*self.kv, &self.program, site, settings, cell)?;
        if runs_code {
            super::cells::kick::ensured(&handle);
        }
        lock(&self.records).remove(&handle);
        let (p, n) = kinds::resolve(&self.program, &site.name);
        if p == self.program {
            let mut allocated = lock(&self.allocated);
            if !allocated.iter().any(|a| a == n) {
                allocated.push(n.to_string());
            }
        }
        Ok(handle)
    }

    fn read(&self, handle: &str, op: ResourceOp, arg: &[u8]) -> Result<Vec<u8>, String> {
        let r = self.record(handle)?;
        let kv = &*self.kv;
        match op {
            ResourceOp::QueueLen => Ok(wire_u64(queue::len(kv, &r)?)),
            ResourceOp::TableLen => Ok(wire_u64(table::len(kv, &r)?)),
            ResourceOp::TableGet => Ok(value::encode_option(table::get(kv, &r, arg)?)),
            ResourceOp::TableScan => {
                let rows = table::scan(kv, &r, &text_arg(arg)?)?;
                let mut out = vec![];
                value::encode_count(&mut out, rows.len());
                for (k, v) in rows {
                    out.extend_from_slice(&value::encode_str(&k));
                    out.extend_from_slice(&v);
                }
                Ok(out)
            }
            ResourceOp::VolumeRead => {
                let text = lock(&self.volumes).read(handle, &text_arg(arg)?)?;
                Ok(value::encode_option(text.map(|t| value::encode_str(&t))))
            }
            ResourceOp::VolumeList => {
                let paths = lock(&self.volumes).list(handle, &text_arg(arg)?)?;
                let mut out = vec![];
                value::encode_count(&mut out, paths.len());
                for p in paths {
                    out.extend_from_slice(&value::encode_str(&p));
                }
                Ok(out)
            }
            ResourceOp::SecretGet => {
                let sealed = kinds::get_key(kv, &super::secrets::value_key(handle))?
                    .ok_or_else(|| format!("the Secret {handle} has no value yet: set it with `weft secret set {handle}`"))?;
                let value = super::secrets::open(handle, &sealed.value)?;
                let text = String::from_utf8(value).map_err(|_| "a Secret that is not text")?;
                Ok(value::encode_str(&text))
            }
            other => Err(format!("{other:?} is not a read")),
        }
    }

    fn receive(&self, handle: &str) -> Result<Option<weft_runtime::resources::Received>, String> {
        let r = self.record(handle)?;
        Ok(queue::receive(&*self.kv, &r)?.map(|(body, receipt)| (body, receipt.to_bytes())))
    }

    fn commit(&self, writes: Vec<ResourceWrite>) -> Result<(), String> {
        let mut ops: Vec<Op> = vec![];
        let mut acks: Vec<(Compare, Op)> = vec![];
        // Idle instances are woken only when a message was sent, not for every row.
        let mut sends = false;
        // A Volume's files are written first: if the store's transaction then fails,
        // the event comes again and writes them again (at least once).
        for w in &writes {
            match w {
                ResourceWrite::Op {
                    handle,
                    op: ResourceOp::VolumeWrite,
                    a,
                    b,
                } => lock(&self.volumes).write(handle, &text_arg(a)?, &text_arg(b)?)?,
                ResourceWrite::Op {
                    handle,
                    op: ResourceOp::VolumeDelete,
                    a,
                    ..
                } => lock(&self.volumes).delete(handle, &text_arg(a)?)?,
                _ => {}
            }
        }
        for w in writes {
            match w {
                ResourceWrite::Op {
                    op: ResourceOp::VolumeWrite | ResourceOp::VolumeDelete,
                    ..
                } => {}
                ResourceWrite::Op { handle, op, a, b } => {
                    sends |= op == ResourceOp::QueueSend;
                    let r = self.record(&handle)?;
                    ops.push(match op {
                        ResourceOp::QueueSend => queue::send(&handle, &a),
                        ResourceOp::TablePut => table::put(&r, &a, b)?,
                        ResourceOp::TableDelete => table::delete(&r, &a)?,
                        other => return Err(format!("{other:?} is not a write")),
                    });
                }
                ResourceWrite::Ack { receipt, .. } => {
                    acks.push(queue::ack(&queue::Receipt::from_bytes(&receipt)?));
                }
            }
        }
        // One revision for everything; within one transaction a key is written once,
        // so the last write of a key wins.
        let ops = last_write_wins(ops);
        let (compare, ack_ops): (Vec<Compare>, Vec<Op>) = acks.into_iter().unzip();
        let mut success = ops.clone();
        success.extend(ack_ops);
        // An acknowledgement whose message was delivered again meanwhile is dropped
        // (the message will be handled again: at least once); the writes still go in.
        self.kv.write(Command::Txn {
            compare,
            success,
            failure: ops,
        })?;
        if sends {
            super::cells::kick::SENT.kick();
        }
        Ok(())
    }
}

/// `ops` with only the last write of each key kept, in order.
fn last_write_wins(ops: Vec<Op>) -> Vec<Op> {
    let key = |op: &Op| match op {
        Op::Put { key, .. } => Some(key.clone()),
        Op::Delete {
            keys: weft_resources::Keys::One(k),
            ..
        } => Some(k.clone()),
        _ => None,
    };
    let mut out: Vec<Op> = vec![];
    for op in ops {
        if let Some(k) = key(&op) {
            out.retain(|o| key(o).as_ref() != Some(&k));
        }
        out.push(op);
    }
    out
}

/// `GET /api/v1/resources[?program=P]`: every resource's record, with its size now.
pub async fn list_route(
    axum::extract::State(node): axum::extract::State<Arc<super::api::Node>>,
    axum::extract::Query(query): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(other) = query.keys().find(|k| k.as_str() != "program") {
        return super::api::error(
            axum::http::StatusCode::BAD_REQUEST,
            format!("unknown parameter `{other}` (only `program`)"),
        );
    }
    let prefix = match query.get("program") {
        Some(p) => format!("{}{p}/", kinds::RECORDS),
        None => kinds::RECORDS.to_string(),
    };
    match described(&node.controller, prefix.into_bytes()).await {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => super::api::error(axum::http::StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// `GET /api/v1/resources/{program}/{name}`.
pub async fn get_route(
    axum::extract::State(node): axum::extract::State<Arc<super::api::Node>>,
    axum::extract::Path((program, name)): axum::extract::Path<(String, String)>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let key = format!("{}{program}/{name}", kinds::RECORDS).into_bytes();
    match described(&node.controller, key.clone()).await {
        Ok(list) => match list
            .into_iter()
            .find(|r| r["program"] == program.as_str() && r["name"] == name.as_str())
        {
            Some(r) => axum::Json(r).into_response(),
            None => super::api::error(
                axum::http::StatusCode::NOT_FOUND,
                format!("no resource `{name}` in program `{program}`"),
            ),
        },
        Err(e) => super::api::error(axum::http::StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

/// The records under `prefix` as JSON, each with `size`: messages waiting and dead for a
/// queue, rows for a table.
async fn described(
    controller: &Controller,
    prefix: Vec<u8>,
) -> Result<Vec<serde_json::Value>, String> {
    // The records and their sizes in one linearizable read.
    let read = move |s: &weft_resources::Store| {
        let mut out = vec![];
        for pair in s.range(&prefix, None, None)?.kvs {
            let Ok(r) = serde_json::from_slice::<Record>(&pair.value) else {
                continue;
            };
            let h = r.handle();
            let size = match r.kind.as_str() {
                "QueueService" => serde_json::json!({
                    "messages": s.count(&queue::messages(&h))?,
                    "dead": s.count(&queue::dead(&h))?,
                }),
                "Cell" | "HttpService" | "Timer" => {
                    let prefix = format!("{}{h}/", super::cells::STATUS).into_bytes();
                    let running = s
                        .range(&prefix, None, None)?
                        .kvs
                        .iter()
                        .filter_map(|p| {
                            serde_json::from_slice::<super::cells::Status>(&p.value).ok()
                        })
                        .filter(|st| st.state == "running")
                        .count();
                    let want = super::cells::replicas(&r);
                    let mut size = serde_json::json!({ "replicas": want, "running": running });
                    if r.kind == "HttpService" {
                        let prefix = super::cells::instance::endpoints_prefix(&h);
                        let endpoints: Vec<serde_json::Value> = s
                            .range(&prefix, None, None)?
                            .kvs
                            .iter()
                            .filter_map(|p| serde_json::from_slice(&p.value).ok())
                            .collect();
                        size["endpoints"] = serde_json::Value::from(endpoints);
                    }
                    size
                }
                "Secret" => {
                    let set = s.count(&super::secrets::value_key(&h))? > 0;
                    serde_json::json!({ "value": if set { "set" } else { "not set" } })
                }
                "Volume" => serde_json::json!({}),
                _ => serde_json::json!({ "rows": s.count(&table::rows(&h))? }),
            };
            out.push((r, size));
        }
        Ok::<_, weft_resources::StoreError>(out)
    };
    let records = controller
        .read(read)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    records
        .into_iter()
        .map(|(r, size)| {
            let mut v = serde_json::to_value(&r).map_err(|e| e.to_string())?;
            v["settings_text"] = serde_json::Value::from(r.settings_text());
            v["size"] = size;
            Ok(v)
        })
        .collect()
}
