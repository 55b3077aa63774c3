//! ZooKeeper's recipes (crates/recipes) on the local stack, each with 8
//! clients (8 sessions) at once, on every user store: the guarantees each
//! recipe promises, observed from the clients' side.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fk_client::Client;
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;
use fk_recipes::{Barrier, Counter, DoubleBarrier, LeaderElection, Lock, Queue, RwLock};
use tokio::task::JoinSet;

const CLIENTS: usize = 8;
/// Ample for any step here on 2 cores; a recipe that waits longer is stuck.
const STEP: Duration = Duration::from_secs(120);

async fn clients(stack: &Stack) -> Vec<Client> {
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(Client::connect(&stack.deployment).await.unwrap());
    }
    clients
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: still waiting after {STEP:?}"))
}

/// Raises `max` to `now` if it is lower.
fn record_max(max: &AtomicUsize, now: usize) {
    max.fetch_max(now, Ordering::SeqCst);
}

async fn the_lock_admits_one_holder_at_a_time(clients: &[Client]) {
    // Given 8 clients that each take the lock twice and, inside it,
    // increment a node without any version check,
    let counter = "/recipes/lock/count";
    let inside = Arc::new(AtomicUsize::new(0));
    let most_inside = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for client in clients {
        let (client, inside, most_inside) = (client.clone(), inside.clone(), most_inside.clone());
        tasks.spawn(async move {
            let lock = Lock::new(&client, "/recipes/lock/dir");
            for _ in 0..2 {
                let guard = lock.acquire().await.unwrap();
                record_max(&most_inside, inside.fetch_add(1, Ordering::SeqCst) + 1);
                let value = match client.get_data(counter).await {
                    Ok((data, _)) => String::from_utf8(data).unwrap().parse::<u64>().unwrap(),
                    Err(_) => 0,
                };
                let next = (value + 1).to_string();
                if value == 0 {
                    client
                        .create(counter, next.as_bytes(), fk_client::CreateMode::Persistent)
                        .await
                        .unwrap();
                } else {
                    client
                        .set_data(counter, next.as_bytes(), None)
                        .await
                        .unwrap();
                }
                inside.fetch_sub(1, Ordering::SeqCst);
                guard.release().await.unwrap();
            }
        });
    }
    within("the lock's contenders", async {
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    })
    .await;

    // then nobody was inside with another, and no increment was lost.
    assert_eq!(most_inside.load(Ordering::SeqCst), 1, "two holders at once");
    let (data, _) = clients[0].get_data(counter).await.unwrap();
    assert_eq!(data, (2 * CLIENTS).to_string().as_bytes());
}

async fn try_acquire_fails_while_the_lock_is_held(clients: &[Client]) {
    let dir = "/recipes/trylock";
    let held = Lock::new(&clients[0], dir).acquire().await.unwrap();
    assert!(Lock::new(&clients[1], dir)
        .try_acquire()
        .await
        .unwrap()
        .is_none());
    held.release().await.unwrap();
    let second = Lock::new(&clients[1], dir).try_acquire().await.unwrap();
    second.expect("a free lock").release().await.unwrap();
}

async fn readers_share_and_writers_exclude(clients: &[Client]) {
    let dir = "/recipes/rwlock";
    // Two readers hold the lock at once,
    let r1 = within("first reader", RwLock::new(&clients[0], dir).read())
        .await
        .unwrap();
    let r2 = within("second reader", RwLock::new(&clients[1], dir).read())
        .await
        .unwrap();
    // and a writer waits for both.
    let writer = {
        let client = clients[2].clone();
        tokio::spawn(async move { RwLock::new(&client, dir).write().await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!writer.is_finished(), "a writer got in beside two readers");
    r1.release().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!writer.is_finished(), "a writer got in beside a reader");
    r2.release().await.unwrap();
    let w = within("the writer", writer).await.unwrap().unwrap();
    assert!(w.is_write());
    w.release().await.unwrap();

    // Under contention of 8 (half readers, half writers), a writer is
    // never inside with anyone.
    let readers = Arc::new(AtomicUsize::new(0));
    let writers = Arc::new(AtomicUsize::new(0));
    let violations = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        let (client, readers, writers, violations) = (
            client.clone(),
            readers.clone(),
            writers.clone(),
            violations.clone(),
        );
        tasks.spawn(async move {
            let lock = RwLock::new(&client, "/recipes/rwlock-contended");
            for _ in 0..2 {
                if i % 2 == 0 {
                    let g = lock.write().await.unwrap();
                    let w = writers.fetch_add(1, Ordering::SeqCst) + 1;
                    if w > 1 || readers.load(Ordering::SeqCst) > 0 {
                        violations.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    writers.fetch_sub(1, Ordering::SeqCst);
                    g.release().await.unwrap();
                } else {
                    let g = lock.read().await.unwrap();
                    readers.fetch_add(1, Ordering::SeqCst);
                    if writers.load(Ordering::SeqCst) > 0 {
                        violations.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    readers.fetch_sub(1, Ordering::SeqCst);
                    g.release().await.unwrap();
                }
            }
        });
    }
    within("the read/write contenders", async {
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    })
    .await;
    assert_eq!(violations.load(Ordering::SeqCst), 0);
}

async fn leadership_passes_in_join_order_one_leader_at_a_time(clients: &[Client]) {
    let dir = "/recipes/election";
    let mut candidates = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        candidates.push(
            LeaderElection::join(client, dir, format!("candidate {i}").as_bytes())
                .await
                .unwrap(),
        );
    }
    for i in 0..CLIENTS {
        // The i-th to join leads now, and it alone,
        within("leadership", candidates[0].wait_leadership())
            .await
            .unwrap();
        let mut leaders = 0;
        for c in &candidates {
            leaders += usize::from(c.is_leader().await.unwrap());
        }
        assert_eq!(leaders, 1, "round {i}");
        assert_eq!(
            candidates[0].leader().await.unwrap().unwrap(),
            format!("candidate {i}").as_bytes()
        );
        // until it resigns.
        candidates.remove(0).resign().await.unwrap();
    }
}

async fn nobody_passes_a_raised_barrier(clients: &[Client]) {
    let path = "/recipes/barrier/gate";
    Barrier::new(&clients[0], path).set().await.unwrap();
    let passed = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for client in &clients[1..] {
        let (client, passed) = (client.clone(), passed.clone());
        tasks.spawn(async move {
            Barrier::new(&client, path).wait().await.unwrap();
            passed.fetch_add(1, Ordering::SeqCst);
        });
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        passed.load(Ordering::SeqCst),
        0,
        "a waiter passed a raised barrier"
    );
    Barrier::new(&clients[0], path).remove().await.unwrap();
    within("the barrier's waiters", async {
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    })
    .await;
    assert_eq!(passed.load(Ordering::SeqCst), CLIENTS - 1);
}

async fn a_double_barrier_lets_all_in_together_and_out_together(clients: &[Client]) {
    let dir = "/recipes/double-barrier";
    let arriving = Arc::new(AtomicUsize::new(0));
    let leaving = Arc::new(AtomicUsize::new(0));
    let early = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        let (client, arriving, leaving, early) = (
            client.clone(),
            arriving.clone(),
            leaving.clone(),
            early.clone(),
        );
        tasks.spawn(async move {
            // Arrivals spread over a second.
            tokio::time::sleep(Duration::from_millis(120 * i as u64)).await;
            let barrier = DoubleBarrier::new(&client, dir, &format!("p{i}"), CLIENTS);
            arriving.fetch_add(1, Ordering::SeqCst);
            barrier.enter().await.unwrap();
            if arriving.load(Ordering::SeqCst) < CLIENTS {
                early.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(60 * (CLIENTS - i) as u64)).await;
            leaving.fetch_add(1, Ordering::SeqCst);
            barrier.leave().await.unwrap();
            if leaving.load(Ordering::SeqCst) < CLIENTS {
                early.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    within("the double barrier", async {
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    })
    .await;
    assert_eq!(
        early.load(Ordering::SeqCst),
        0,
        "someone entered or left early"
    );
}

async fn the_counter_loses_no_increment(clients: &[Client]) {
    let path = "/recipes/counter";
    let mut tasks = JoinSet::new();
    for client in clients {
        let client = client.clone();
        tasks.spawn(async move {
            let counter = Counter::new(&client, path);
            let mut seen = Vec::new();
            for _ in 0..3 {
                seen.push(counter.add(1).await.unwrap());
            }
            seen
        });
    }
    let mut values = Vec::new();
    within("the counter's clients", async {
        while let Some(done) = tasks.join_next().await {
            values.extend(done.unwrap());
        }
    })
    .await;
    values.sort();
    let expected: Vec<i64> = (1..=(3 * CLIENTS) as i64).collect();
    assert_eq!(values, expected, "each add returns a distinct new value");
    assert_eq!(
        Counter::new(&clients[0], path).get().await.unwrap(),
        3 * CLIENTS as i64
    );
}

async fn the_queue_hands_each_item_to_one_consumer_in_order(clients: &[Client]) {
    // One consumer sees the items in the order they were offered,
    let dir = "/recipes/queue-order";
    let queue = Queue::new(&clients[0], dir);
    for item in ["a", "b", "c"] {
        queue.offer(item.as_bytes()).await.unwrap();
    }
    for item in ["a", "b", "c"] {
        assert_eq!(queue.poll().await.unwrap().unwrap(), item.as_bytes());
    }
    assert_eq!(queue.poll().await.unwrap(), None);

    // and 4 consumers beside 4 producers take every item exactly once.
    let dir = "/recipes/queue";
    let per_producer = 4;
    let total = (CLIENTS / 2) * per_producer;
    let taken = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let mut tasks = JoinSet::new();
    for (i, client) in clients.iter().enumerate() {
        let (client, taken) = (client.clone(), taken.clone());
        tasks.spawn(async move {
            let queue = Queue::new(&client, dir);
            if i % 2 == 0 {
                for n in 0..per_producer {
                    queue.offer(format!("{i}-{n}").as_bytes()).await.unwrap();
                }
            } else {
                // poll, not a take_next under a timeout: cancelling a take
                // after its delete committed would drop the item.
                while taken.lock().await.len() < total {
                    match queue.poll().await.unwrap() {
                        Some(item) => taken.lock().await.push(String::from_utf8(item).unwrap()),
                        None => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            }
        });
    }
    within("the queue's producers and consumers", async {
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    })
    .await;
    let mut taken = taken.lock().await.clone();
    taken.sort();
    let mut offered: Vec<String> = (0..CLIENTS)
        .step_by(2)
        .flat_map(|i| (0..per_producer).map(move |n| format!("{i}-{n}")))
        .collect();
    offered.sort();
    assert_eq!(taken, offered);
}

/// Runs `step`, printing how long it took (the recipes' cost on the
/// local stack, seen with `--nocapture`).
async fn timed(store: StoreKind, name: &str, step: impl std::future::Future<Output = ()>) {
    let start = std::time::Instant::now();
    step.await;
    eprintln!("{store:?} {name}: {:.1} s", start.elapsed().as_secs_f64());
}

/// One store at a time: three stacks of 8 contending sessions each at once
/// are more than 2 cores serve within the tests' 30 s reply timeout (it
/// happened once in `make test`), and a timeout here would say nothing
/// about the recipes.
static ONE_STORE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn every_recipe(store: StoreKind) {
    let _turn = ONE_STORE_AT_A_TIME.lock().await;
    let stack = Stack::start(StackOptions::new(store)).await;
    let clients = clients(&stack).await;
    let c = &clients;
    timed(store, "lock", the_lock_admits_one_holder_at_a_time(c)).await;
    timed(
        store,
        "try_acquire",
        try_acquire_fails_while_the_lock_is_held(c),
    )
    .await;
    timed(store, "rwlock", readers_share_and_writers_exclude(c)).await;
    timed(
        store,
        "election",
        leadership_passes_in_join_order_one_leader_at_a_time(c),
    )
    .await;
    timed(store, "barrier", nobody_passes_a_raised_barrier(c)).await;
    timed(
        store,
        "double barrier",
        a_double_barrier_lets_all_in_together_and_out_together(c),
    )
    .await;
    timed(store, "counter", the_counter_loses_no_increment(c)).await;
    timed(
        store,
        "queue",
        the_queue_hands_each_item_to_one_consumer_in_order(c),
    )
    .await;
    for client in clients {
        client.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_recipe_holds_with_8_concurrent_clients_on_s3() {
    every_recipe(StoreKind::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_recipe_holds_with_8_concurrent_clients_on_dynamodb() {
    every_recipe(StoreKind::Dynamodb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_recipe_holds_with_8_concurrent_clients_on_redis() {
    every_recipe(StoreKind::Redis).await;
}
