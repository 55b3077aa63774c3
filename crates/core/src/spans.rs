//! Spans shared by several writes.

use std::future::Future;
use std::pin::Pin;

use tracing::Instrument as _;

/// Runs `fut` inside every span of `spans`: one call that several writes'
/// traces each show as their own (a group commit, a batched user-storage
/// write, a writer batch's push). Each span is entered while `fut` runs,
/// so each ends after it. The first span is the innermost: what `fut`
/// records goes there.
pub async fn in_all<T>(spans: Vec<tracing::Span>, fut: impl Future<Output = T> + Send) -> T {
    let mut fut: Pin<Box<dyn Future<Output = T> + Send + '_>> = Box::pin(fut);
    for span in spans {
        fut = Box::pin(fut.instrument(span));
    }
    fut.await
}
