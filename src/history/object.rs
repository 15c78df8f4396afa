//! Commit objects as the walk reads them: the bytes from the object
//! database, read once, and the fields lapse uses, parsed as libgit2 parses
//! them (libgit2 1.9, commit.c `commit_parse`, signature.c
//! `git_signature__parse`), so that an author, a message or a committer
//! time means the same whether lapse reads it here or through
//! `git2::Commit`. Reading a commit through libgit2's revwalk and again
//! through `find_commit` was a fifth of a whole-history walk.

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::{ObjectType, Odb, Oid};

/// One commit object and the offsets of its parts.
#[derive(Debug, Clone)]
pub struct CommitObject {
    pub id: Oid,
    pub tree: Oid,
    pub parents: Vec<Oid>,
    /// Committer time in seconds, as written (a claim).
    pub committer_time: i64,
    bytes: Arc<[u8]>,
    author_email: Range<usize>,
    /// The header, up to and with the newline before the blank line.
    header: Range<usize>,
    /// The message, after the blank line.
    message: Range<usize>,
}

impl CommitObject {
    /// Reads commit `id` from `odb`; any other kind of object is an error,
    /// as it is for libgit2's revwalk.
    pub fn read(odb: &Odb, id: Oid) -> Result<Self, git2::Error> {
        let object = odb.read(id)?;
        Self::of_object(id, object.kind(), Arc::from(object.data()))
    }

    /// Parses object `id`, read as `kind` with body `bytes`, which the
    /// history names as a commit.
    pub fn of_object(id: Oid, kind: ObjectType, bytes: Arc<[u8]>) -> Result<Self, git2::Error> {
        if kind != ObjectType::Commit {
            return Err(git2::Error::from_str(&format!(
                "object {id} is not a commit, yet the history names it as one"
            )));
        }
        Self::parse(id, bytes)
    }

    /// Parses `bytes`, the body of commit `id`: `tree`, the `parent` lines,
    /// `author` (more than one is allowed, the first counts), `committer`,
    /// then any other header lines up to a blank line, then the message.
    pub fn parse(id: Oid, bytes: Arc<[u8]>) -> Result<Self, git2::Error> {
        let bad = |what: &str| git2::Error::from_str(&format!("commit {id}: {what}"));
        let mut at = 0;
        let tree = oid_header(&bytes, &mut at, b"tree ")
            .ok_or_else(|| bad("failed to parse bad commit object (no tree)"))?;
        let mut parents = Vec::with_capacity(1);
        while let Some(parent) = oid_header(&bytes, &mut at, b"parent ") {
            parents.push(parent);
        }
        let author = signature(&bytes, &mut at, b"author ").map_err(bad)?;
        while bytes[at..].starts_with(b"author ") {
            signature(&bytes, &mut at, b"author ").map_err(bad)?;
        }
        let committer = signature(&bytes, &mut at, b"committer ").map_err(bad)?;
        let header_end = end_of_header(&bytes, at);
        let message = (header_end + 1).min(bytes.len())..bytes.len();
        Ok(Self {
            id,
            tree,
            parents,
            committer_time: committer.time,
            author_email: author.email,
            header: 0..header_end,
            message,
            bytes,
        })
    }

    /// The author's e-mail, trimmed as libgit2 trims it, up to a NUL byte
    /// (libgit2 hands it out as a C string).
    pub fn author_email(&self) -> &[u8] {
        up_to_nul(&self.bytes[self.author_email.clone()])
    }

    /// The header as libgit2 keeps it (`raw_header`, up to a NUL byte).
    pub fn raw_header(&self) -> &[u8] {
        up_to_nul(&self.bytes[self.header.clone()])
    }

    /// The message as `git2::Commit::message_bytes` gives it: without the
    /// newlines that start it, up to a NUL byte.
    pub fn message(&self) -> &[u8] {
        let message = up_to_nul(&self.bytes[self.message.clone()]);
        let start = message.iter().take_while(|&&byte| byte == b'\n').count();
        &message[start..]
    }

    /// The whole object, as its signature signs it.
    pub fn bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }

    /// The committer time.
    pub fn time(&self) -> DateTime<Utc> {
        time_of(self.committer_time)
    }
}

/// A commit time in seconds; one chrono cannot hold reads as the epoch.
pub fn time_of(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// `<header><40 hex digits>\n` at `*at`, moving past it.
fn oid_header(bytes: &[u8], at: &mut usize, header: &[u8]) -> Option<Oid> {
    const HEX: usize = 40;
    let line = bytes.get(*at..*at + header.len() + HEX + 1)?;
    let (name, rest) = line.split_at(header.len());
    if name != header || rest[HEX] != b'\n' {
        return None;
    }
    let id = Oid::from_str(std::str::from_utf8(&rest[..HEX]).ok()?).ok()?;
    *at += line.len();
    Some(id)
}

/// What lapse reads of a signature line.
struct Signature {
    email: Range<usize>,
    time: i64,
}

/// The signature line `<header>Name <email> time zone\n` at `*at`, moving
/// past it. As in libgit2, the e-mail lies between the line's last `<` and
/// its last `>`, and a line without a time after them has time 0.
fn signature(bytes: &[u8], at: &mut usize, header: &[u8]) -> Result<Signature, &'static str> {
    let rest = &bytes[*at..];
    let line_end =
        memchr::memchr(b'\n', rest).ok_or("failed to parse signature - no newline given")?;
    let line = &rest[..line_end];
    if line.len() <= header.len() || !line.starts_with(header) {
        return Err("failed to parse signature - expected prefix doesn't match actual");
    }
    let body = header.len()..line_end;
    let (Some(open), Some(close)) = (
        memchr::memrchr(b'<', &line[body.clone()]).map(|at| at + body.start),
        memchr::memrchr(b'>', &line[body.clone()]).map(|at| at + body.start),
    ) else {
        return Err("failed to parse signature - malformed e-mail");
    };
    if close <= open {
        return Err("failed to parse signature - malformed e-mail");
    }
    let email = trimmed(line, open + 1..close);
    let time = if close + 2 < line_end {
        parse_time(&line[close + 2..])
            .ok_or("failed to parse signature - invalid Unix timestamp")?
    } else {
        0
    };
    let start = *at;
    *at += line_end + 1;
    Ok(Signature {
        email: start + email.start..start + email.end,
        time,
    })
}

/// `range` of `line` without the characters libgit2 trims from names and
/// e-mails (signature.c `is_crud`).
fn trimmed(line: &[u8], mut range: Range<usize>) -> Range<usize> {
    let crud = |byte: u8| byte <= b' ' || b",:;<>\"\\'".contains(&byte);
    while range.start < range.end && crud(line[range.start]) {
        range.start += 1;
    }
    while range.start < range.end && crud(line[range.end - 1]) {
        range.end -= 1;
    }
    range
}

/// A decimal number as libgit2's `git__strntol64` reads it: whitespace,
/// an optional sign, then digits up to the first other character; no
/// digits or an overflow is an error.
fn parse_time(text: &[u8]) -> Option<i64> {
    let start = text
        .iter()
        .take_while(|&&byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .count();
    let text = &text[start..];
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = &digits[..digits
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count()];
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0i64, |value, digit| {
        let digit = i64::from(digit - b'0');
        let value = value.checked_mul(10)?;
        if negative {
            value.checked_sub(digit)
        } else {
            value.checked_add(digit)
        }
    })
}

/// Where the header that goes on from `at` (the start of a line) ends:
/// before the first empty line, or at the end of the object.
fn end_of_header(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at] != b'\n' {
        at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |end| at + end + 1);
    }
    at
}

fn up_to_nul(bytes: &[u8]) -> &[u8] {
    memchr::memchr(0, bytes).map_or(bytes, |nul| &bytes[..nul])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const PARENT: &str = "c8e63a6d2ffa0a85c0e1c7f5c1b1e4dd9d8f8a3b";

    /// Parses `text` here and through libgit2, and checks that both read
    /// the same tree, parents, author e-mail, committer time, header and
    /// message.
    fn agrees_with_libgit2(text: &str) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let id = odb.write(ObjectType::Commit, text.as_bytes()).unwrap();
        let ours = CommitObject::read(&odb, id).unwrap();
        let theirs = repo.find_commit(id).unwrap();
        assert_eq!(ours.tree, theirs.tree_id());
        assert_eq!(ours.parents, theirs.parent_ids().collect::<Vec<_>>());
        assert_eq!(ours.author_email(), theirs.author().email_bytes());
        assert_eq!(ours.committer_time, theirs.committer().when().seconds());
        assert_eq!(ours.raw_header(), theirs.raw_header_bytes());
        assert_eq!(ours.message(), theirs.message_bytes());
    }

    #[test]
    fn reads_an_ordinary_commit_as_libgit2_does() {
        agrees_with_libgit2(&format!(
            "tree {TREE}\nparent {PARENT}\nauthor Sam <sam@example.com> 1700000000 +0100\ncommitter Sam <sam@example.com> 1700000100 +0100\n\nAdd grant\n\nCo-authored-by: Li <li@example.com>\n"
        ));
    }

    #[test]
    fn reads_the_last_brackets_and_trims_as_libgit2_does() {
        agrees_with_libgit2(&format!(
            "tree {TREE}\nauthor Mallory <m@x> < \"maria@example.com\"; > 1700000000 +0000\nauthor Second <second@example.com> 1 +0000\ncommitter C <c@example.com>   -42 +0000\n\n\n\nLeading newlines\n"
        ));
    }

    #[test]
    fn reads_extra_headers_a_missing_time_and_a_nul_as_libgit2_does() {
        agrees_with_libgit2(&format!(
            "tree {TREE}\nparent {PARENT}\nparent {TREE}\nauthor A <a@example.com>\ncommitter C <c@example.com> 17x +0000\nencoding UTF-8\ngpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----\n\nTitle\0hidden\n"
        ));
    }

    #[test]
    fn reads_a_commit_without_a_message_as_libgit2_does() {
        agrees_with_libgit2(&format!(
            "tree {TREE}\nauthor A <a@example.com> 5 +0000\ncommitter C <c@example.com> 6 +0000\n"
        ));
    }

    #[test]
    fn refuses_what_libgit2_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        for text in [
            format!("tree {TREE}\ncommitter C <c@example.com> 6 +0000\n\nno author\n"),
            format!("tree {TREE}\nauthor A a@example.com 5\ncommitter C <c@example.com> 6\n\n"),
            format!(
                "tree {TREE}\nauthor A <a@example.com> 5 +0000\ncommitter C <c@example.com> 99999999999999999999 +0000\n\n"
            ),
            format!(
                "parent {PARENT}\nauthor A <a@example.com> 5\ncommitter C <c@example.com> 6\n\n"
            ),
        ] {
            let id = odb.write(ObjectType::Commit, text.as_bytes()).unwrap();
            assert!(repo.find_commit(id).is_err(), "libgit2 reads {text}");
            assert!(CommitObject::read(&odb, id).is_err(), "lapse reads {text}");
        }
    }
}
