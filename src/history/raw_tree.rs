//! Git tree objects read straight from their bytes. libgit2's tree parser
//! allocates and converts every entry; a history walk reads tens of
//! thousands of large trees and needs only names, modes and ids, so lapse
//! reads the format itself: entries of `<octal mode> <name>\0<20-byte id>`
//! (https://git-scm.com/book/en/v2/Git-Internals-Git-Objects).

use std::cmp::Ordering;

use git2::{ErrorClass, ErrorCode, Oid};

use crate::load::tree::EntryKind;

/// SHA-1 object ids, the format of every repository git creates by default.
const ID_BYTES: usize = 20;
const MODE_TREE: u32 = 0o040000;
const MODE_BLOB: u32 = 0o100644;
const MODE_BLOB_EXECUTABLE: u32 = 0o100755;
/// The file-type bits of a mode, as in git's `S_IFMT` (cache.h).
const TYPE_MASK: u32 = 0o170000;
const TYPE_FILE: u32 = 0o100000;
const TYPE_LINK: u32 = 0o120000;
const TYPE_GITLINK: u32 = 0o160000;

/// One entry, as offsets into its tree's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEntry {
    mode: u32,
    name_start: u32,
    name_end: u32,
}

#[derive(Debug)]
pub struct RawTree {
    bytes: Box<[u8]>,
    entries: Vec<RawEntry>,
}

impl RawTree {
    pub fn parse(bytes: &[u8]) -> Result<Self, git2::Error> {
        let mut entries = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let entry = parse_entry(bytes, at)?;
            at = entry.end();
            entries.push(entry);
        }
        Ok(Self {
            bytes: bytes.into(),
            entries,
        })
    }

    /// Parses `bytes`, a version of `like` (the same directory in the
    /// parent commit): the entries in the bytes both share at the start,
    /// and those in the bytes they share at the end, are taken from `like`
    /// rather than parsed again. A commit changes a few entries of a
    /// directory of thousands, and parsing every entry of every version
    /// was a quarter of an audit of 50,000 grants (perf, packed
    /// repository). The result is what `parse` returns, whatever the bytes.
    pub fn parse_like(bytes: &[u8], like: &RawTree) -> Result<Self, git2::Error> {
        if u32::try_from(bytes.len()).is_err() {
            return Self::parse(bytes);
        }
        // Entries that end within the shared start parse the same in both.
        let shared_start = common_prefix(&like.bytes, bytes);
        let kept = like
            .entries
            .partition_point(|entry| entry.end() <= shared_start);
        let mut entries = Vec::with_capacity(like.entries.len() + 1);
        entries.extend_from_slice(&like.entries[..kept]);
        let mut at = entries.last().map_or(0, RawEntry::end);
        // Where an entry of `like` starts inside the shared end, parsing
        // `bytes` from the same distance to the end reads the same entries.
        let shared_end = common_suffix(&like.bytes[at..], &bytes[at..]);
        let shared_from = like.bytes.len() - shared_end;
        let mut candidate = kept
            + partition_point_by(like.entries.len() - kept, |index| {
                like.start(kept + index) < shared_from
            });
        // Only for offsets inside the shared end, which both have.
        let shifted = |old: usize| old - shared_from + (bytes.len() - shared_end);
        while at < bytes.len() {
            while candidate < like.entries.len() && shifted(like.start(candidate)) < at {
                candidate += 1;
            }
            let aligned = candidate < like.entries.len() && shifted(like.start(candidate)) == at;
            if aligned {
                let shift = |offset: u32| {
                    // Below bytes.len(), which fits in a u32 (checked above).
                    u32::try_from(shifted(offset as usize)).unwrap_or(u32::MAX)
                };
                entries.extend(like.entries[candidate..].iter().map(|entry| RawEntry {
                    mode: entry.mode,
                    name_start: shift(entry.name_start),
                    name_end: shift(entry.name_end),
                }));
                break;
            }
            let entry = parse_entry(bytes, at)?;
            at = entry.end();
            entries.push(entry);
        }
        Ok(Self {
            bytes: bytes.into(),
            entries,
        })
    }

    /// Where entry `index` starts: where the one before it ends.
    fn start(&self, index: usize) -> usize {
        index
            .checked_sub(1)
            .map_or(0, |before| self.entries[before].end())
    }

    /// How many entries at the start, and how many at the end, `self` and
    /// `other` have the same (same bytes, mode, name and id), without
    /// overlapping.
    pub fn shared_entries(&self, other: &RawTree) -> (usize, usize) {
        let shared_start = common_prefix(&self.bytes, &other.bytes);
        let before = self
            .entries
            .partition_point(|entry| entry.end() <= shared_start)
            .min(
                other
                    .entries
                    .partition_point(|entry| entry.end() <= shared_start),
            );
        let from = self.start(before);
        let shared_end = common_suffix(&self.bytes[from..], &other.bytes[from..]);
        let (mine, theirs) = (self.entries.len() - before, other.entries.len() - before);
        // Counted from the end, an entry is shared when it starts at the
        // same distance from the end in both, inside the shared end; the
        // entries after a shared one are shared too, so this is a prefix
        // of the counts and a binary search finds its length.
        let aligned = |count: usize| {
            let (a, b) = (self.entries.len() - count, other.entries.len() - count);
            let (a_start, b_start) = (self.start(a), other.start(b));
            self.bytes.len() - a_start == other.bytes.len() - b_start
                && self.bytes.len() - a_start <= shared_end
        };
        let after = partition_point_by(mine.min(theirs), |count| aligned(count + 1));
        (before, after)
    }

    /// The memory the tree holds, for caches bounded by size.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len() + self.entries.capacity() * std::mem::size_of::<RawEntry>()
    }

    pub fn entries(&self) -> &[RawEntry] {
        &self.entries
    }

    pub fn name(&self, entry: &RawEntry) -> &[u8] {
        &self.bytes[entry.name_start as usize..entry.name_end as usize]
    }

    pub fn id_bytes(&self, entry: &RawEntry) -> &[u8] {
        let start = entry.name_end as usize + 1;
        &self.bytes[start..start + ID_BYTES]
    }

    pub fn id(&self, entry: &RawEntry) -> Oid {
        // The slice is exactly ID_BYTES long, which from_bytes accepts.
        Oid::from_bytes(self.id_bytes(entry)).unwrap_or(Oid::ZERO_SHA1)
    }

    pub fn get(&self, name: &str) -> Option<&RawEntry> {
        self.entries
            .iter()
            .find(|entry| self.name(entry) == name.as_bytes())
    }
}

impl RawEntry {
    /// Where the next entry starts.
    fn end(&self) -> usize {
        self.name_end as usize + 1 + ID_BYTES
    }

    pub fn is_tree(&self) -> bool {
        self.mode == MODE_TREE
    }

    /// What the entry is, by the type bits of its mode as git reads them:
    /// git accepts the legacy mode 100664 (and other 100xxx modes old
    /// versions wrote) as a regular file and checks it out, so lapse must
    /// read it as one too, or a grant would be on disk but not in history.
    pub fn kind(&self) -> EntryKind {
        match self.mode & TYPE_MASK {
            _ if self.is_tree() => EntryKind::Directory,
            TYPE_FILE => EntryKind::File,
            TYPE_LINK => EntryKind::Link {
                to_directory: false,
            },
            TYPE_GITLINK => EntryKind::Submodule,
            _ => EntryKind::Special,
        }
    }
}

/// Git's order of tree entries: by name, a directory's name compared as if
/// it ended in `/` (`base_name_compare` in git's tree.c). Both trees of a
/// comparison are sorted this way, so one merge pass pairs equal names.
pub fn git_order(a_tree: &RawTree, a: &RawEntry, b_tree: &RawTree, b: &RawEntry) -> Ordering {
    let terminator = |entry: &RawEntry| if entry.is_tree() { b'/' } else { 0 };
    let (a_name, b_name) = (a_tree.name(a), b_tree.name(b));
    let common = a_name.len().min(b_name.len());
    a_name[..common].cmp(&b_name[..common]).then_with(|| {
        let a_next = a_name.get(common).copied().unwrap_or_else(|| terminator(a));
        let b_next = b_name.get(common).copied().unwrap_or_else(|| terminator(b));
        a_next.cmp(&b_next)
    })
}

/// An entry's octal mode. Git writes only a handful of modes, so those are
/// matched whole before the digit-by-digit reading: parsing trees was a
/// sixth of the instructions of a history walk (callgrind, `lapse who`).
fn parse_mode(digits: &[u8]) -> Option<u32> {
    match digits {
        b"100644" => Some(MODE_BLOB),
        b"40000" => Some(MODE_TREE),
        b"100755" => Some(MODE_BLOB_EXECUTABLE),
        _ => digits.iter().try_fold(0u32, |mode, digit| {
            matches!(digit, b'0'..=b'7')
                .then(|| mode.checked_mul(8)?.checked_add(u32::from(digit - b'0')))
                .flatten()
        }),
    }
}

/// The entry that starts at `at` of `bytes`.
fn parse_entry(bytes: &[u8], at: usize) -> Result<RawEntry, git2::Error> {
    let space = find(bytes, at, b' ')?;
    let nul = find(bytes, space + 1, 0)?;
    if nul + 1 + ID_BYTES > bytes.len() {
        return Err(corrupt());
    }
    Ok(RawEntry {
        mode: parse_mode(&bytes[at..space]).ok_or_else(corrupt)?,
        name_start: u32::try_from(space + 1).map_err(|_| corrupt())?,
        name_end: u32::try_from(nul).map_err(|_| corrupt())?,
    })
}

/// The first `n` in `0..=len` for which `holds` is false, `holds` being
/// true up to some point and false after it.
fn partition_point_by(len: usize, holds: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low) / 2;
        if holds(middle) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

/// Chunks compared at once by slice equality (memcmp, vectorised) before
/// the byte that differs is looked for.
const CHUNK: usize = 64;

/// How many bytes `a` and `b` share at the start.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let mut at = 0;
    while at + CHUNK <= len && a[at..at + CHUNK] == b[at..at + CHUNK] {
        at += CHUNK;
    }
    at + a[at..len]
        .iter()
        .zip(&b[at..len])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many bytes `a` and `b` share at the end.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let (a, b) = (&a[a.len() - len..], &b[b.len() - len..]);
    let mut shared = 0;
    while shared + CHUNK <= len
        && a[len - shared - CHUNK..len - shared] == b[len - shared - CHUNK..len - shared]
    {
        shared += CHUNK;
    }
    shared
        + a[..len - shared]
            .iter()
            .rev()
            .zip(b[..len - shared].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

/// memchr's vectorised search: names are scanned for their terminating NUL
/// in every entry of every tree read.
fn find(bytes: &[u8], from: usize, byte: u8) -> Result<usize, git2::Error> {
    memchr::memchr(byte, &bytes[from..])
        .map(|offset| from + offset)
        .ok_or_else(corrupt)
}

fn corrupt() -> git2::Error {
    git2::Error::new(
        ErrorCode::Invalid,
        ErrorClass::Tree,
        "a tree object in the history is corrupt",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_bytes(entries: &[(&str, &str, u8)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (mode, name, id) in entries {
            bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            bytes.extend_from_slice(&[*id; ID_BYTES]);
        }
        bytes
    }

    #[test]
    fn reads_modes_names_and_ids() {
        let bytes = tree_bytes(&[("100644", "a.yaml", 1), ("40000", "team", 2)]);
        let tree = RawTree::parse(&bytes).unwrap();
        let [file, dir] = tree.entries() else {
            panic!("two entries expected")
        };
        assert!(file.kind() == EntryKind::File && !file.is_tree());
        assert!(dir.is_tree());
        assert_eq!(tree.name(dir), b"team");
        assert_eq!(tree.id_bytes(file), [1; ID_BYTES]);
        assert!(tree.get("team").is_some_and(|e| e.is_tree()));
    }

    #[test]
    fn truncated_or_garbled_trees_are_errors() {
        let bytes = tree_bytes(&[("100644", "a.yaml", 1)]);
        assert!(RawTree::parse(&bytes[..bytes.len() - 1]).is_err());
        assert!(RawTree::parse(b"10x644 a\0aaaaaaaaaaaaaaaaaaaa").is_err());
        assert!(RawTree::parse(b"100644 no-nul").is_err());
    }

    #[test]
    fn the_legacy_group_writable_mode_is_a_regular_file() {
        let bytes = tree_bytes(&[("100664", "a.yaml", 1), ("160000", "sub", 2)]);
        let tree = RawTree::parse(&bytes).unwrap();
        assert_eq!(tree.entries()[0].kind(), EntryKind::File);
        assert_eq!(tree.entries()[1].kind(), EntryKind::Submodule);
    }

    #[test]
    fn modes_outside_the_common_ones_are_read_digit_by_digit() {
        assert_eq!(parse_mode(b"100755"), Some(MODE_BLOB_EXECUTABLE));
        assert_eq!(parse_mode(b"120000"), Some(0o120000));
        assert_eq!(parse_mode(b"100648"), None);
    }

    /// Versions of a directory of `count` files: one changed, added or
    /// removed at each place, the names grown or shrunk, and garbage.
    fn versions(count: u8) -> Vec<Vec<u8>> {
        let names: Vec<String> = (0..count).map(|n| format!("g{n:03}.yaml")).collect();
        let tree = |skip: Option<usize>, id_of: &dyn Fn(usize) -> u8, extra: Option<&str>| {
            let mut entries: Vec<(&str, &str, u8)> = Vec::new();
            for (index, name) in names.iter().enumerate() {
                if Some(index) != skip {
                    entries.push(("100644", name, id_of(index)));
                }
                if let Some(extra) = extra.filter(|_| index == 1) {
                    entries.push(("100644", extra, 9));
                }
            }
            tree_bytes(&entries)
        };
        let mut all = vec![tree(None, &|_| 1, None), Vec::new()];
        for place in 0..usize::from(count) {
            all.push(tree(Some(place), &|_| 1, None));
            all.push(tree(None, &|index| 1 + u8::from(index == place), None));
        }
        all.push(tree(None, &|_| 1, Some("g001.yaml-long-name")));
        all.push(tree(None, &|_| 32, None)); // ids of spaces
        all.push(tree(None, &|_| 0, None)); // ids of NULs
        let mut garbled = tree(None, &|_| 1, None);
        garbled.truncate(garbled.len() - 3);
        all.push(garbled);
        all
    }

    #[test]
    fn parsing_as_a_version_of_another_tree_reads_what_parsing_reads() {
        let all = versions(5);
        for old in all.iter().filter_map(|bytes| RawTree::parse(bytes).ok()) {
            for new in &all {
                let whole = RawTree::parse(new).map(|tree| tree.entries);
                let like = RawTree::parse_like(new, &old).map(|tree| tree.entries);
                assert_eq!(whole.ok(), like.ok(), "{new:?} like {:?}", old.bytes);
            }
        }
    }

    #[test]
    fn shared_entries_are_the_same_entries_at_both_ends() {
        let all = versions(5);
        let trees: Vec<RawTree> = all.iter().filter_map(|b| RawTree::parse(b).ok()).collect();
        for a in &trees {
            for b in &trees {
                let (start, end) = a.shared_entries(b);
                let (x, y) = (a.entries(), b.entries());
                assert!(start + end <= x.len().min(y.len()));
                let same = |p: &RawEntry, q: &RawEntry| {
                    a.name(p) == b.name(q) && a.id_bytes(p) == b.id_bytes(q) && p.mode == q.mode
                };
                assert!((0..start).all(|n| same(&x[n], &y[n])));
                assert!((1..=end).all(|n| same(&x[x.len() - n], &y[y.len() - n])));
                // And no more than that: the next ones differ.
                let next_differs = |p: Option<&RawEntry>, q: Option<&RawEntry>| match (p, q) {
                    (Some(p), Some(q)) => !same(p, q),
                    _ => true,
                };
                assert!(
                    next_differs(x.get(start), y.get(start)) || start + end == x.len().min(y.len())
                );
            }
        }
    }

    #[test]
    fn directories_sort_as_if_their_name_ended_in_a_slash() {
        // "a.yaml" < "a/" < "a0" in git's order.
        let bytes = tree_bytes(&[
            ("100644", "a.yaml", 1),
            ("40000", "a", 2),
            ("100644", "a0", 3),
        ]);
        let tree = RawTree::parse(&bytes).unwrap();
        let e = tree.entries();
        assert_eq!(git_order(&tree, &e[0], &tree, &e[1]), Ordering::Less);
        assert_eq!(git_order(&tree, &e[1], &tree, &e[2]), Ordering::Less);
    }
}
