//! A replay's digest: SHA-256 over everything the node sent and
//! published, encoded and hashed on a thread of its own.
//!
//! Every order, cancel and bus message is folded in as its tag, its
//! length (8 bytes, little-endian) and its bytes (a message's bytes are
//! its postcard encoding). Encoding and hashing every message on the
//! replay's own thread was a fifth of a replay; instead the replay
//! gathers the recorded bytes and the messages themselves (shared, not
//! copied) in batches and hands each over to a thread that encodes the
//! messages in their place and hashes the whole. SHA-256 of a byte stream
//! does not depend on how the stream is cut into updates, so the digest
//! is the one hashing message by message gives. Where no thread can be
//! started, each batch is encoded and hashed in place.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sha2::{Digest as _, Sha256};

use crate::model::Envelope;

/// Bytes gathered before a batch goes to the hashing thread.
const BLOCK: usize = 64 * 1024;
/// Messages gathered before a batch goes (each some 80 bytes encoded).
const MESSAGES: usize = 512;
/// Batches that may wait for the hashing thread before a fold waits too.
const QUEUED: usize = 4;
/// The tag a published message is folded under.
const MESSAGE: u8 = 0;

/// What is folded in, in order: framed bytes, with messages to encode
/// and frame at given offsets among them.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// A message, and the length of `bytes` when it was folded.
    messages: Vec<(usize, Arc<Envelope>)>,
}

impl Batch {
    fn with_capacity() -> Self {
        Self {
            bytes: Vec::with_capacity(BLOCK + 1024),
            messages: Vec::with_capacity(MESSAGES),
        }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.messages.is_empty()
    }

    fn is_full(&self) -> bool {
        self.bytes.len() >= BLOCK || self.messages.len() >= MESSAGES
    }
}

/// Where a batch becomes hashed bytes; kept by whoever hashes.
struct Hashing {
    sha: Sha256,
    /// The batch's bytes with its messages encoded in their places.
    framed: Vec<u8>,
    /// For a message postcard writes (not a quote or a trade).
    scratch: Vec<u8>,
}

impl Hashing {
    fn new() -> Self {
        Self {
            sha: Sha256::new(),
            framed: Vec::with_capacity(2 * BLOCK),
            scratch: vec![0; 16 * 1024],
        }
    }

    /// Encode and hash `batch`, and empty its bytes. Its messages are
    /// kept: they go back with the batch to be let go where they were
    /// made (a message freed on this thread would be memory the replay's
    /// thread must take back from it, colder than its own).
    fn take(&mut self, batch: &mut Batch) {
        let framed = &mut self.framed;
        framed.clear();
        let mut at = 0;
        for (offset, env) in &batch.messages {
            let offset = *offset;
            framed.extend_from_slice(&batch.bytes[at..offset]);
            at = offset;
            framed.push(MESSAGE);
            let len_at = framed.len();
            framed.extend_from_slice(&[0; 8]);
            if !super::wire::market_envelope(env, framed) {
                match postcard::to_slice(&**env, &mut self.scratch) {
                    Ok(bytes) => framed.extend_from_slice(bytes),
                    // Larger than the scratch (a large custom payload).
                    Err(_) => {
                        framed.extend_from_slice(&postcard::to_allocvec(&**env).unwrap_or_default())
                    }
                }
            }
            let len = (framed.len() - len_at - 8) as u64;
            framed[len_at..len_at + 8].copy_from_slice(&len.to_le_bytes());
        }
        framed.extend_from_slice(&batch.bytes[at..]);
        batch.bytes.clear();
        self.sha.update(&*framed);
    }

    fn sum(&self) -> [u8; 32] {
        self.sha.clone().finalize().into()
    }
}

/// What the hashing thread is asked to do.
enum Job {
    /// Hash this batch next (its buffers come back to be reused).
    Batch(Batch),
    /// Say the digest of everything hashed so far.
    Report(SyncSender<[u8; 32]>),
}

/// The hashing thread, or the hash itself where there is none.
enum Hasher {
    Thread {
        jobs: SyncSender<Job>,
        spare: Receiver<Batch>,
    },
    Here(Box<Hashing>),
    /// The thread stopped (only a panic in the hash could do that): the
    /// bytes it had are lost, and with them the digest.
    Gone,
}

/// What [`Digest::hex`] says when the digest was lost.
const LOST: &str = "unavailable: the digest's hashing thread stopped";

/// A running digest (see the module docs).
pub struct Digest {
    pending: Batch,
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
        let (give_back, spare) = sync_channel::<Batch>(QUEUED + 1);
        let spawned = std::thread::Builder::new()
            .name("replay-digest".into())
            .spawn(move || {
                let mut hashing = Hashing::new();
                // Ends when the digest is dropped (its sender with it).
                for job in inbox {
                    match job {
                        Job::Batch(mut b) => {
                            hashing.take(&mut b);
                            let _ = give_back.try_send(b);
                        }
                        Job::Report(to) => {
                            let _ = to.send(hashing.sum());
                        }
                    }
                }
            });
        let hasher = match spawned {
            Ok(_) => Hasher::Thread { jobs, spare },
            Err(e) => {
                tracing::debug!("no thread for the replay digest ({e}); hashing in place");
                Hasher::Here(Box::new(Hashing::new()))
            }
        };
        Self {
            pending: Batch::with_capacity(),
            hasher,
        }
    }

    /// Fold in `bytes` under `tag`.
    pub fn fold(&mut self, tag: u8, bytes: &[u8]) {
        let b = &mut self.pending.bytes;
        b.push(tag);
        b.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        b.extend_from_slice(bytes);
        if self.pending.is_full() {
            self.hand_over();
        }
    }

    /// Fold in a published message: its postcard encoding under tag 0,
    /// encoded where it is hashed.
    pub fn fold_message(&mut self, env: Arc<Envelope>) {
        let offset = self.pending.bytes.len();
        self.pending.messages.push((offset, env));
        if self.pending.is_full() {
            self.hand_over();
        }
    }

    /// The digest of everything folded in so far, hex.
    pub fn hex(&mut self) -> String {
        self.hand_over();
        let sum: [u8; 32] = match &mut self.hasher {
            Hasher::Here(h) => h.sum(),
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

    /// Send the gathered batch to be hashed.
    fn hand_over(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match &mut self.hasher {
            Hasher::Here(h) => {
                h.take(&mut self.pending);
                self.pending.messages.clear();
            }
            Hasher::Thread { jobs, spare } => {
                let next = match spare.try_recv() {
                    Ok(mut used) => {
                        used.messages.clear();
                        used
                    }
                    Err(_) => Batch::with_capacity(),
                };
                let full = std::mem::replace(&mut self.pending, next);
                if jobs.send(Job::Batch(full)).is_err() {
                    tracing::warn!("the replay digest's hashing thread stopped: no digest");
                    self.hasher = Hasher::Gone;
                }
            }
            Hasher::Gone => {
                self.pending.bytes.clear();
                self.pending.messages.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Payload, Quote};

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

    /// Bytes and messages interleaved: a message every seventh part, a
    /// quote (written directly) or a custom payload (through postcard;
    /// every so often larger than the scratch buffer).
    fn mixed(n: u32) -> Vec<Part> {
        (0..n)
            .map(|i| match i % 7 {
                0 => {
                    let payload = match i % 3 {
                        0 => Payload::Quote(Quote {
                            symbol: "BTCUSDT".into(),
                            bid: f64::from(i),
                            bid_size: 1.0,
                            ask: f64::from(i) + 0.5,
                            ask_size: 2.0,
                        }),
                        1 if i % 500 == 1 => Payload::Custom(vec![9; 20_000]),
                        _ => Payload::Custom(vec![i as u8; (i % 50) as usize]),
                    };
                    Part::Message(Arc::new(Envelope {
                        id: u64::from(i),
                        topic: "md.tick.BTCUSDT".into(),
                        source: "sim".into(),
                        sequence: u64::from(i),
                        event_time: u64::from(i) * 1_000,
                        trace_id: u64::from(i),
                        correlation_id: None,
                        attempt: 0,
                        payload,
                    }))
                }
                _ => Part::Bytes(
                    (i % 3) as u8,
                    (0..(i % 97)).map(|b| (b ^ i) as u8).collect(),
                ),
            })
            .collect()
    }

    enum Part {
        Bytes(u8, Vec<u8>),
        Message(Arc<Envelope>),
    }

    /// Each part as tag and bytes, a message as postcard encodes it.
    fn encoded(parts: &[Part]) -> Vec<(u8, Vec<u8>)> {
        parts
            .iter()
            .map(|p| match p {
                Part::Bytes(tag, b) => (*tag, b.clone()),
                Part::Message(env) => (MESSAGE, postcard::to_stdvec(&**env).unwrap()),
            })
            .collect()
    }

    fn fold_all(d: &mut Digest, parts: &[Part]) {
        for p in parts {
            match p {
                Part::Bytes(tag, b) => d.fold(*tag, b),
                Part::Message(env) => d.fold_message(Arc::clone(env)),
            }
        }
    }

    #[test]
    fn hashing_on_a_thread_in_batches_gives_the_digest_of_one_message_at_a_time() {
        // Enough to cross several batches, in sizes that do not divide one.
        let parts = mixed(20_000);
        let flat = encoded(&parts);
        let mut d = Digest::new();
        assert!(matches!(d.hasher, Hasher::Thread { .. }));
        assert_eq!(d.hex(), one_by_one(&[]), "empty");
        fold_all(&mut d, &parts[..5_001]);
        assert_eq!(d.hex(), one_by_one(&flat[..5_001]), "midway");
        fold_all(&mut d, &parts[5_001..]);
        assert_eq!(d.hex(), one_by_one(&flat));
        // Asking twice changes nothing.
        assert_eq!(d.hex(), one_by_one(&flat));
    }

    #[test]
    fn without_a_thread_the_digest_is_the_same() {
        let mut parts = mixed(3_000);
        parts.push(Part::Bytes(2, vec![7; 100_000]));
        let mut d = Digest {
            pending: Batch::default(),
            hasher: Hasher::Here(Box::new(Hashing::new())),
        };
        fold_all(&mut d, &parts);
        assert_eq!(d.hex(), one_by_one(&encoded(&parts)));
    }
}
