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
#[derive(Debug, Clone, Copy)]
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
            let space = find(bytes, at, b' ')?;
            let nul = find(bytes, space + 1, 0)?;
            if nul + 1 + ID_BYTES > bytes.len() {
                return Err(corrupt());
            }
            entries.push(RawEntry {
                mode: parse_mode(&bytes[at..space]).ok_or_else(corrupt)?,
                name_start: u32::try_from(space + 1).map_err(|_| corrupt())?,
                name_end: u32::try_from(nul).map_err(|_| corrupt())?,
            });
            at = nul + 1 + ID_BYTES;
        }
        Ok(Self {
            bytes: bytes.into(),
            entries,
        })
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
