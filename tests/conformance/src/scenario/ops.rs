//! The operations, as [`Scenario`] methods on `s0` and as [`On`] methods
//! on any session.

use super::{Scenario, S};
use crate::call::{Call, Reply};
use crate::zk::{AddWatchMode, Mode, MultiOp, WatcherType};

impl Scenario {
    pub async fn create(&mut self, path: &str, data: impl AsRef<[u8]>, mode: Mode) -> Reply {
        self.on(S(0)).create(path, data, mode).await
    }
    pub async fn get_data(&mut self, path: &str) -> Reply {
        self.on(S(0)).get_data(path).await
    }
    pub async fn set_data(
        &mut self,
        path: &str,
        data: impl AsRef<[u8]>,
        version: Option<i32>,
    ) -> Reply {
        self.on(S(0)).set_data(path, data, version).await
    }
    pub async fn delete(&mut self, path: &str, version: Option<i32>) -> Reply {
        self.on(S(0)).delete(path, version).await
    }
    pub async fn exists(&mut self, path: &str) -> Reply {
        self.on(S(0)).exists(path).await
    }
    pub async fn get_children(&mut self, path: &str) -> Reply {
        self.on(S(0)).get_children(path).await
    }
    pub async fn get_children2(&mut self, path: &str) -> Reply {
        self.on(S(0)).get_children2(path).await
    }
    pub async fn multi(&mut self, ops: Vec<MultiOp>) -> Reply {
        self.on(S(0)).multi(ops).await
    }
    pub async fn sync(&mut self, path: &str) -> Reply {
        self.on(S(0)).sync(path).await
    }
    pub async fn get_ephemerals(&mut self, prefix: &str) -> Reply {
        self.on(S(0)).get_ephemerals(prefix).await
    }
    pub async fn get_all_children_number(&mut self, path: &str) -> Reply {
        self.on(S(0)).get_all_children_number(path).await
    }

    /// The operations on session `s`: `t.on(s1).create(…)`.
    pub fn on(&mut self, s: S) -> On<'_> {
        On { t: self, s }
    }
}

/// The operations on one session; see [`Scenario::on`].
pub struct On<'a> {
    t: &'a mut Scenario,
    s: S,
}

impl On<'_> {
    pub async fn create(self, path: &str, data: impl AsRef<[u8]>, mode: Mode) -> Reply {
        self.t.call(self.s, Call::create(path, data, mode)).await
    }
    pub async fn get_data(self, path: &str) -> Reply {
        self.t.call(self.s, Call::get_data(path)).await
    }
    pub async fn set_data(self, path: &str, data: impl AsRef<[u8]>, version: Option<i32>) -> Reply {
        self.t
            .call(self.s, Call::set_data(path, data, version))
            .await
    }
    pub async fn delete(self, path: &str, version: Option<i32>) -> Reply {
        self.t.call(self.s, Call::delete(path, version)).await
    }
    pub async fn exists(self, path: &str) -> Reply {
        self.t.call(self.s, Call::exists(path)).await
    }
    pub async fn get_children(self, path: &str) -> Reply {
        self.t.call(self.s, Call::get_children(path)).await
    }
    pub async fn get_children2(self, path: &str) -> Reply {
        self.t.call(self.s, Call::get_children2(path)).await
    }
    pub async fn multi(self, ops: Vec<MultiOp>) -> Reply {
        self.t.call(self.s, Call::multi(ops)).await
    }
    pub async fn sync(self, path: &str) -> Reply {
        self.t.call(self.s, Call::sync(path)).await
    }
    pub async fn get_ephemerals(self, prefix: &str) -> Reply {
        self.t.call(self.s, Call::get_ephemerals(prefix)).await
    }
    pub async fn get_all_children_number(self, path: &str) -> Reply {
        self.t
            .call(self.s, Call::get_all_children_number(path))
            .await
    }
    pub async fn get_data_and_watch(self, path: &str) -> Reply {
        self.t.call(self.s, Call::get_data_and_watch(path)).await
    }
    pub async fn exists_and_watch(self, path: &str) -> Reply {
        self.t.call(self.s, Call::exists_and_watch(path)).await
    }
    pub async fn get_children_and_watch(self, path: &str) -> Reply {
        self.t
            .call(self.s, Call::get_children_and_watch(path))
            .await
    }
    pub async fn add_watch(self, path: &str, mode: AddWatchMode) -> Reply {
        self.t.call(self.s, Call::add_watch(path, mode)).await
    }
    pub async fn remove_watches(self, path: &str, kind: WatcherType) -> Reply {
        self.t.call(self.s, Call::remove_watches(path, kind)).await
    }
}
