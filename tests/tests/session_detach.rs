//! A session carried from one client to the next (`Client::detach`,
//! `Client::resume`), as one-shot `fk` commands do: every write of the
//! next client is answered at once and applied once.

use std::time::{Duration, Instant};

use fk_client::{Client, ConnectOptions, CreateMode};
use fk_e2e::{Stack, StackOptions};
use fk_local::StoreKind;

/// Far below the 30 s a reply taken by a forgotten long poll stays
/// invisible, far above a write's time on a loaded test machine.
const ANSWERED_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_that_resumes_a_detached_session_gets_its_replies_at_once() {
    let stack = Stack::start(StackOptions::new(StoreKind::S3)).await;
    let options = ConnectOptions::default().with_request_timeout(ANSWERED_WITHIN);
    let first = Client::connect_with(&stack.deployment, options.clone())
        .await
        .unwrap();
    first
        .create("/carried", b"0", CreateMode::Persistent)
        .await
        .unwrap();
    let mut detached = first.detach().await.expect("a connected session detaches");

    // When client after client resumes the session right after the last
    // one detached (the last one's listener had a long poll under way),
    for round in 1..=4 {
        let next = Client::resume(&stack.deployment, &detached, options.clone())
            .await
            .unwrap();
        assert_eq!(next.session_id(), Some(detached.id));
        let start = Instant::now();

        // then each write is answered within the request timeout,
        let stat = next
            .set_data("/carried", round.to_string().as_bytes(), None)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(start.elapsed() < ANSWERED_WITHIN);
        // and applied once.
        assert_eq!(stat.version, round);
        detached = next.detach().await.expect("still connected");
    }

    let last = Client::resume(&stack.deployment, &detached, options)
        .await
        .unwrap();
    assert_eq!(last.get_data("/carried").await.unwrap().0, b"4");
    last.close().await.unwrap();
    stack.stop().await;
}
