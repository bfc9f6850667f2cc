//! [`Name`]: a string many messages share — a topic, a source, a symbol.
//!
//! A backtest stamps hundreds of thousands of envelopes a second, and each
//! names its topic and its source; one order's events name the same ones
//! again. With `String` every envelope allocated, copied and freed each
//! name; a `Name` is an `Arc<str>`, so a copy of one costs a reference
//! count. It reads, compares, hashes, prints and serializes as the text it
//! holds: the JSON, the journal's encoding and the store see a string, as
//! before.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A shared, immutable string; cloning it does not copy the text.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Arc<str>);

impl Clone for Name {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }

    /// Touches no count when both already share the text: the view and
    /// the simulator overwrite each symbol's last quote on every tick.
    fn clone_from(&mut self, source: &Self) {
        if !Arc::ptr_eq(&self.0, &source.0) {
            self.0 = Arc::clone(&source.0);
        }
    }
}

impl Name {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key for maps keyed by [`Name`]: a name (whose own text a new key
/// then shares, so later lookups with it compare no text) or plain text.
pub trait Key: std::hash::Hash + Eq {
    /// The text.
    fn text(&self) -> &str;
    /// A name for it: itself, shared, or new.
    fn to_name(&self) -> Name;
}

impl Key for Name {
    fn text(&self) -> &str {
        self
    }
    fn to_name(&self) -> Name {
        self.clone()
    }
}

impl Key for str {
    fn text(&self) -> &str {
        self
    }
    fn to_name(&self) -> Name {
        Name::from(self)
    }
}

/// One shared [`Name`] per text: what reads many events naming few
/// symbols (a CSV, a journal) keeps one copy of each, and maps keyed by
/// one (the view's quotes, the topic cache) then find it without
/// comparing text. Keyed by text that may come from a file: foldhash,
/// seeded per process. The last name given is tried first: records
/// mostly come in long stretches of one symbol, and comparing a few bytes
/// is cheaper than hashing them.
#[derive(Debug, Default)]
pub struct Interner {
    known: std::collections::HashSet<Name, foldhash::fast::RandomState>,
    last: Option<Name>,
}

impl Interner {
    /// [`Interner::name`] for text still in bytes: none when they are not
    /// UTF-8. The name given last is matched on its bytes, so the text is
    /// checked only when it is another one.
    pub fn name_bytes(&mut self, bytes: &[u8]) -> Option<Name> {
        if let Some(last) = &self.last
            && last.as_bytes() == bytes
        {
            return Some(last.clone());
        }
        std::str::from_utf8(bytes).ok().map(|text| self.name(text))
    }

    /// The shared name for `text`, made on first sight.
    pub fn name(&mut self, text: &str) -> Name {
        if let Some(last) = &self.last
            && last.as_str() == text
        {
            return last.clone();
        }
        let name = match self.known.get(text) {
            Some(known) => known.clone(),
            None => {
                let name = Name::from(text);
                self.known.insert(name.clone());
                name
            }
        };
        self.last = Some(name.clone());
        name
    }
}

/// Whether `a` and `b` hold the same text: at once when both are the very
/// same text (two borrows of one shared [`Name`], as a run's events and a
/// cached topic are), else by comparing it. The hot path compares a
/// symbol or topic with itself on every tick, and a call to `memcmp`
/// each time was a twentieth of a backtest.
pub fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
}

impl Default for Name {
    fn default() -> Self {
        Self(Arc::from(""))
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Self {
        Self(Arc::from(s.as_str()))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> Self {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(NameVisitor)
    }
}

/// Straight from the decoder's text into the shared allocation: serde's
/// own `Arc<str>` goes through a `Box<str>` first (two allocations).
struct NameVisitor;

impl Visitor<'_> for NameVisitor {
    type Value = Name;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Name, E> {
        Ok(Name::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_its_text_to_compare_hash_print_and_serialize() {
        let n = Name::from("md.tick.BTCUSDT");
        assert_eq!(n, "md.tick.BTCUSDT");
        assert_eq!("md.tick.BTCUSDT", n);
        assert_eq!(n, String::from("md.tick.BTCUSDT"));
        assert_eq!(n.to_string(), "md.tick.BTCUSDT");
        assert_eq!(format!("{n:?}"), "\"md.tick.BTCUSDT\"");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"md.tick.BTCUSDT\"");
        let back: Name = serde_json::from_str("\"md.tick.BTCUSDT\"").unwrap();
        assert_eq!(back, n);
        let escaped: Name = serde_json::from_str("\"a\\\"b\"").unwrap();
        assert_eq!(escaped, "a\"b");
        let packed = postcard::to_allocvec(&n).unwrap();
        assert_eq!(postcard::from_bytes::<Name>(&packed).unwrap(), n);
        let not_text = serde_json::from_str::<Name>("12").unwrap_err().to_string();
        assert!(not_text.contains("expected a string"), "{not_text}");
        let mut set = std::collections::HashSet::new();
        set.insert(n.clone());
        assert!(set.contains("md.tick.BTCUSDT"));
        assert_eq!(Name::default(), "");
    }

    #[test]
    fn an_interner_hands_out_one_name_per_text() {
        let mut i = Interner::default();
        let a = i.name("BTCUSDT");
        let b = i.name("BTCUSDT");
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        let other = i.name("ETHUSDT");
        assert_eq!(other, "ETHUSDT");
        assert!(std::ptr::eq(other.as_str(), i.name("ETHUSDT").as_str()));
        assert!(!std::ptr::eq(a.as_str(), Name::from("BTCUSDT").as_str()));
        // Back to the first after another: still the first's name (not
        // only the last one given is known), and a prefix is another text.
        assert!(std::ptr::eq(a.as_str(), i.name("BTCUSDT").as_str()));
        assert_eq!(i.name("BTC"), "BTC");
        assert!(std::ptr::eq(a.as_str(), i.name("BTCUSDT").as_str()));
    }

    #[test]
    fn same_text_is_the_same_whether_shared_or_not() {
        let a = Name::from("BTCUSDT");
        let b = a.clone();
        let c = Name::from("BTCUSDT");
        assert!(same(&a, &b));
        assert!(same(&a, &c));
        assert!(!same(&a, "ETHUSDT"));
        assert!(
            !same(&a, &a[..3]),
            "a prefix shares the address, not the text"
        );
    }

    #[test]
    fn a_clone_shares_the_text() {
        let n = Name::from(String::from("oms"));
        let m = n.clone();
        assert!(std::ptr::eq(n.as_str(), m.as_str()));
    }
}
