//! `Durability::Interval` off the writer's thread: the writer marks the
//! segment dirty on every commit, and this thread syncs it at most once
//! per interval. `fdatasync` can take from tens of microseconds to
//! milliseconds; on the node's thread it would land in the middle of a
//! tick's path to an order.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

struct Shared {
    file: Mutex<File>,
    dirty: AtomicBool,
    stop: AtomicBool,
    syncs: AtomicU64,
    error: Mutex<Option<String>>,
}

impl Shared {
    fn sync_if_dirty(&self) {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let result = self.file.lock().expect("syncer lock poisoned").sync_data();
        match result {
            Ok(()) => {
                self.syncs.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                *self.error.lock().expect("syncer lock poisoned") = Some(e.to_string());
            }
        }
    }
}

/// The background syncer of one journal.
pub(super) struct Syncer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer").finish_non_exhaustive()
    }
}

impl Syncer {
    /// Sync `file` every `every` while it is dirty.
    pub(super) fn start(file: File, every: Duration) -> Syncer {
        let shared = Arc::new(Shared {
            file: Mutex::new(file),
            dirty: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            syncs: AtomicU64::new(0),
            error: Mutex::new(None),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("floor-journal-sync".into())
            .spawn(move || {
                while !s.stop.load(Ordering::Acquire) {
                    std::thread::sleep(every);
                    s.sync_if_dirty();
                }
                s.sync_if_dirty();
            })
            .expect("spawning the journal's sync thread");
        Syncer {
            shared,
            thread: Some(thread),
        }
    }

    /// Something was committed that is not synced yet.
    pub(super) fn mark_dirty(&self) {
        self.shared.dirty.store(true, Ordering::Release);
    }

    /// Sync a new segment from now on (the old one was synced by the
    /// writer when it rotated).
    pub(super) fn switch(&self, file: File) {
        *self.shared.file.lock().expect("syncer lock poisoned") = file;
    }

    /// Syncs done.
    pub(super) fn syncs(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }

    /// A failed sync, once (the writer reports it on its next commit).
    pub(super) fn take_error(&self) -> Option<String> {
        self.shared
            .error
            .lock()
            .expect("syncer lock poisoned")
            .take()
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
