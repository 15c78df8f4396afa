//! Objects read straight from the repository's pack files, keeping the
//! objects that delta chains are rebuilt from.
//!
//! A pack stores most versions of a tree as a delta against another version
//! (https://git-scm.com/docs/gitformat-pack), in chains up to `pack.depth`
//! (50) deep. libgit2 1.9 keeps only the bottom of a chain in its cache
//! (`git_packfile_unpack` in src/libgit2/pack.c caches the base it started
//! from, not the objects it rebuilt on the way), so every version of a
//! directory of thousands of grants replays its whole chain: at 50,000
//! grants three quarters of an audit was libgit2's unpacker (perf: inflate
//! 41%, delta apply 23%, memmove 21%). git keeps each base it rebuilds
//! (`delta_base_cache` in packfile.c), and so does this reader.
//!
//! It reads only what it understands (version 2 indexes, objects of the
//! repository's own packs, deltas whose base is in the same pack, sizes
//! within `MAX_OBJECT_BYTES`) and says `None` to everything else, which
//! libgit2 then reads: loose objects, alternates, packs written after the
//! walk started, and bytes that do not parse. So what lapse reads is what
//! libgit2 would have read, whatever the files hold.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};

use flate2::{Decompress, FlushDecompress, Status};
use git2::{ObjectType, Odb, Oid};

use super::cache::{RecentCache, Weight};
use super::object::CommitObject;

/// SHA-1 ids, the only kind libgit2 1.9 reads.
const ID_BYTES: usize = 20;
/// `\377tOc` and version 2 (gitformat-pack, "Version 2 pack-*.idx files").
const INDEX_HEADER: [u8; 8] = [0xff, b't', b'O', b'c', 0, 0, 0, 2];
const FANOUT_BYTES: usize = 256 * 4;
/// The pack's checksum and the index's own, at the end of the index.
const INDEX_TRAILER_BYTES: usize = 2 * ID_BYTES;
/// An offset with this bit set indexes the table of 8-byte offsets.
const LARGE_OFFSET: u32 = 0x8000_0000;

/// Object types in a pack entry's header.
const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;

/// Larger objects are left to libgit2, so that a size in a damaged header
/// cannot make this reader allocate without bound. A tree of 50,000 grants
/// in one directory is about 2 MB.
const MAX_OBJECT_BYTES: usize = 256 << 20;
/// git writes chains up to `pack.depth`, at most 4095 (pack-objects.c).
const MAX_CHAIN: usize = 4095;
/// Larger indexes (about 38 million objects) are left to libgit2, which
/// maps rather than reads them.
const MAX_INDEX_BYTES: u64 = 1 << 30;
/// Lookups in an index before it is read whole (see `count_lookup`).
const READ_INDEX_AFTER: usize = 1024;
/// Rebuilt objects kept per reader, per generation of the cache (so at
/// most twice as much): at least `BASE_CACHE_BYTES`, and room for
/// `BASE_CACHE_OBJECTS` of the largest object rebuilt so far, up to
/// `BASE_CACHE_MAX_BYTES`. Reading one version of a tree rebuilds its
/// chain, so a cache that cannot hold a chain's worth of versions of the
/// largest directory drops each base before it is used again: with room
/// for 40 versions of a directory of 2,500 grants (4 MiB), an audit of
/// 50,000 grants took longer than with libgit2's reader; with 80 (8 MiB),
/// half as long.
const BASE_CACHE_BYTES: usize = 8 << 20;
const BASE_CACHE_OBJECTS: usize = 32;
const BASE_CACHE_MAX_BYTES: usize = 64 << 20;
/// How much of a pack is read at once while inflating an entry.
const CHUNK_BYTES: usize = 64 << 10;
/// The first read of an entry: its header (at most 30 bytes: a size of 10,
/// a base offset of 10 or a base id of 20) and the start of its data.
const FIRST_READ_BYTES: usize = 1 << 10;
/// What inflating reserves before the stream has delivered anything.
const PREALLOCATE_BYTES: usize = 1 << 20;

/// The version 2 indexes of a repository's packs, opened once and shared
/// by every walking thread's reader.
#[derive(Debug, Default)]
pub struct Packs {
    packs: Vec<PackIndex>,
}

#[derive(Debug)]
struct PackIndex {
    /// The pack file, read with positioned reads by every thread at once.
    file: File,
    /// The index file: looked up with positioned reads until it has been
    /// looked up in `READ_INDEX_AFTER` times, then read whole.
    index: File,
    size: usize,
    count: usize,
    fanout: Box<[u32; 256]>,
    bytes: OnceLock<Option<Box<[u8]>>>,
    lookups: AtomicUsize,
}

impl Packs {
    /// The packs in `objects/pack`. A pack whose index cannot be read or
    /// is not version 2 is skipped: libgit2 reads its objects.
    pub fn open(objects: &Path) -> Self {
        let Ok(listing) = std::fs::read_dir(objects.join("pack")) else {
            return Self::default();
        };
        let mut indexes: Vec<PathBuf> = listing
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "idx"))
            .collect();
        // Sorted so that a lookup visits the packs in the same order every
        // run.
        indexes.sort();
        let packs = indexes
            .into_iter()
            .filter_map(|index| {
                let file = File::open(index.with_extension("pack")).ok()?;
                PackIndex::open(file, File::open(&index).ok()?)
            })
            .collect();
        Self { packs }
    }

    /// Which pack holds `id`, and where.
    fn find(&self, id: &[u8]) -> Option<(usize, u64)> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(pack, index)| Some((pack, index.offset_of(id)?)))
    }
}

impl PackIndex {
    fn open(file: File, index: File) -> Option<Self> {
        let size = index.metadata().ok()?.len();
        if size > MAX_INDEX_BYTES {
            return None;
        }
        let size = usize::try_from(size).ok()?;
        let mut head = [0; INDEX_HEADER.len() + FANOUT_BYTES];
        if read_at(&index, 0, &mut head)? < head.len() || head[..INDEX_HEADER.len()] != INDEX_HEADER
        {
            return None;
        }
        let mut fanout = Box::new([0; 256]);
        for (n, count) in fanout.iter_mut().enumerate() {
            *count = be_u32(&head, INDEX_HEADER.len() + n * 4)?;
        }
        let count = usize::try_from(fanout[255]).ok()?;
        let least = (INDEX_HEADER.len() + FANOUT_BYTES)
            .checked_add(count.checked_mul(ID_BYTES + 4 + 4)?)?
            .checked_add(INDEX_TRAILER_BYTES)?;
        (size >= least).then(|| Self {
            file,
            index,
            size,
            count,
            fanout,
            bytes: OnceLock::new(),
            lookups: AtomicUsize::new(0),
        })
    }

    /// The `n`th number of the fan-out table: how many ids start with a
    /// byte of at most `n`.
    fn fanout(&self, n: usize) -> usize {
        usize::try_from(self.fanout[n]).map_or(0, |count| count.min(self.count))
    }

    /// Fills `buf` from the index at `at`.
    fn read(&self, at: usize, buf: &mut [u8]) -> Option<()> {
        match self.bytes.get() {
            Some(Some(bytes)) => buf.copy_from_slice(bytes.get(at..at.checked_add(buf.len())?)?),
            _ => (read_at(&self.index, at as u64, buf)? == buf.len()).then_some(())?,
        }
        Some(())
    }

    fn index_u32(&self, at: usize) -> Option<u32> {
        let mut word = [0; 4];
        self.read(at, &mut word)?;
        Some(u32::from_be_bytes(word))
    }

    /// A walk looks up every object it reads, and reading the index whole
    /// (28 MB at 200,000 commits) is then cheaper than searching it on
    /// disk; `check --base` looks up a few dozen, and reading it whole
    /// made it 20% slower there.
    fn count_lookup(&self) {
        if self.bytes.get().is_none()
            && self.lookups.fetch_add(1, AtomicOrdering::Relaxed) >= READ_INDEX_AFTER
        {
            self.bytes.get_or_init(|| {
                let mut bytes = vec![0; self.size];
                (read_at(&self.index, 0, &mut bytes)? == self.size).then(|| bytes.into())
            });
        }
    }

    fn offset_of(&self, id: &[u8]) -> Option<u64> {
        self.count_lookup();
        let first = usize::from(*id.first()?);
        let low = first.checked_sub(1).map_or(0, |before| self.fanout(before));
        let mut high = self.fanout(first).max(low);
        let mut low = low;
        let mut candidate = [0; ID_BYTES];
        while low < high {
            let middle = low + (high - low) / 2;
            self.read(
                INDEX_HEADER.len() + FANOUT_BYTES + middle * ID_BYTES,
                &mut candidate,
            )?;
            match candidate.as_slice().cmp(id) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Equal => return self.offset(middle),
                std::cmp::Ordering::Greater => high = middle,
            }
        }
        None
    }

    fn offset(&self, n: usize) -> Option<u64> {
        let offsets = INDEX_HEADER.len() + FANOUT_BYTES + self.count * (ID_BYTES + 4);
        let small = self.index_u32(offsets + n * 4)?;
        if small & LARGE_OFFSET == 0 {
            return Some(u64::from(small));
        }
        let large = offsets + self.count * 4 + (small & !LARGE_OFFSET) as usize * 8;
        let high = self.index_u32(large)?;
        let low = self.index_u32(large + 4)?;
        Some(u64::from(high) << 32 | u64::from(low))
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(word.try_into().ok()?))
}

/// An object as read from a pack.
#[derive(Debug, Clone)]
pub struct Unpacked {
    pub kind: ObjectType,
    /// A `Vec` rather than a slice: moved in, not copied.
    pub data: Arc<Vec<u8>>,
}

impl Weight for Unpacked {
    fn weight(&self) -> usize {
        self.data.len() + std::mem::size_of::<Self>()
    }
}

/// One thread's reader of a repository's objects: from its packs where
/// `PackReader` reads them, through libgit2 otherwise. Reading the packs
/// with positioned reads rather than libgit2's mapping also keeps them out
/// of the process's memory: libgit2 maps a pack once per handle, and a
/// walk has one handle per thread (at 200,000 commits, each mapping of the
/// 116 MB pack counted in full in the audit's peak RSS).
pub struct ObjectReader<'r> {
    odb: Odb<'r>,
    packs: PackReader<'r>,
}

impl<'r> ObjectReader<'r> {
    pub fn new(odb: Odb<'r>, packs: &'r Packs) -> Self {
        Self {
            odb,
            packs: PackReader::new(packs),
        }
    }

    /// Object `id`, whatever it is.
    pub fn read(&mut self, id: Oid) -> Result<Unpacked, git2::Error> {
        match self.packs.read(id) {
            Some(object) => Ok(object),
            None => self.read_through_libgit2(id),
        }
    }

    /// Object `id` if it holds at most `limit` bytes, `None` if it holds
    /// more: found from its header, or a delta's, without rebuilding it.
    pub fn read_at_most(&mut self, id: Oid, limit: usize) -> Result<Option<Unpacked>, git2::Error> {
        match self.packs.read_at_most(id, limit) {
            Some(Ok(object)) => Ok(Some(object)),
            Some(Err(TooLarge)) => Ok(None),
            None if self.odb.read_header(id)?.0 > limit => Ok(None),
            None => self.read_through_libgit2(id).map(Some),
        }
    }

    fn read_through_libgit2(&self, id: Oid) -> Result<Unpacked, git2::Error> {
        let object = self.odb.read(id)?;
        Ok(Unpacked {
            kind: object.kind(),
            data: Arc::new(object.data().to_vec()),
        })
    }

    /// Commit `id`, parsed.
    pub fn read_commit(&mut self, id: Oid) -> Result<CommitObject, git2::Error> {
        let object = self.read(id)?;
        CommitObject::of_object(id, object.kind, Arc::from(object.data.as_slice()))
    }
}

/// An object larger than the reader was asked for.
#[derive(Debug)]
struct TooLarge;

/// One thread's reader of the shared packs: the objects it rebuilt
/// recently, by where they are in which pack.
struct PackReader<'p> {
    packs: &'p Packs,
    rebuilt: RecentCache<(usize, u64), Unpacked>,
    chunk: Box<[u8]>,
    /// Reset for each entry: a new one allocates and clears zlib's state.
    inflater: Decompress,
}

/// What the header of the entry at some offset says.
enum Entry {
    Whole(ObjectType),
    DeltaAt(u64),
    DeltaOf([u8; ID_BYTES]),
}

impl<'p> PackReader<'p> {
    fn new(packs: &'p Packs) -> Self {
        Self {
            packs,
            rebuilt: RecentCache::new(BASE_CACHE_BYTES),
            chunk: vec![0; CHUNK_BYTES].into(),
            inflater: Decompress::new(true),
        }
    }

    /// The object `id`, or `None` when libgit2 should read it.
    fn read(&mut self, id: Oid) -> Option<Unpacked> {
        self.read_at_most(id, MAX_OBJECT_BYTES)?.ok()
    }

    /// Like `read`, for an object of at most `limit` bytes; a larger one is
    /// not rebuilt.
    fn read_at_most(&mut self, id: Oid, limit: usize) -> Option<Result<Unpacked, TooLarge>> {
        let (pack, offset) = self.packs.find(id.as_bytes())?;
        self.unpack(pack, offset, limit)
    }

    /// Keeps `object`, rebuilt from entry `at` of `pack`.
    fn keep(&mut self, pack: usize, at: u64, object: &Unpacked) {
        let room = (object.data.len() * BASE_CACHE_OBJECTS).min(BASE_CACHE_MAX_BYTES);
        self.rebuilt.raise_capacity(room);
        self.rebuilt.insert((pack, at), object.clone());
    }

    /// Follows the chain of deltas from the entry at `offset` down to an
    /// object already rebuilt or stored whole, then applies the deltas
    /// back up, keeping each base rebuilt on the way, as git does. The
    /// object asked for is not kept: the tree reader keeps the trees it
    /// parsed, and one kept here too cost more than it saved at 10,000
    /// grants, where few are asked for again as a base.
    fn unpack(
        &mut self,
        pack: usize,
        offset: u64,
        limit: usize,
    ) -> Option<Result<Unpacked, TooLarge>> {
        let mut deltas = Vec::new();
        // The deltas of a chain are held until its base is found; a chain
        // whose deltas inflate to more than an object may hold is left to
        // libgit2, so a crafted pack cannot make this reader hold more.
        let mut held = 0usize;
        let mut at = offset;
        let mut object = loop {
            if let Some(known) = self.rebuilt.get((pack, at)) {
                break known;
            }
            // Only the object asked for is held to `limit`; its bases may
            // be larger.
            let asked = at == offset;
            let entry_limit = if asked { limit } else { MAX_OBJECT_BYTES };
            let Ok((entry, data)) = self.read_entry(pack, at, entry_limit)? else {
                return Some(Err(TooLarge));
            };
            if asked && !matches!(entry, Entry::Whole(_)) && delta_result_size(&data)? > limit {
                return Some(Err(TooLarge));
            }
            let base = match entry {
                Entry::Whole(kind) => {
                    let whole = Unpacked {
                        kind,
                        data: Arc::new(data),
                    };
                    if at != offset {
                        self.keep(pack, at, &whole);
                    }
                    break whole;
                }
                Entry::DeltaAt(base) => base,
                Entry::DeltaOf(id) => self.packs.packs[pack].offset_of(&id)?,
            };
            held += data.len();
            if deltas.len() == MAX_CHAIN || held > MAX_OBJECT_BYTES {
                return None;
            }
            deltas.push((at, data));
            at = base;
        };
        while let Some((at, delta)) = deltas.pop() {
            object = Unpacked {
                kind: object.kind,
                data: Arc::new(apply_delta(&object.data, &delta)?),
            };
            if at != offset {
                self.keep(pack, at, &object);
            }
        }
        Some(if object.data.len() <= limit {
            Ok(object)
        } else {
            Err(TooLarge)
        })
    }

    /// The entry at `offset`: what its header says, and its data inflated.
    /// A whole object of more than `limit` bytes is not inflated.
    fn read_entry(
        &mut self,
        pack: usize,
        offset: u64,
        limit: usize,
    ) -> Option<Result<(Entry, Vec<u8>), TooLarge>> {
        let file = &self.packs.packs[pack].file;
        // Most entries are deltas of a few hundred bytes: one read takes
        // the header and all of the data.
        let mut first = [0; FIRST_READ_BYTES];
        let read = read_at(file, offset, &mut first)?;
        let (entry, size, header) = parse_entry_header(&first[..read], offset)?;
        if matches!(entry, Entry::Whole(_)) && size > limit {
            return Some(Err(TooLarge));
        }
        let data = self.inflate(file, &first[header..read], offset + read as u64, size)?;
        Some(Ok((entry, data)))
    }

    /// Inflates a zlib stream that must hold `size` bytes: `first` is its
    /// start, already read, and `file` goes on from `next`.
    fn inflate(
        &mut self,
        file: &File,
        first: &[u8],
        mut next: u64,
        size: usize,
    ) -> Option<Vec<u8>> {
        self.inflater.reset(true);
        // Grown as the stream delivers, so a wrong size cannot cost much.
        let mut out = Vec::with_capacity(size.min(PREALLOCATE_BYTES));
        let mut input = first;
        loop {
            let (used_before, out_before) = (self.inflater.total_in(), out.len());
            let status = self
                .inflater
                .decompress_vec(input, &mut out, FlushDecompress::None)
                .ok()?;
            if status == Status::StreamEnd {
                return (out.len() == size).then_some(out);
            }
            let used = usize::try_from(self.inflater.total_in() - used_before).ok()?;
            input = &input[used..];
            if out.len() == out.capacity() {
                if out.len() >= size {
                    // More data than the header says.
                    return None;
                }
                out.reserve_exact((size - out.len()).min(out.len().max(PREALLOCATE_BYTES)));
            } else if input.is_empty() {
                let read = read_at(file, next, &mut self.chunk)?;
                if read == 0 {
                    return None;
                }
                next += read as u64;
                input = &self.chunk[..read];
            } else if used == 0 && out.len() == out_before {
                return None;
            }
        }
    }
}

/// Parses an entry's header: the type and size of its data, with the base
/// of a delta (gitformat-pack, "Packed object data"). Returns the entry,
/// the size its data inflates to, and the header's length.
fn parse_entry_header(bytes: &[u8], offset: u64) -> Option<(Entry, usize, usize)> {
    let first = *bytes.first()?;
    let kind = (first >> 4) & 0b111;
    let mut size = usize::from(first & 0x0f);
    let mut at = 1;
    let mut shift = 4u32;
    let mut byte = first;
    while byte & 0x80 != 0 {
        byte = *bytes.get(at)?;
        at += 1;
        size |= usize::from(byte & 0x7f).checked_shl(shift)?;
        shift += 7;
    }
    let entry = match kind {
        OBJ_OFS_DELTA => {
            // Big-endian base 128, one added per continuation, so that each
            // length has a range of its own.
            let mut byte = *bytes.get(at)?;
            at += 1;
            let mut back = u64::from(byte & 0x7f);
            while byte & 0x80 != 0 {
                byte = *bytes.get(at)?;
                at += 1;
                back = back.checked_add(1)?.checked_mul(128)? | u64::from(byte & 0x7f);
            }
            // A base lies before its delta, which ends every chain.
            Entry::DeltaAt(offset.checked_sub(back).filter(|_| back > 0)?)
        }
        OBJ_REF_DELTA => {
            let id = bytes.get(at..at + ID_BYTES)?.try_into().ok()?;
            at += ID_BYTES;
            Entry::DeltaOf(id)
        }
        1 => Entry::Whole(ObjectType::Commit),
        2 => Entry::Whole(ObjectType::Tree),
        3 => Entry::Whole(ObjectType::Blob),
        4 => Entry::Whole(ObjectType::Tag),
        _ => return None,
    };
    (size <= MAX_OBJECT_BYTES).then_some((entry, size, at))
}

/// Reads up to `buf.len()` bytes of `file` from `offset`; fewer only at
/// its end.
fn read_at(file: &File, offset: u64, buf: &mut [u8]) -> Option<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(filled)
}

/// Rebuilds an object from its base and a git delta: the two sizes, then
/// instructions that copy a range of the base or insert literal bytes
/// (gitformat-pack, "Deltified representation").
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut at = 0;
    let base_size = delta_size(delta, &mut at)?;
    let size = delta_size(delta, &mut at)?;
    if base_size != base.len() || size > MAX_OBJECT_BYTES {
        return None;
    }
    // Grown as the instructions deliver, like `inflate`'s output.
    let mut out = Vec::with_capacity(size.min(PREALLOCATE_BYTES));
    while let Some(&op) = delta.get(at) {
        at += 1;
        let piece = if op & 0x80 != 0 {
            let offset = delta_operand(delta, &mut at, op, 4)?;
            let length = match delta_operand(delta, &mut at, op >> 4, 3)? {
                0 => 0x10000,
                length => length,
            };
            base.get(offset..offset.checked_add(length)?)?
        } else if op != 0 {
            let piece = delta.get(at..at + usize::from(op))?;
            at += usize::from(op);
            piece
        } else {
            return None;
        };
        if out.len() + piece.len() > size {
            return None;
        }
        out.extend_from_slice(piece);
    }
    (out.len() == size).then_some(out)
}

/// The size of the object `delta` rebuilds: the second of its sizes.
fn delta_result_size(delta: &[u8]) -> Option<usize> {
    let mut at = 0;
    delta_size(delta, &mut at)?;
    delta_size(delta, &mut at)
}

/// A size at the start of a delta: little-endian base 128.
fn delta_size(delta: &[u8], at: &mut usize) -> Option<usize> {
    let mut size = 0usize;
    let mut shift = 0u32;
    loop {
        let byte = *delta.get(*at)?;
        *at += 1;
        size |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(size);
        }
        shift += 7;
    }
}

/// The offset or length of a copy: the bytes that bits of `present` say
/// follow, lowest first.
fn delta_operand(delta: &[u8], at: &mut usize, present: u8, bytes: u32) -> Option<usize> {
    let mut value = 0usize;
    for byte in 0..bytes {
        if present & (1 << byte) != 0 {
            value |= usize::from(*delta.get(*at)?) << (8 * byte);
            *at += 1;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use git2::{Repository, Signature};

    use super::*;

    /// A repository of `versions` commits, each changing one of 300 files
    /// of a directory and growing one file, so that its trees and blobs
    /// are chains of deltas once `git repack` has packed them.
    fn repository_of_versions(dir: &Path, versions: usize) -> Repository {
        let repo = Repository::init(dir).unwrap();
        let signature = Signature::now("A", "a@example.com").unwrap();
        let mut files: Vec<String> = (0..300).map(|n| format!("file {n}\n")).collect();
        let mut log = String::new();
        let mut parent = None;
        for version in 0..versions {
            files[version * 7 % 300] = format!("file changed in version {version}\n");
            log.push_str(&format!("version {version}: a line long enough to copy\n"));
            let mut inner = repo.treebuilder(None).unwrap();
            for (n, text) in files.iter().enumerate() {
                let blob = repo.blob(text.as_bytes()).unwrap();
                inner
                    .insert(format!("g{n:03}.yaml"), blob, 0o100644)
                    .unwrap();
            }
            let mut root = repo.treebuilder(None).unwrap();
            root.insert("grants", inner.write().unwrap(), 0o040000)
                .unwrap();
            root.insert("log", repo.blob(log.as_bytes()).unwrap(), 0o100644)
                .unwrap();
            let tree = repo.find_tree(root.write().unwrap()).unwrap();
            let parents: Vec<_> = parent.iter().collect();
            let id = repo
                .commit(Some("HEAD"), &signature, &signature, "v", &tree, &parents)
                .unwrap();
            parent = Some(repo.find_commit(id).unwrap());
        }
        drop(parent);
        repo
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    fn objects(repo: &Repository) -> Vec<Oid> {
        let mut ids = Vec::new();
        repo.odb()
            .unwrap()
            .foreach(|id| {
                ids.push(*id);
                true
            })
            .unwrap();
        ids
    }

    /// The file of the repository's one pack that ends in `extension`.
    fn pack_file(dir: &Path, extension: &str) -> PathBuf {
        std::fs::read_dir(dir.join(".git/objects/pack"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.extension().is_some_and(|ext| ext == extension))
            .unwrap()
    }

    /// The longest delta chain in the repository's packs.
    fn longest_chain(dir: &Path) -> usize {
        let pack = pack_file(dir, "idx");
        let listing = git(dir, &["verify-pack", "-v", pack.to_str().unwrap()]);
        listing
            .lines()
            .filter_map(|line| line.strip_prefix("chain length = "))
            .filter_map(|line| line.split(':').next()?.parse().ok())
            .max()
            .unwrap_or(0)
    }

    /// Reads every object of the repository through `reader` and checks
    /// that, where it reads one, libgit2 reads the same type and bytes;
    /// returns how many it read.
    fn agrees_with_libgit2(repo: &Repository, reader: &mut PackReader) -> usize {
        let odb = repo.odb().unwrap();
        let mut read = 0;
        for id in objects(repo) {
            if let Some(ours) = reader.read(id) {
                let theirs = odb.read(id).unwrap_or_else(|error| {
                    panic!("lapse read {id}, which libgit2 refuses: {error}")
                });
                assert_eq!(ours.kind, theirs.kind(), "{id}");
                assert!(*ours.data == *theirs.data(), "{id} differs from libgit2's");
                read += 1;
            }
        }
        read
    }

    #[test]
    fn reads_every_packed_object_as_libgit2_does_along_deep_delta_chains() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repository_of_versions(dir.path(), 120);
        git(dir.path(), &["repack", "-adf", "--depth=50", "--window=50"]);
        assert!(
            longest_chain(dir.path()) >= 20,
            "the test needs deep chains"
        );
        let packs = Packs::open(&dir.path().join(".git/objects"));
        let mut reader = PackReader::new(&packs);
        assert_eq!(
            agrees_with_libgit2(&repo, &mut reader),
            objects(&repo).len()
        );
        // Again, with every base in the cache.
        assert_eq!(
            agrees_with_libgit2(&repo, &mut reader),
            objects(&repo).len()
        );
    }

    #[test]
    fn an_object_over_the_limit_is_told_apart_from_one_within_it() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repository_of_versions(dir.path(), 120);
        git(dir.path(), &["repack", "-adf", "--depth=50"]);
        let packs = Packs::open(&dir.path().join(".git/objects"));
        let mut reader = PackReader::new(&packs);
        let odb = repo.odb().unwrap();
        let limit = 2000;
        let (mut small, mut large) = (0, 0);
        for id in objects(&repo) {
            let theirs = odb.read(id).unwrap();
            match reader.read_at_most(id, limit).unwrap() {
                Ok(ours) => {
                    assert!(theirs.len() <= limit, "{id} is larger than the limit");
                    assert!(*ours.data == *theirs.data());
                    small += 1;
                }
                Err(TooLarge) => {
                    assert!(theirs.len() > limit, "{id} is within the limit");
                    large += 1;
                }
            }
        }
        // The growing `log` blob and the trees pass the limit, as deltas.
        assert!(small > 0 && large > 100, "{small} small, {large} large");
    }

    #[test]
    fn an_index_is_searched_the_same_on_disk_and_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repository_of_versions(dir.path(), 40);
        git(dir.path(), &["repack", "-adf"]);
        let packs = Packs::open(&dir.path().join(".git/objects"));
        let index = &packs.packs[0];
        let ids = objects(&repo);
        assert!(ids.len() < READ_INDEX_AFTER);
        let lookup = |id: &Oid| index.offset_of(id.as_bytes());
        let on_disk: Vec<_> = ids.iter().map(lookup).collect();
        assert!(index.bytes.get().is_none(), "read whole too soon");
        for _ in 0..READ_INDEX_AFTER {
            lookup(&ids[0]);
        }
        assert!(
            matches!(index.bytes.get(), Some(Some(_))),
            "never read whole"
        );
        let in_memory: Vec<_> = ids.iter().map(lookup).collect();
        assert!(on_disk.iter().all(Option::is_some));
        assert_eq!(on_disk, in_memory);
        let absent = Oid::hash_object(ObjectType::Blob, b"in no pack").unwrap();
        assert_eq!(lookup(&absent), None);
    }

    #[test]
    fn leaves_loose_objects_to_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let repo = repository_of_versions(dir.path(), 3);
        let packs = Packs::open(&dir.path().join(".git/objects"));
        let mut reader = PackReader::new(&packs);
        assert_eq!(agrees_with_libgit2(&repo, &mut reader), 0);
    }

    /// A damaged pack can make libgit2 fail, and this reader step aside,
    /// but never make this reader return what libgit2 would not.
    #[test]
    fn a_damaged_pack_never_reads_differently_from_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        drop(repository_of_versions(dir.path(), 40));
        git(dir.path(), &["repack", "-adf", "--depth=50"]);
        let pack = pack_file(dir.path(), "pack");
        let original = std::fs::read(&pack).unwrap();
        let mut permissions = std::fs::metadata(&pack).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&pack, permissions).unwrap();
        let mut seed = 0x9e37_79b9_u32;
        for _ in 0..60 {
            // xorshift32: a fixed sequence of places and bytes.
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut damaged = original.clone();
            let at = 12 + seed as usize % (original.len() - 32);
            damaged[at] ^= (seed >> 24) as u8 | 1;
            std::fs::write(&pack, &damaged).unwrap();
            let repo = Repository::open(dir.path()).unwrap();
            let packs = Packs::open(&dir.path().join(".git/objects"));
            // One damaged byte spoils an object or a chain, not the pack.
            assert!(agrees_with_libgit2(&repo, &mut PackReader::new(&packs)) > 0);
        }
    }
}
