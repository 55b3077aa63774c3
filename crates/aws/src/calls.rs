//! Counting the calls each backend receives, so tests and benchmarks can
//! state "one lock is one `UpdateItem`" and measure it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Counts AWS API calls (and Redis round trips) by `"Service.Operation"`,
/// e.g. `"DynamoDB.UpdateItem"`, `"S3.PutObject"`, `"SQS.SendMessage"`,
/// `"Redis.Pipeline"`, and apart from them the lean transport's fallbacks
/// ([`crate::lean`]: a call the SDK makes again), by the same key. Clones
/// share one count.
#[derive(Clone, Default, Debug)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    fallbacks: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one call.
    pub fn record(&self, key: &str) {
        add(&mut lock(&self.counts), key);
    }

    /// Counts one call of the lean transport that the SDK makes again (the
    /// SDK's call is counted as a call by its interceptor).
    pub fn record_fallback(&self, key: &str) {
        add(&mut lock(&self.fallbacks), key);
    }

    /// The fallbacks so far, starting again from zero.
    pub fn take_fallbacks(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *lock(&self.fallbacks))
    }

    /// Starts both counts again from zero.
    pub fn reset(&self) {
        self.take();
        self.take_fallbacks();
    }

    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        lock(&self.counts).clone()
    }

    /// The counts so far, starting again from zero.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *lock(&self.counts))
    }

    /// All calls so far.
    pub fn total(&self) -> u64 {
        lock(&self.counts).values().sum()
    }

    /// An SDK interceptor that counts every operation of the client it is
    /// added to.
    pub fn interceptor(&self) -> CountingInterceptor {
        CountingInterceptor {
            counter: self.clone(),
        }
    }
}

fn lock(counts: &Mutex<BTreeMap<String, u64>>) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
    // A panic while counting leaves a valid map: keep counting.
    counts.lock().unwrap_or_else(|e| e.into_inner())
}

fn add(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// Counts one call per SDK operation, before its request is serialised:
/// retries of the same operation are not counted again (they are the SDK's
/// business, and a test wants the calls the code makes).
///
/// Not `read_before_execution`: a client interceptor runs that hook before
/// the operation's configuration, with its [`Metadata`], is in the bag.
#[derive(Debug, Clone)]
pub struct CountingInterceptor {
    counter: CallCounter,
}

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "fk_aws::CountingInterceptor"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Every generated operation stores its Metadata in the bag, e.g.
        // ("UpdateItem", "DynamoDB").
        match cfg.load::<Metadata>() {
            Some(meta) => self
                .counter
                .record(&format!("{}.{}", meta.service(), meta.name())),
            None => self.counter.record("Unknown.Unknown"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_count_and_take_resets_it() {
        let counter = CallCounter::new();
        let clone = counter.clone();
        counter.record("S3.PutObject");
        clone.record("S3.PutObject");
        clone.record("SQS.SendMessage");
        assert_eq!(counter.total(), 3);
        assert_eq!(counter.snapshot()["S3.PutObject"], 2);
        let taken = counter.take();
        assert_eq!(taken["SQS.SendMessage"], 1);
        assert_eq!(clone.total(), 0);
    }

    #[test]
    fn fallbacks_are_counted_apart_from_calls() {
        let counter = CallCounter::new();
        counter.record("DynamoDB.UpdateItem");
        counter.clone().record_fallback("DynamoDB.UpdateItem");
        assert_eq!(counter.total(), 1, "a fallback is not a call of its own");
        assert_eq!(
            counter.take_fallbacks(),
            [("DynamoDB.UpdateItem".to_string(), 1)].into()
        );
        assert!(counter.take_fallbacks().is_empty());
        counter.record_fallback("S3.PutObject");
        counter.reset();
        assert_eq!((counter.total(), counter.take_fallbacks().len()), (0, 0));
    }
}
