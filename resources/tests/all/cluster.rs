//! Three controllers on loopback, over the HTTP raft network: they elect a leader, take a
//! write through a follower and read it back linearizably through every member, elect a
//! new leader when the leader stops, and a stopped member that comes back from its data
//! directory catches up, from the log or from a snapshot. Bad bodies get a 400.

use crate::support::{value, TempDir};
use openraft::BasicNode;
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};
use weft_resources::raft::{Controller, NodeId, REQUEST_TIMEOUT};
use weft_resources::{Command, Reply};

/// How long a fresh group may take to elect its first leader.
const FIRST_LEADER: Duration = Duration::from_secs(10);
/// How long the survivors may take to elect a new leader.
const FAILOVER: Duration = Duration::from_secs(5);
/// How long a restarted member may take to catch up.
const CATCH_UP: Duration = Duration::from_secs(10);

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

pub(crate) fn loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

/// Binds `addr` again after its controller stopped (bounded: the port should be free
/// at once).
async fn rebind(addr: SocketAddr) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(addr) {
            Ok(listener) => return listener,
            Err(e) if Instant::now() < deadline => {
                eprintln!("rebinding {addr}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("rebinding {addr}: {e}"),
        }
    }
}

/// Starts controllers 1..=n, each in its own directory, and initializes them as a group.
pub(crate) async fn group(dirs: &[TempDir]) -> Vec<Controller> {
    let mut controllers = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let controller = Controller::start(i as NodeId + 1, &dir.0, loopback())
            .await
            .expect("start");
        controllers.push(controller);
    }
    let members: BTreeMap<NodeId, BasicNode> =
        controllers.iter().map(|c| (c.id(), c.node())).collect();
    controllers[0]
        .initialize(members)
        .await
        .expect("initialize");
    controllers
}

/// Waits until every one of `controllers` names the same leader, one of them.
pub(crate) async fn agreed_leader(controllers: &[&Controller], within: Duration) -> NodeId {
    let deadline = Instant::now() + within;
    loop {
        let leaders: Vec<_> = controllers.iter().map(|c| c.leader()).collect();
        if let Some(Some(leader)) = leaders.first() {
            if leaders.iter().all(|l| *l == Some(*leader))
                && controllers.iter().any(|c| c.id() == *leader)
            {
                return *leader;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no agreed leader within {within:?}: {leaders:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn put(through: &Controller, key: &str, val: &str) -> Reply {
    match through.write(Command::put(key, val)).await {
        Ok(Ok(reply)) => reply,
        other => panic!("put {key} through {}: {other:?}", through.id()),
    }
}

async fn read(through: &Controller, key: &str) -> Option<String> {
    through
        .read(|store| value(store, key))
        .await
        .unwrap_or_else(|e| panic!("read {key} through {}: {e}", through.id()))
}

/// Waits until `controller`'s own store holds `key` = `want`.
async fn caught_up(controller: &Controller, key: &str, want: &str) {
    let deadline = Instant::now() + CATCH_UP;
    while value(controller.store(), key).as_deref() != Some(want) {
        assert!(
            Instant::now() < deadline,
            "{} did not catch up on {key} within {CATCH_UP:?}: {:?}",
            controller.id(),
            controller.metrics()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) async fn shutdown_all(controllers: Vec<Controller>) {
    for controller in controllers {
        let id = controller.id();
        controller
            .shutdown()
            .await
            .unwrap_or_else(|e| panic!("shutdown {id}: {e}"));
    }
}

/// Takes the controller `id` out of `controllers`.
fn take(controllers: &mut Vec<Controller>, id: NodeId) -> Controller {
    let at = controllers
        .iter()
        .position(|c| c.id() == id)
        .expect("a member");
    controllers.remove(at)
}

#[test]
fn three_controllers_replicate_fail_over_and_catch_up() {
    let dirs = [TempDir::new(), TempDir::new(), TempDir::new()];
    runtime().block_on(async {
        let started = Instant::now();
        let mut controllers = group(&dirs).await;
        let all: Vec<&Controller> = controllers.iter().collect();
        let leader = agreed_leader(&all, FIRST_LEADER).await;
        eprintln!("leader {leader} after {:?}", started.elapsed());

        let follower = controllers
            .iter()
            .find(|c| c.id() != leader)
            .expect("a follower");
        let reply = put(follower, "k1", "v1").await;
        assert_eq!(reply.revision, 1);
        for controller in &controllers {
            assert_eq!(read(controller, "k1").await.as_deref(), Some("v1"));
        }

        // The leader stops; the two others elect a new one and take a write.
        let old = take(&mut controllers, leader);
        let (old_addr, old_dir) = (old.addr(), old.dir().to_path_buf());
        old.shutdown().await.expect("shutdown the leader");
        let stopped = Instant::now();
        let survivors: Vec<&Controller> = controllers.iter().collect();
        let new_leader = agreed_leader(&survivors, FAILOVER).await;
        assert_ne!(new_leader, leader);
        let reply = put(survivors[0], "k2", "v2").await;
        assert_eq!(reply.revision, 2);
        let failover = stopped.elapsed();
        eprintln!("new leader {new_leader} and a write {failover:?} after the leader stopped");
        assert!(failover < FAILOVER, "failover took {failover:?}");
        for controller in &controllers {
            assert_eq!(read(controller, "k2").await.as_deref(), Some("v2"));
        }

        // The old leader comes back from its directory, on its address, and catches up.
        let back = Controller::start(leader, &old_dir, rebind(old_addr).await)
            .await
            .expect("restart the old leader");
        let restarted = Instant::now();
        caught_up(&back, "k2", "v2").await;
        eprintln!("the old leader caught up in {:?}", restarted.elapsed());
        assert_eq!(read(&back, "k1").await.as_deref(), Some("v1"));
        assert_eq!(back.leader(), Some(new_leader));
        let reply = put(&back, "k3", "v3").await;
        assert_eq!(reply.revision, 3);
        controllers.push(back);
        for controller in &controllers {
            assert_eq!(read(controller, "k3").await.as_deref(), Some("v3"));
        }
        shutdown_all(controllers).await;
    });
}

#[test]
fn a_member_that_missed_purged_entries_gets_a_snapshot() {
    let dirs = [TempDir::new(), TempDir::new(), TempDir::new()];
    runtime().block_on(async {
        let mut controllers = group(&dirs).await;
        let all: Vec<&Controller> = controllers.iter().collect();
        let leader = agreed_leader(&all, FIRST_LEADER).await;
        let away_id = controllers
            .iter()
            .find(|c| c.id() != leader)
            .expect("a follower")
            .id();
        let away = take(&mut controllers, away_id);
        let (away_addr, away_dir) = (away.addr(), away.dir().to_path_buf());
        away.shutdown().await.expect("shutdown a follower");

        let lead = controllers
            .iter()
            .find(|c| c.id() == leader)
            .expect("the leader");
        for i in 0..20 {
            put(lead, &format!("s{i}"), &format!("v{i}")).await;
        }
        lead.raft().trigger().snapshot().await.expect("trigger");
        let last = lead
            .raft()
            .wait(Some(CATCH_UP))
            .metrics(
                |m| m.snapshot.is_some() && m.snapshot >= m.last_applied,
                "a snapshot of everything applied",
            )
            .await
            .expect("snapshot")
            .snapshot
            .expect("a snapshot");
        lead.raft()
            .trigger()
            .purge_log(last.index)
            .await
            .expect("purge");
        lead.raft()
            .wait(Some(CATCH_UP))
            .purged(Some(last), "purged")
            .await
            .expect("purged");

        let back = Controller::start(away_id, &away_dir, rebind(away_addr).await)
            .await
            .expect("restart the follower");
        back.raft()
            .wait(Some(CATCH_UP))
            .snapshot(last, "the leader's snapshot installed")
            .await
            .expect("the snapshot installed");
        caught_up(&back, "s19", "v19").await;
        assert_eq!(read(&back, "s0").await.as_deref(), Some("v0"));
        controllers.push(back);
        shutdown_all(controllers).await;
    });
}

#[test]
fn a_member_alone_refuses_writes_and_reads_in_time() {
    let dirs = [TempDir::new(), TempDir::new(), TempDir::new()];
    runtime().block_on(async {
        let mut controllers = group(&dirs).await;
        let all: Vec<&Controller> = controllers.iter().collect();
        let leader = agreed_leader(&all, FIRST_LEADER).await;
        put(&controllers[0], "a", "1").await;
        let alone = take(&mut controllers, leader);
        shutdown_all(controllers).await;

        let bound = REQUEST_TIMEOUT + Duration::from_secs(2);
        let started = Instant::now();
        let refused = alone.write(Command::put("a", "2")).await;
        assert!(refused.is_err(), "{refused:?}");
        assert!(started.elapsed() < bound, "{:?}", started.elapsed());
        eprintln!(
            "write refused after {:?}: {}",
            started.elapsed(),
            refused.unwrap_err()
        );
        let started = Instant::now();
        let refused = alone.read(|store| value(store, "a")).await;
        assert!(refused.is_err(), "{refused:?}");
        assert!(started.elapsed() < bound, "{:?}", started.elapsed());
        eprintln!(
            "read refused after {:?}: {}",
            started.elapsed(),
            refused.unwrap_err()
        );
        alone.shutdown().await.expect("shutdown");
    });
}

#[test]
fn bad_bodies_get_a_400_with_a_reason() {
    let dir = TempDir::new();
    runtime().block_on(async {
        let controller = Controller::start(1, &dir.0, loopback())
            .await
            .expect("start");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .no_proxy()
            .build()
            .expect("client");
        for path in [
            "/raft/append",
            "/raft/vote",
            "/raft/snapshot",
            "/raft/write",
        ] {
            let response = client
                .post(format!("http://{}{path}", controller.addr()))
                .body(vec![0xff; 7])
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(
                response.status(),
                reqwest::StatusCode::BAD_REQUEST,
                "{path}"
            );
            let reason = response.text().await.expect("a reason");
            assert!(
                reason.contains("does not decode") || reason.contains("after its end"),
                "{path}: {reason}"
            );
        }
        let too_large = client
            .post(format!("http://{}/raft/append", controller.addr()))
            .body(vec![0u8; weft_resources::raft::server::BODY_MAX + 1])
            .send()
            .await
            .expect("a too large body");
        assert_eq!(too_large.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
        controller.shutdown().await.expect("shutdown");
    });
}
