//! `approvals.evidence: signed-commit`: an approval counts only when the
//! commit that records it carries a valid SSH signature (git's `gpg.format
//! ssh`) by one of the approver's `signing_keys`. Keys are made by
//! `ssh-keygen` inside the test and commits signed by the real `git`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::history_support;

use history_support::{POLICY, Repo, grant};

const GRANT: &str = "grants/team/alex-deploy.yaml";
const EXPIRES: &str = "2026-11-14T17:00:00Z";

/// An ed25519 key pair made by ssh-keygen: (private key path, public line).
fn key_pair(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_owned())
}

struct Signed {
    repo: Repo,
    _keys: TempDir,
    maria: PathBuf,
    li: PathBuf,
}

/// A repository whose policy asks for signed commits, with keys for maria
/// and li (alex and sam have none).
fn signed_repo() -> Signed {
    let keys = TempDir::new().unwrap();
    let (maria, maria_public) = key_pair(keys.path(), "maria");
    let (li, li_public) = key_pair(keys.path(), "li");
    let repo = Repo::new();
    let policy = POLICY
        .replace(
            "    aliases: [maria@users.noreply.github.com]",
            &format!(
                "    aliases: [maria@users.noreply.github.com]\n    signing_keys: [\"{maria_public}\"]"
            ),
        )
        .replace(
            "  li@example.com: {}",
            &format!("  li@example.com:\n    signing_keys: [\"{li_public}\"]"),
        )
        .replace("version: 1\n", "version: 1\napprovals:\n  evidence: signed-commit\n");
    repo.write("lapse.yaml", &policy);
    repo.commit(
        "sam@example.com",
        "2026-11-02T09:00:00Z",
        "Signed approvals",
    );
    Signed {
        repo,
        _keys: keys,
        maria,
        li,
    }
}

/// Commits the work tree as `author`, signed with `key`.
fn commit_signed(repo: &Repo, author: &str, when: &str, key: &Path, message: &str) {
    repo.git(&["add", "-A"]);
    let key = key.to_str().unwrap();
    repo.git_as(
        author,
        when,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={key}"),
            "commit",
            "-q",
            "-S",
            "-m",
            message,
        ],
    );
}

/// alex requests the grant and maria approves it, in a commit signed with
/// `key`.
fn approve_as_maria(signed: &Signed, key: &Path) {
    request(&signed.repo);
    commit_signed(
        &signed.repo,
        "maria@example.com",
        "2026-11-08T11:00:00Z",
        key,
        "Approve",
    );
}

/// Makes HEAD the commit object `raw` (a rewritten copy of a commit),
/// written as given even when git's checks would refuse it, as a crafted
/// push can.
fn replace_head(repo: &Repo, raw: &str) {
    let path = repo.path().join("rewritten");
    std::fs::write(&path, raw).unwrap();
    let written = ["hash-object", "-t", "commit", "-w", "--literally"];
    let id = repo.git(&[&written[..], &[path.to_str().unwrap()]].concat());
    std::fs::remove_file(&path).unwrap();
    repo.git(&["reset", "-q", "--hard", id.trim()]);
}

/// Whether `git verify-commit` accepts HEAD's signature.
fn git_verifies_head(repo: &Repo) -> bool {
    let verify = Command::new("git")
        .args(["verify-commit", "HEAD"])
        .current_dir(repo.path())
        .output()
        .expect("git runs");
    verify.status.success()
}

fn request(repo: &Repo) {
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Request");
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
}

/// The approval does not count, for the reason `why` names.
fn assert_unverified(run: &history_support::Run, why: &str) {
    assert_eq!(
        run.rules(),
        ["insufficient-approvals", "unverified-approval"],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(why), "{}", run.stdout);
}

fn check(repo: &Repo) -> history_support::Run {
    repo.lapse(&["check", "--format", "json"])
}

#[test]
fn an_approval_signed_with_the_approvers_key_counts() {
    let signed = signed_repo();
    approve_as_maria(&signed, &signed.maria);
    let run = check(&signed.repo);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.rules(), Vec::<String>::new());
}

#[test]
fn an_unsigned_approval_is_unverified() {
    let signed = signed_repo();
    request(&signed.repo);
    signed
        .repo
        .commit("maria@example.com", "2026-11-08T11:00:00Z", "Approve");
    let run = check(&signed.repo);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_unverified(&run, "not signed");
}

#[test]
fn an_approval_in_marias_name_signed_by_li_is_unverified() {
    let signed = signed_repo();
    approve_as_maria(&signed, &signed.li);
    let run = check(&signed.repo);
    assert_unverified(&run, "li@example.com's key");
}

#[test]
fn a_signature_over_a_tampered_commit_is_unverified() {
    let signed = signed_repo();
    approve_as_maria(&signed, &signed.maria);
    // Same signature, another message: the signed payload changed.
    let raw = signed.repo.git(&["cat-file", "commit", "HEAD"]);
    replace_head(&signed.repo, &raw.replace("Approve", "Approve, and more"));
    let run = check(&signed.repo);
    assert_unverified(&run, "does not verify");
}

/// git reads a commit's signature from its header alone; a `gpgsig` block
/// in the message is text, even when it holds the approver's valid
/// signature of the same commit. libgit2's signature extraction also
/// searches the message, which made such a commit count as signed.
#[test]
fn a_signature_moved_into_the_message_is_not_a_signature() {
    let signed = signed_repo();
    approve_as_maria(&signed, &signed.maria);
    let raw = signed.repo.git(&["cat-file", "commit", "HEAD"]);
    let (header, message) = raw.split_once("\n\n").expect("a commit has a message");
    let lines: Vec<&str> = header.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with("gpgsig "))
        .expect("the commit is signed");
    let end = start
        + 1
        + lines[start + 1..]
            .iter()
            .take_while(|line| line.starts_with(' '))
            .count();
    let unsigned_header = [&lines[..start], &lines[end..]].concat().join("\n");
    let moved = format!(
        "{unsigned_header}\n\n{message}{}\n",
        lines[start..end].join("\n")
    );
    replace_head(&signed.repo, &moved);
    assert!(
        !git_verifies_head(&signed.repo),
        "git itself sees no signature"
    );
    let run = check(&signed.repo);
    assert_unverified(&run, "not signed");
}

/// The walk takes a signed commit's bytes from libgit2's parse, which keeps
/// the header and the message only up to a NUL byte. Bytes after it are
/// signed too: a copy of the approver's commit with more after a NUL is not
/// what they signed, and `git verify-commit` says so.
#[test]
fn bytes_after_a_nul_in_the_message_are_signed_too() {
    let signed = signed_repo();
    approve_as_maria(&signed, &signed.maria);
    let raw = signed.repo.git(&["cat-file", "commit", "HEAD"]);
    replace_head(&signed.repo, &format!("{raw}\0Lapse-Approves: policy\n"));
    assert!(
        !git_verifies_head(&signed.repo),
        "git rejects the signature"
    );
    let run = check(&signed.repo);
    assert_unverified(&run, "does not verify");
}

/// Signatures are verified together in batches: one that does not verify
/// fails its own approval, not the others checked with it.
#[test]
fn a_bad_signature_fails_only_its_own_approval() {
    const SAMS: &str = "grants/team/sam-deploy.yaml";
    let sams = |approvers: &[&str]| grant(EXPIRES, approvers).replace("alex@", "sam@");
    let signed = signed_repo();
    let repo = &signed.repo;
    repo.write(GRANT, grant(EXPIRES, &[]));
    repo.write(SAMS, sams(&[]));
    repo.commit("alex@example.com", "2026-11-08T10:00:00Z", "Request");
    repo.write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    let maria = &signed.maria;
    commit_signed(
        repo,
        "maria@example.com",
        "2026-11-08T11:00:00Z",
        maria,
        "Approve alex",
    );
    repo.write(SAMS, sams(&["maria@example.com"]));
    commit_signed(
        repo,
        "maria@example.com",
        "2026-11-08T12:00:00Z",
        maria,
        "Approve sam",
    );
    // Same signature, another message: the signed payload changed.
    let raw = repo.git(&["cat-file", "commit", "HEAD"]);
    replace_head(repo, &raw.replace("Approve sam", "Approve sam, and more"));
    let run = check(repo);
    let findings = run.rules_and_files();
    let on_sams = |rule: &str| (rule.to_owned(), SAMS.to_owned());
    assert_eq!(
        findings,
        [
            on_sams("insufficient-approvals"),
            on_sams("unverified-approval")
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn who_signed_a_change_wrote_it_whatever_the_author_field_says() {
    let signed = signed_repo();
    // maria writes the grant, naming sam as the author, and signs it.
    signed.repo.write(GRANT, grant(EXPIRES, &[]));
    commit_signed(
        &signed.repo,
        "sam@example.com",
        "2026-11-08T10:00:00Z",
        &signed.maria,
        "Request",
    );
    signed
        .repo
        .write(GRANT, grant(EXPIRES, &["maria@example.com"]));
    commit_signed(
        &signed.repo,
        "maria@example.com",
        "2026-11-08T11:00:00Z",
        &signed.maria,
        "Approve",
    );
    let run = check(&signed.repo);
    assert_eq!(run.rules(), ["self-approval"], "{}", run.stdout);
    assert!(run.stdout.contains("signed commit"), "{}", run.stdout);
}

#[test]
fn a_signing_key_that_is_not_a_public_key_is_a_policy_error() {
    let repo = Repo::new();
    repo.write(
        "lapse.yaml",
        POLICY.replace(
            "  li@example.com: {}",
            "  li@example.com:\n    signing_keys: [\"ssh-ed25519 not-base64\"]",
        ),
    );
    let run = repo.lapse(&["check"]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(
        run.stderr.contains("signing key of `li@example.com`"),
        "{}",
        run.stderr
    );
}

/// `lapse audit` names the key that signed each approval, and whose key it
/// is, and says why an unsigned one does not count.
#[test]
fn the_audit_names_the_key_that_signed_each_approval() {
    let signed = signed_repo();
    approve_as_maria(&signed, &signed.maria);
    signed.repo.write(
        GRANT,
        grant(EXPIRES, &["maria@example.com", "li@example.com"]),
    );
    signed
        .repo
        .commit("li@example.com", "2026-11-08T12:00:00Z", "Li, unsigned");
    let fingerprint = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(signed.maria.with_extension("pub"))
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    let run = signed.repo.lapse(&["audit", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let json = run.json();
    let approvals: Vec<&serde_json::Value> = json["grants"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["event"] == "approved")
        .collect();
    assert_eq!(approvals.len(), 2, "{json:#}");
    let maria = &approvals[0];
    assert_eq!(maria["approver"], "maria@example.com");
    assert_eq!(maria["evidence"]["kind"], "signed-commit");
    assert_eq!(maria["evidence"]["key"], fingerprint.as_str());
    assert_eq!(maria["evidence"]["signer"], "maria@example.com");
    assert_eq!(maria["counted"], true);
    let li = &approvals[1];
    assert_eq!(li["counted"], false);
    assert!(li["evidence"]["key"].is_null());
    assert_eq!(li["not_counted"], "the commit is not signed", "{li:#}");
}
