//! Commit signatures as evidence of who approved. git signs a commit with
//! SSH (`gpg.format ssh`) by putting an sshsig signature over the commit
//! object without its `gpgsig` header, in namespace `git`, into that
//! header (git's gpg-interface.c; the format is OpenSSH's PROTOCOL.sshsig).
//! lapse verifies it with the `ssh-key` crate (RustCrypto: pure Rust, no C
//! build, sshsig and OpenSSH public keys in one place), offline and years
//! later, from the repository alone.

use std::collections::HashMap;

use git2::{ErrorCode, Oid, Repository};
use ssh_key::public::KeyData;
use ssh_key::{PublicKey, SshSig};

use super::HistoryError;
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
        }
    }
}

/// Checks the signature of `commit`.
pub fn check_commit(repo: &Repository, commit: Oid) -> Result<SignatureCheck, git2::Error> {
    let (signature, signed) = match repo.extract_signature(&commit, None) {
        Ok(parts) => parts,
        Err(error) if error.code() == ErrorCode::NotFound => return Ok(SignatureCheck::Unsigned),
        Err(error) => return Err(error),
    };
    let Ok(armored) = std::str::from_utf8(&signature) else {
        return Ok(SignatureCheck::Invalid(
            "the signature is not text".to_owned(),
        ));
    };
    Ok(verify_armored(armored, &signed))
}

/// Verifies an armored signature over `signed`.
fn verify_armored(armored: &str, signed: &[u8]) -> SignatureCheck {
    let armored = armored.trim();
    if armored.starts_with("-----BEGIN PGP SIGNATURE-----") {
        return SignatureCheck::Unsupported("GPG (OpenPGP)");
    }
    if armored.starts_with("-----BEGIN SIGNED MESSAGE-----") {
        return SignatureCheck::Unsupported("X.509 (gpgsm)");
    }
    let signature = match SshSig::from_pem(armored) {
        Ok(signature) => signature,
        Err(error) => return SignatureCheck::Invalid(error.to_string()),
    };
    let key = PublicKey::from(signature.public_key().clone());
    match key.verify(GIT_NAMESPACE, signed, &signature) {
        Ok(()) => SignatureCheck::Valid(signature.public_key().clone()),
        Err(error) => SignatureCheck::Invalid(error.to_string()),
    }
}

/// The signatures of `commits`, checked on every core (an ed25519
/// verification is tens of microseconds, and an audit may check one per
/// grant), each thread through its own repository handle.
pub fn check_signatures(
    repository: &GrantRepository,
    commits: &[Oid],
) -> Result<HashMap<Oid, SignatureCheck>, HistoryError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = commits.len().div_ceil(threads).max(256);
    let check_chunk = |repository: &GrantRepository, chunk: &[Oid]| {
        chunk
            .iter()
            .map(|id| Ok((*id, check_commit(repository.git(), *id)?)))
            .collect::<Result<Vec<_>, HistoryError>>()
    };
    let chunks: Vec<&[Oid]> = commits.chunks(chunk).collect();
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
            workers
                .into_iter()
                .map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    let mut checked = HashMap::with_capacity(commits.len());
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

    #[test]
    fn other_signature_kinds_are_named_not_taken_for_ssh() {
        let pgp = "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----";
        assert_eq!(
            verify_armored(pgp, b"data"),
            SignatureCheck::Unsupported("GPG (OpenPGP)")
        );
        assert!(matches!(
            verify_armored("garbage", b"data"),
            SignatureCheck::Invalid(_)
        ));
    }
}
