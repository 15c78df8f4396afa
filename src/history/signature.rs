//! Commit signatures as evidence of who approved. git signs a commit with
//! SSH (`gpg.format ssh`) by putting an sshsig signature over the commit
//! object without its `gpgsig` header, in namespace `git`, into that
//! header (git's gpg-interface.c; the format is OpenSSH's PROTOCOL.sshsig).
//! lapse verifies it with the `ssh-key` crate (RustCrypto: pure Rust, no C
//! build, sshsig and OpenSSH public keys in one place), offline and years
//! later, from the repository alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use git2::{Odb, Oid};
use ssh_key::public::KeyData;
use ssh_key::{PublicKey, SshSig};

use super::HistoryError;
use super::commit::CommitStamp;
use super::repository::GrantRepository;

/// The namespace git signs commits in (`ssh-keygen -Y sign -n git`).
const GIT_NAMESPACE: &str = "git";

/// What a commit's signature proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// An SSH signature over exactly this commit, by this key.
    Valid(KeyData),
    Unsigned,
    /// A signature that does not verify (a tampered commit, another
    /// namespace, a malformed signature), with why.
    Invalid(String),
    /// An OpenPGP or X.509 signature, which lapse does not verify.
    Unsupported(&'static str),
    /// An SSH signature by a key nobody in the policy signs with, left
    /// unverified: it can neither approve nor make anyone an author.
    Unknown(KeyData),
}

impl SignatureCheck {
    /// Why this signature is not the evidence an approval needs, in words.
    pub fn describe(&self) -> String {
        match self {
            Self::Valid(_) => "signed".to_owned(),
            Self::Unsigned => "the commit is not signed".to_owned(),
            Self::Invalid(reason) => format!("its signature does not verify ({reason})"),
            Self::Unsupported(kind) => format!(
                "it carries a {kind} signature, and lapse verifies only SSH signatures (git's gpg.format ssh)"
            ),
            Self::Unknown(_) => "it is signed by a key nobody in lapse.yaml signs with".to_owned(),
        }
    }
}

/// A commit's signature as read, before the costly part.
enum Read {
    /// Settled without verifying anything.
    Settled(SignatureCheck),
    /// An SSH signature to verify over `signed`.
    Pending { signature: SshSig, signed: Vec<u8> },
}

/// Reads the signature of `commit` from the object database; one by a key
/// for which `worth` says no is settled as `Unknown` without being
/// verified.
fn read_commit(
    odb: &Odb,
    commit: Oid,
    worth: &dyn Fn(&KeyData) -> bool,
) -> Result<Read, git2::Error> {
    let object = odb.read(commit)?;
    if object.kind() != git2::ObjectType::Commit {
        return Ok(Read::Settled(SignatureCheck::Invalid(format!(
            "{commit} is not a commit"
        ))));
    }
    Ok(read_raw(object.data(), worth))
}

fn read_raw(raw: &[u8], worth: &dyn Fn(&KeyData) -> bool) -> Read {
    let Some((signature, signed)) = split_signed(raw) else {
        return Read::Settled(SignatureCheck::Unsigned);
    };
    let Ok(armored) = std::str::from_utf8(&signature) else {
        return Read::Settled(SignatureCheck::Invalid(
            "the signature is not text".to_owned(),
        ));
    };
    read_armored(armored, signed, worth)
}

/// Splits a raw commit into its signature and the bytes it signs, as git
/// does (commit.c, `parse_buffer_signed_by_header`): the `gpgsig` headers,
/// with their continuation lines (which start with a space), appended are
/// the signature; they and the `gpgsig-sha256` header git may write beside
/// them (the signature for the repository's other hash) are left out of the
/// signed bytes, and everything else, message included, is signed. Only
/// the header is read: a line of the message that starts with `gpgsig` is
/// text. `None` when the commit is not signed.
fn split_signed(raw: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let header_end = memchr::memmem::find(raw, b"\n\n").map_or(raw.len(), |blank| blank + 1);
    let (header, message) = raw.split_at(header_end);
    let mut signature: Option<Vec<u8>> = None;
    let mut signed = Vec::with_capacity(raw.len());
    let mut lines = header.split_inclusive(|byte| *byte == b'\n').peekable();
    while let Some(line) = lines.next() {
        let (value, ours) = match (
            line.strip_prefix(b"gpgsig "),
            line.strip_prefix(b"gpgsig-sha256 "),
        ) {
            (Some(value), _) => (value, true),
            (None, Some(value)) => (value, false),
            (None, None) => {
                signed.extend_from_slice(line);
                continue;
            }
        };
        let mut value = value.to_vec();
        while let Some(continued) = lines.next_if(|line| line.starts_with(b" ")) {
            value.extend_from_slice(&continued[1..]);
        }
        // git appends every `gpgsig` header into one signature, which
        // then fails to parse: two are not one signature and a spare.
        if ours {
            signature.get_or_insert_with(Vec::new).extend(value);
        }
    }
    signed.extend_from_slice(message);
    Some((signature?, signed))
}

/// Parses an armored signature over `signed`, pending when `worth` its key.
fn read_armored(armored: &str, signed: Vec<u8>, worth: &dyn Fn(&KeyData) -> bool) -> Read {
    let armored = armored.trim();
    if armored.starts_with("-----BEGIN PGP SIGNATURE-----") {
        return Read::Settled(SignatureCheck::Unsupported("GPG (OpenPGP)"));
    }
    if armored.starts_with("-----BEGIN SIGNED MESSAGE-----") {
        return Read::Settled(SignatureCheck::Unsupported("X.509 (gpgsm)"));
    }
    let signature = match SshSig::from_pem(armored) {
        Ok(signature) => signature,
        Err(error) => return Read::Settled(SignatureCheck::Invalid(error.to_string())),
    };
    if !worth(signature.public_key()) {
        return Read::Settled(SignatureCheck::Unknown(signature.public_key().clone()));
    }
    Read::Pending { signature, signed }
}

/// Verifies one signature the way `ssh-keygen -Y verify` does, through
/// `ssh-key` (every key type it supports).
fn verify_one(signature: &SshSig, signed: &[u8]) -> SignatureCheck {
    let key = PublicKey::from(signature.public_key().clone());
    match key.verify(GIT_NAMESPACE, signed, signature) {
        Ok(()) => SignatureCheck::Valid(signature.public_key().clone()),
        Err(error) => SignatureCheck::Invalid(error.to_string()),
    }
}

/// An ed25519 signature in git's namespace, as ed25519 verifies it: the
/// sshsig blob (PROTOCOL.sshsig: magic, namespace, reserved, hash
/// algorithm, hash of the commit) is the message.
struct Ed25519Item {
    message: Vec<u8>,
    signature: ed25519_dalek::Signature,
    key: ed25519_dalek::VerifyingKey,
}

/// The verifying keys met so far: decompressing a key's point is a fifth of
/// an ed25519 verification, and an audit meets each key hundreds of times.
type KeyCache = HashMap<[u8; 32], Option<ed25519_dalek::VerifyingKey>>;

/// A signed commit whose signature a judgement needs.
#[derive(Debug, Default)]
struct Signed {
    /// Whether it records an approval.
    approves: bool,
    /// Its bytes, when the walk kept them.
    object: Option<Arc<[u8]>>,
}

/// `signature` as an ed25519 item; `None` for any other kind, namespace or
/// malformed part, which `verify_one` judges and names.
fn ed25519_item(signature: &SshSig, signed: &[u8], keys: &mut KeyCache) -> Option<Ed25519Item> {
    let KeyData::Ed25519(public) = signature.public_key() else {
        return None;
    };
    if signature.algorithm() != ssh_key::Algorithm::Ed25519
        || signature.namespace() != GIT_NAMESPACE
        || !signature.reserved().is_empty()
    {
        return None;
    }
    let key = (*keys
        .entry(public.0)
        .or_insert_with(|| ed25519_dalek::VerifyingKey::from_bytes(&public.0).ok()))?;
    let signature_bytes = ed25519_dalek::Signature::from_slice(signature.signature_bytes()).ok()?;
    let message = SshSig::signed_data(GIT_NAMESPACE, signature.hash_alg(), signed).ok()?;
    Some(Ed25519Item {
        message,
        signature: signature_bytes,
        key,
    })
}

/// How many ed25519 signatures are verified together: past a thousand, a
/// bigger batch saves little (13.7 against 12.9 microseconds a signature
/// at 5,000, measured with ed25519-dalek 2.2 on the 2-core machine) and
/// holds more commits in memory.
const BATCH: usize = 1024;

/// Verifies the signatures read, ed25519 ones together in batches, a third
/// of the cost of one by one (ed25519-dalek's `verify_batch`, a random
/// linear combination of the verification equations, its weights derived
/// from the signatures themselves), the rest one by one. A batch that fails
/// is verified one by one to find which signatures fail, so a bad
/// signature costs only the time its batch saved.
///
/// The batch checks the sum of the equations, which only the holder of a
/// key can make hold for a signature that fails alone (by adding a point
/// of small order, so the sum holds one time in eight): it still proves
/// that the key's holder signed.
#[derive(Default)]
struct Verifier {
    keys: KeyCache,
    batch: Vec<(Oid, SshSig, Vec<u8>, Ed25519Item)>,
    checked: Vec<(Oid, SignatureCheck)>,
}

impl Verifier {
    /// Takes the signature of commit `id` as read.
    fn add(&mut self, id: Oid, read: Read) {
        let (signature, signed) = match read {
            Read::Settled(check) => return self.checked.push((id, check)),
            Read::Pending { signature, signed } => (signature, signed),
        };
        match ed25519_item(&signature, &signed, &mut self.keys) {
            Some(item) => self.batch.push((id, signature, signed, item)),
            None => self.checked.push((id, verify_one(&signature, &signed))),
        }
        if self.batch.len() >= BATCH {
            self.verify_batch();
        }
    }

    /// Every signature taken, checked.
    fn finish(mut self) -> Vec<(Oid, SignatureCheck)> {
        self.verify_batch();
        self.checked
    }

    fn verify_batch(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        let messages: Vec<&[u8]> = batch
            .iter()
            .map(|(.., item)| item.message.as_slice())
            .collect();
        let signatures: Vec<_> = batch.iter().map(|(.., item)| item.signature).collect();
        let verifying: Vec<_> = batch.iter().map(|(.., item)| item.key).collect();
        let all_valid = ed25519_dalek::verify_batch(&messages, &signatures, &verifying).is_ok();
        for (id, signature, signed, _) in batch {
            let check = if all_valid {
                SignatureCheck::Valid(signature.public_key().clone())
            } else {
                verify_one(&signature, &signed)
            };
            self.checked.push((id, check));
        }
    }
}

/// The commits whose signatures a judgement needs, each once, with whether
/// it records an approval.
#[derive(Debug, Default)]
pub struct Wanted {
    signed: HashMap<Oid, Signed>,
    /// Commits whose header has no signature: nothing to read.
    unsigned: HashSet<Oid>,
}

impl Wanted {
    pub fn add(&mut self, stamp: &CommitStamp, approves: bool) {
        if stamp.signed {
            let signed = self.signed.entry(stamp.id).or_default();
            signed.approves |= approves;
            if signed.object.is_none() {
                signed.object.clone_from(&stamp.object);
            }
        } else {
            self.unsigned.insert(stamp.id);
        }
    }
}

/// The signatures of the `wanted` commits, checked on every core (an audit
/// may check one per grant), each thread through its own repository handle.
/// The signature of a commit that records no approval is verified only
/// when `known` knows its key: a signer nobody in the policy signs as
/// cannot be anyone's authorship, and commits that record approvals are
/// always verified.
pub fn check_signatures(
    repository: &GrantRepository,
    wanted: Wanted,
    known: &(dyn Fn(&KeyData) -> bool + Sync),
) -> Result<HashMap<Oid, SignatureCheck>, HistoryError> {
    let unsigned = wanted.unsigned.into_iter();
    let mut checked: HashMap<Oid, SignatureCheck> =
        unsigned.map(|id| (id, SignatureCheck::Unsigned)).collect();
    let commits: Vec<_> = wanted.signed.into_iter().collect();
    let threads = crate::parallel::cores();
    let chunk = commits.len().div_ceil(threads).max(256);
    let check_chunk = |repository: &GrantRepository, chunk: &[(Oid, Signed)]| {
        let mut verifier = Verifier::default();
        let odb = repository.git().odb()?;
        for (id, signed) in chunk {
            let worth = |key: &KeyData| signed.approves || known(key);
            let read = match &signed.object {
                Some(object) => read_raw(object, &worth),
                None => read_commit(&odb, *id, &worth)?,
            };
            verifier.add(*id, read);
        }
        Ok::<_, HistoryError>(verifier.finish())
    };
    let chunks: Vec<&[(Oid, Signed)]> = commits.chunks(chunk).collect();
    let results: Vec<Result<Vec<_>, HistoryError>> = if chunks.len() <= 1 {
        chunks
            .iter()
            .map(|chunk| check_chunk(repository, chunk))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = chunks
                .iter()
                .enumerate()
                .map(|(thread, chunk)| {
                    let own = repository.reopen(thread);
                    scope.spawn(move || check_chunk(&own?, chunk))
                })
                .collect();
            crate::parallel::join_all(workers)
        })
    };
    checked.reserve(commits.len());
    for result in results {
        checked.extend(result?);
    }
    Ok(checked)
}

/// A public key as written in `signing_keys` (`ssh-ed25519 AAAA... comment`).
pub fn parse_signing_key(text: &str) -> Result<KeyData, String> {
    PublicKey::from_openssh(text.trim())
        .map(|key| key.key_data().clone())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssh_key::HashAlg;
    use ssh_key::private::{Ed25519Keypair, PrivateKey};

    fn settled(armored: &str) -> Option<SignatureCheck> {
        match read_armored(armored, b"data".to_vec(), &|_: &KeyData| true) {
            Read::Settled(check) => Some(check),
            Read::Pending { .. } => None,
        }
    }

    #[test]
    fn other_signature_kinds_are_named_not_taken_for_ssh() {
        let pgp = "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----";
        assert_eq!(
            settled(pgp),
            Some(SignatureCheck::Unsupported("GPG (OpenPGP)"))
        );
        assert!(matches!(
            settled("garbage"),
            Some(SignatureCheck::Invalid(_))
        ));
    }

    const HEADER: &str = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor M <m@x> 1 +0000\ncommitter M <m@x> 1 +0000\n";

    #[test]
    fn the_signature_is_the_gpgsig_header_and_the_rest_is_signed() {
        let raw = format!("{HEADER}gpgsig -----BEGIN-----\n abc\n -----END-----\n\nApprove\n");
        let (signature, signed) = split_signed(raw.as_bytes()).expect("signed");
        assert_eq!(signature, b"-----BEGIN-----\nabc\n-----END-----\n");
        assert_eq!(signed, format!("{HEADER}\nApprove\n").as_bytes());
    }

    #[test]
    fn a_gpgsig_block_in_the_message_is_text() {
        let raw = format!("{HEADER}\nApprove\ngpgsig -----BEGIN-----\n abc\n -----END-----\n");
        assert_eq!(split_signed(raw.as_bytes()), None);
    }

    #[test]
    fn every_gpgsig_header_is_one_signature_and_none_is_signed() {
        let raw = format!(
            "{HEADER}gpgsig one\n two\ngpgsig-sha256 other\n more\ngpgsig three\n\nApprove\n"
        );
        let (signature, signed) = split_signed(raw.as_bytes()).expect("signed");
        assert_eq!(signature, b"one\ntwo\nthree\n");
        assert_eq!(signed, format!("{HEADER}\nApprove\n").as_bytes());
    }

    fn signed_by(seed: u8, namespace: &str, message: &[u8]) -> SshSig {
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]));
        SshSig::sign(&key, namespace, HashAlg::Sha512, message).expect("signs")
    }

    /// The batch must not let one bad signature pass with the good ones,
    /// nor fail the good ones with it.
    #[test]
    fn a_batch_with_one_bad_signature_fails_only_that_one() {
        let mut pending = Vec::new();
        for n in 0..40u8 {
            let message = format!("commit {n}").into_bytes();
            let mut signature = signed_by(n % 4, GIT_NAMESPACE, &message);
            if n == 17 {
                // A valid signature over another commit: a tampered commit.
                signature = signed_by(n % 4, GIT_NAMESPACE, b"another commit");
            }
            if n == 23 {
                signature = signed_by(n % 4, "file", &message);
            }
            pending.push((Oid::from_bytes(&[n; 20]).expect("oid"), signature, message));
        }
        let mut verifier = Verifier::default();
        for (id, signature, signed) in pending {
            verifier.add(id, Read::Pending { signature, signed });
        }
        let checked: HashMap<Oid, SignatureCheck> = verifier.finish().into_iter().collect();
        assert_eq!(checked.len(), 40);
        for n in 0..40u8 {
            let check = &checked[&Oid::from_bytes(&[n; 20]).expect("oid")];
            let valid = matches!(check, SignatureCheck::Valid(_));
            assert_eq!(valid, n != 17 && n != 23, "commit {n}: {check:?}");
        }
    }
}
