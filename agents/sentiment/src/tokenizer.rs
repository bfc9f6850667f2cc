//! BERT's uncased WordPiece over the model's vocabulary, exactly as the
//! training side does it (`train/tokenizer.py`); a test checks that both
//! give the same ids for every headline of the data set.
//!
//! Steps: drop URLs (`https?://` and what follows up to whitespace);
//! lower-case; decompose (NFD) and drop nonspacing marks (accents); split
//! on whitespace, then split every character that is neither a letter nor
//! a number off as its own word (control characters are dropped); each
//! word becomes the longest vocabulary pieces from the left (`##` marks a
//! piece inside a word), or `[UNK]` when it cannot. `[CLS]` first, `[SEP]`
//! last, at most `max_len` ids.

use rustc_hash::FxHashMap;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// Longer words are `[UNK]` (as BERT does).
const MAX_WORD_CHARS: usize = 100;

/// A WordPiece vocabulary: piece → id (the line it is on).
pub struct Tokenizer<'a> {
    ids: FxHashMap<&'a str, u32>,
    cls: u32,
    sep: u32,
    unk: u32,
}

impl<'a> Tokenizer<'a> {
    /// The vocabulary from its text, one piece a line.
    ///
    /// # Errors
    /// When `[CLS]`, `[SEP]` or `[UNK]` is missing.
    pub fn new(vocab: &'a str) -> Result<Self, String> {
        let ids: FxHashMap<&str, u32> = vocab.split('\n').zip(0..).collect();
        let special = |p: &str| {
            ids.get(p)
                .copied()
                .ok_or_else(|| format!("the vocabulary has no `{p}` piece"))
        };
        Ok(Self {
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            unk: special("[UNK]")?,
            ids,
        })
    }

    /// Pieces in the vocabulary.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the vocabulary is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ids of `text`, `[CLS]` … `[SEP]`, at most `max_len` (≥ 2) of them.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids = vec![self.cls];
        for word in words(text) {
            if ids.len() >= max_len - 1 {
                break;
            }
            self.wordpiece(&word, &mut ids);
        }
        ids.truncate(max_len - 1);
        ids.push(self.sep);
        ids
    }

    fn wordpiece(&self, word: &str, out: &mut Vec<u32>) {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let at = out.len();
        let mut piece = String::new();
        let mut start = 0;
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                let from = chars[start].0;
                let to = chars.get(end).map_or(word.len(), |c| c.0);
                piece.clear();
                if start > 0 {
                    piece.push_str("##");
                }
                piece.push_str(&word[from..to]);
                if let Some(&id) = self.ids.get(piece.as_str()) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            let Some(id) = found else {
                out.truncate(at);
                out.push(self.unk);
                return;
            };
            out.push(id);
            start = end;
        }
    }
}

/// Whitespace as Python's `str.split()` sees it: Unicode's, plus the
/// four information separators U+001C..U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `text` with every URL replaced by a space.
fn strip_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let after = &rest[at + 4..];
        let scheme = if after.starts_with("s://") {
            Some(4)
        } else if after.starts_with("://") {
            Some(3)
        } else {
            None
        };
        let url_body = scheme.map(|n| &after[n..]);
        match url_body {
            Some(body) if body.chars().next().is_some_and(|c| !is_space(c)) => {
                out.push_str(&rest[..at]);
                out.push(' ');
                let end = body.find(is_space).unwrap_or(body.len());
                rest = &body[end..];
            }
            _ => {
                out.push_str(&rest[..at + 4]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The words of `text`, before WordPiece.
pub fn words(text: &str) -> Vec<String> {
    let text: String = strip_urls(text)
        .to_lowercase()
        .nfd()
        .filter(|c| c.general_category() != GeneralCategory::NonspacingMark)
        .collect();
    let mut out = Vec::new();
    for chunk in text.split(is_space).filter(|c| !c.is_empty()) {
        let mut word = String::new();
        for c in chunk.chars() {
            match c.general_category_group() {
                GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number => word.push(c),
                group => {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                    if group != GeneralCategoryGroup::Other {
                        out.push(c.to_string());
                    }
                }
            }
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Tokenizer<'static> {
        Tokenizer::new("[PAD]\n[UNK]\n[CLS]\n[SEP]\nstock\n##s\nup\n$\n.\nbtc\n##c\nu\n##p\ncafe")
            .unwrap()
    }

    #[test]
    fn words_split_punctuation_drop_urls_and_accents() {
        assert_eq!(
            words("Stocks UP! https://t.co/x $BTC café\u{7}"),
            ["stocks", "up", "!", "$", "btc", "cafe"]
        );
        assert_eq!(
            words("http:// x https://"),
            ["http", ":", "/", "/", "x", "https", ":", "/", "/"]
        );
        assert_eq!(words("a\u{1c}b"), ["a", "b"]);
    }

    #[test]
    fn wordpieces_are_longest_first_and_unknown_words_are_one_unk() {
        let t = tok();
        assert_eq!(t.encode("Stocks up $BTC.", 64), [2, 4, 5, 6, 7, 9, 8, 3]);
        // "btcc" → btc ##c; "upz" has no piece for z: the whole word is [UNK].
        assert_eq!(t.encode("btcc upz", 64), [2, 9, 10, 1, 3]);
        assert_eq!(t.encode(&"u".repeat(101), 64), [2, 1, 3]);
    }

    #[test]
    fn long_texts_are_cut_to_max_len_with_sep_last() {
        let t = tok();
        assert_eq!(t.encode("up up up up up", 4), [2, 6, 6, 3]);
        assert_eq!(t.encode("", 4), [2, 3]);
    }

    #[test]
    fn a_vocabulary_without_the_special_pieces_is_refused() {
        let e = Tokenizer::new("a\nb").err().unwrap();
        assert!(e.contains("[CLS]"), "{e}");
    }
}
