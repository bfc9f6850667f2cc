//! Dropping what a swap sheds, off the node's thread.
//!
//! Dropping an agent instance hands its slot back to the pooling allocator
//! (resetting memory and tables), and dropping the last copy of a compiled
//! component unmaps its code: tens of microseconds each, measured here.
//! Done inline they were most of a swap's pause (about 130 of 180 µs), so
//! the swap hands them to one long-lived thread instead.

use std::sync::mpsc::{Sender, channel};

/// A thread that drops what it is given; cheap to clone.
#[derive(Clone)]
pub struct Reaper(Option<Sender<Box<dyn Send>>>);

impl Reaper {
    /// Start the thread. If it cannot start, values are dropped in place.
    pub fn start() -> Self {
        let (tx, rx) = channel::<Box<dyn Send>>();
        let spawned = std::thread::Builder::new()
            .name("floor-reaper".into())
            .spawn(move || {
                // Ends when every sender is gone.
                while let Ok(doomed) = rx.recv() {
                    drop(doomed);
                }
            });
        match spawned {
            Ok(_) => Self(Some(tx)),
            Err(e) => {
                tracing::warn!("cannot start the reaper thread ({e}); swaps drop inline");
                Self(None)
            }
        }
    }

    /// Drop `value` on the reaper's thread (in place if it is gone).
    pub fn drop_later<T: Send + 'static>(&self, value: T) {
        if let Some(tx) = &self.0 {
            // A send fails only when the thread is gone; the value then
            // comes back and is dropped here.
            let _ = tx.send(Box::new(value));
        }
    }
}
