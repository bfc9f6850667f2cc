//! A replay's digest: SHA-256 over everything the node sent and
//! published, hashed on a thread of its own.
//!
//! Every order, cancel and bus message is folded in as its tag, its
//! length (8 bytes, little-endian) and its bytes. Hashing every message
//! on the replay's own thread was a twentieth of a replay; the framed
//! bytes are gathered here instead and handed over in large blocks to a
//! thread that only hashes. SHA-256 of a byte stream does not depend on
//! how the stream is cut into updates, so the digest is the one hashing
//! message by message gives. Where no thread can be started, the bytes
//! are hashed in place.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sha2::{Digest as _, Sha256};

/// Bytes gathered before they go to the hashing thread.
const BLOCK: usize = 64 * 1024;
/// Blocks that may wait for the hashing thread before a fold waits too.
const QUEUED: usize = 4;

/// What the hashing thread is asked to do.
enum Job {
    /// Hash these bytes next (the buffer comes back to be reused).
    Bytes(Vec<u8>),
    /// Say the digest of everything hashed so far.
    Report(SyncSender<[u8; 32]>),
}

/// The hashing thread, or the hash itself where there is none.
enum Hasher {
    Thread {
        jobs: SyncSender<Job>,
        spare: Receiver<Vec<u8>>,
    },
    Here(Sha256),
    /// The thread stopped (only a panic in the hash could do that): the
    /// bytes it had are lost, and with them the digest.
    Gone,
}

/// What [`Digest::hex`] says when the digest was lost.
const LOST: &str = "unavailable: the digest's hashing thread stopped";

/// A running digest (see the module docs).
pub struct Digest {
    pending: Vec<u8>,
    hasher: Hasher,
}

impl Default for Digest {
    fn default() -> Self {
        Self::new()
    }
}

impl Digest {
    /// An empty digest, with its hashing thread.
    pub fn new() -> Self {
        let (jobs, inbox) = sync_channel::<Job>(QUEUED);
        let (give_back, spare) = sync_channel::<Vec<u8>>(QUEUED + 1);
        let spawned = std::thread::Builder::new()
            .name("replay-digest".into())
            .spawn(move || {
                let mut sha = Sha256::new();
                // Ends when the digest is dropped (its sender with it).
                for job in inbox {
                    match job {
                        Job::Bytes(mut b) => {
                            sha.update(&b);
                            b.clear();
                            let _ = give_back.try_send(b);
                        }
                        Job::Report(to) => {
                            let _ = to.send(sha.clone().finalize().into());
                        }
                    }
                }
            });
        let hasher = match spawned {
            Ok(_) => Hasher::Thread { jobs, spare },
            Err(e) => {
                tracing::debug!("no thread for the replay digest ({e}); hashing in place");
                Hasher::Here(Sha256::new())
            }
        };
        Self {
            pending: Vec::with_capacity(BLOCK + 1024),
            hasher,
        }
    }

    /// Fold in `bytes` under `tag`.
    pub fn fold(&mut self, tag: u8, bytes: &[u8]) {
        self.pending.push(tag);
        self.pending
            .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= BLOCK {
            self.hand_over();
        }
    }

    /// The digest of everything folded in so far, hex.
    pub fn hex(&mut self) -> String {
        self.hand_over();
        let sum: [u8; 32] = match &mut self.hasher {
            Hasher::Here(sha) => sha.clone().finalize().into(),
            Hasher::Thread { jobs, .. } => {
                let (tx, rx) = sync_channel(1);
                match jobs
                    .send(Job::Report(tx))
                    .ok()
                    .and_then(|()| rx.recv().ok())
                {
                    Some(sum) => sum,
                    None => {
                        self.hasher = Hasher::Gone;
                        return LOST.into();
                    }
                }
            }
            Hasher::Gone => return LOST.into(),
        };
        hex::encode(sum)
    }

    /// Send the gathered bytes to be hashed.
    fn hand_over(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match &mut self.hasher {
            Hasher::Here(sha) => {
                sha.update(&self.pending);
                self.pending.clear();
            }
            Hasher::Thread { jobs, spare } => {
                let next = spare
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BLOCK + 1024));
                let full = std::mem::replace(&mut self.pending, next);
                if jobs.send(Job::Bytes(full)).is_err() {
                    tracing::warn!("the replay digest's hashing thread stopped: no digest");
                    self.hasher = Hasher::Gone;
                }
            }
            Hasher::Gone => self.pending.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest message by message, as the replay used to take it.
    fn one_by_one(parts: &[(u8, Vec<u8>)]) -> String {
        let mut sha = Sha256::new();
        for (tag, bytes) in parts {
            sha.update([*tag]);
            sha.update((bytes.len() as u64).to_le_bytes());
            sha.update(bytes);
        }
        hex::encode(sha.finalize())
    }

    #[test]
    fn hashing_on_a_thread_in_blocks_gives_the_digest_of_one_message_at_a_time() {
        // Enough to cross several blocks, in sizes that do not divide one.
        let parts: Vec<(u8, Vec<u8>)> = (0..20_000u32)
            .map(|i| {
                (
                    (i % 3) as u8,
                    (0..(i % 97)).map(|b| (b ^ i) as u8).collect(),
                )
            })
            .collect();
        let mut d = Digest::new();
        assert_eq!(d.hex(), one_by_one(&[]), "empty");
        for (i, (tag, bytes)) in parts.iter().enumerate() {
            d.fold(*tag, bytes);
            if i == 5_000 {
                assert_eq!(d.hex(), one_by_one(&parts[..=i]), "midway");
            }
        }
        assert_eq!(d.hex(), one_by_one(&parts));
        // Asking twice changes nothing.
        assert_eq!(d.hex(), one_by_one(&parts));
    }

    #[test]
    fn without_a_thread_the_digest_is_the_same() {
        let parts = vec![(0u8, b"order".to_vec()), (1, vec![]), (2, vec![7; 100_000])];
        let mut d = Digest {
            pending: Vec::new(),
            hasher: Hasher::Here(Sha256::new()),
        };
        for (tag, bytes) in &parts {
            d.fold(*tag, bytes);
        }
        assert_eq!(d.hex(), one_by_one(&parts));
    }
}
