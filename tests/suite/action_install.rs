//! The GitHub Action's install script (`action/install.sh`) against a fake
//! release on 127.0.0.1 that answers as GitHub's release downloads do: a
//! redirect to storage for an asset that exists, 404 for one that does not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

use tempfile::TempDir;
use tiny_http::{Header, Response, Server};

const VERSION: &str = "0.1.0";
const TARGET: &str = "x86_64-unknown-linux-musl";

/// A release: file name to bytes, served under `/v<VERSION>/`.
struct FakeRelease {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeRelease {
    fn start(files: BTreeMap<String, Vec<u8>>) -> Self {
        let server = Server::http("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        thread::spawn(move || {
            for request in server.incoming_requests() {
                let path = request.url().to_owned();
                seen.lock().unwrap().push(path.clone());
                let release_prefix = format!("/download/v{VERSION}/");
                let response = if let Some(name) = path.strip_prefix(&release_prefix) {
                    match files.contains_key(name) {
                        // GitHub answers a release download with a 302 to
                        // its object storage.
                        true => Response::from_string("").with_status_code(302).with_header(
                            Header::from_bytes("Location", format!("/storage/{name}")).unwrap(),
                        ),
                        false => Response::from_string("Not Found").with_status_code(404),
                    }
                } else if let Some(bytes) =
                    path.strip_prefix("/storage/").and_then(|n| files.get(n))
                {
                    Response::from_data(bytes.clone()).with_header(
                        Header::from_bytes("Content-Type", "application/octet-stream").unwrap(),
                    )
                } else {
                    Response::from_string("Not Found").with_status_code(404)
                };
                let _ = request.respond(response);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/download"),
            requests,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A runner: its tool cache, GITHUB_PATH file and platform.
struct Runner {
    dir: TempDir,
    os: &'static str,
    arch: &'static str,
}

struct Installed {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Runner {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            os: "Linux",
            arch: "X64",
        }
    }

    fn tool_cache(&self) -> PathBuf {
        self.dir.path().join("toolcache")
    }

    fn install_dir(&self) -> PathBuf {
        self.tool_cache().join("lapse").join(VERSION).join(TARGET)
    }

    fn install(&self, base_url: &str) -> Installed {
        let output = Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/action/install.sh"))
            .env("LAPSE_VERSION", VERSION)
            .env("RUNNER_TOOL_CACHE", self.tool_cache())
            .env("RUNNER_OS", self.os)
            .env("RUNNER_ARCH", self.arch)
            .env("GITHUB_PATH", self.dir.path().join("github_path"))
            .env("LAPSE_INSTALL_TEST_BASE_URL", base_url)
            .output()
            .expect("run bash");
        Installed {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

fn asset_name() -> String {
    format!("lapse-{VERSION}-{TARGET}.tar.gz")
}

fn sums_name() -> String {
    format!("lapse-{VERSION}-SHA256SUMS")
}

/// A release archive whose `lapse` is a script that names itself.
fn release_archive() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("lapse");
    std::fs::write(&binary, "#!/bin/sh\necho \"fake lapse $*\"\n").unwrap();
    let archive = dir.path().join("release.tar.gz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .arg("lapse")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(archive).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, bytes).unwrap();
    let output = Command::new("sha256sum").arg(&file).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The release as release.yml publishes it, with `checksum` (default:
/// the right one) as the archive's line in the checksum file.
fn release_with_checksum(checksum: Option<&str>) -> BTreeMap<String, Vec<u8>> {
    let archive = release_archive();
    let checksum = checksum.map_or_else(|| sha256_hex(&archive), str::to_owned);
    let other = format!(
        "{}  lapse-{VERSION}-aarch64-apple-darwin.tar.gz\n",
        "0".repeat(64)
    );
    let sums = format!("{other}{checksum}  {}\n", asset_name());
    BTreeMap::from([(sums_name(), sums.into_bytes()), (asset_name(), archive)])
}

fn good_release() -> BTreeMap<String, Vec<u8>> {
    release_with_checksum(None)
}

fn assert_nothing_installed(runner: &Runner) {
    assert!(!runner.install_dir().join("lapse").exists());
    assert!(!runner.install_dir().with_extension("complete").exists());
}

#[test]
fn a_verified_release_lands_in_the_tool_cache_and_on_path() {
    let release = FakeRelease::start(good_release());
    let runner = Runner::new();
    let installed = runner.install(&release.url);
    assert_eq!(installed.code, Some(0), "{}", installed.stderr);
    let dir = runner.install_dir();
    assert_eq!(installed.stdout.trim(), dir.to_str().unwrap());
    let github_path = std::fs::read_to_string(runner.dir.path().join("github_path")).unwrap();
    assert_eq!(github_path.trim(), dir.to_str().unwrap());
    let ran = Command::new(dir.join("lapse"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "fake lapse check\n");
    assert_eq!(
        release.requests(),
        [
            format!("/download/v{VERSION}/{}", sums_name()),
            format!("/storage/{}", sums_name()),
            format!("/download/v{VERSION}/{}", asset_name()),
            format!("/storage/{}", asset_name()),
        ]
    );
}

#[test]
fn a_cached_release_is_used_without_a_download() {
    let release = FakeRelease::start(good_release());
    let runner = Runner::new();
    assert_eq!(runner.install(&release.url).code, Some(0));
    let before = release.requests().len();
    let again = runner.install(&release.url);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains("found in the tool cache"),
        "{}",
        again.stderr
    );
    assert_eq!(again.stdout.trim(), runner.install_dir().to_str().unwrap());
    assert_eq!(release.requests().len(), before, "{:?}", release.requests());
}

#[test]
fn a_binary_whose_checksum_differs_is_not_installed() {
    let release = FakeRelease::start(release_with_checksum(Some("ab".repeat(32).as_str())));
    let runner = Runner::new();
    let installed = runner.install(&release.url);
    assert_eq!(installed.code, Some(1));
    assert!(
        installed.stderr.contains(&format!(
            "checksum mismatch for {}: expected {}",
            asset_name(),
            "ab".repeat(32)
        )),
        "{}",
        installed.stderr
    );
    assert_nothing_installed(&runner);
    // Nothing half-installed is taken for a cache hit on the next run.
    let again = runner.install(&release.url);
    assert_eq!(again.code, Some(1));
}

#[test]
fn a_release_without_the_platforms_asset_is_an_error_naming_the_url() {
    let mut files = good_release();
    files.remove(&asset_name());
    let release = FakeRelease::start(files);
    let runner = Runner::new();
    let installed = runner.install(&release.url);
    assert_eq!(installed.code, Some(1));
    assert!(
        installed.stderr.contains(&format!(
            "could not download {}/v{VERSION}/{} (is {VERSION} released for {TARGET}?)",
            release.url,
            asset_name()
        )),
        "{}",
        installed.stderr
    );
    assert_nothing_installed(&runner);
}

#[test]
fn a_checksum_file_without_the_asset_is_refused() {
    let mut files = good_release();
    let sums = format!(
        "{}  lapse-{VERSION}-aarch64-apple-darwin.tar.gz\n",
        "0".repeat(64)
    );
    files.insert(sums_name(), sums.into_bytes());
    let release = FakeRelease::start(files);
    let runner = Runner::new();
    let installed = runner.install(&release.url);
    assert_eq!(installed.code, Some(1));
    assert!(
        installed.stderr.contains(&format!(
            "{} has no checksum for {}",
            sums_name(),
            asset_name()
        )),
        "{}",
        installed.stderr
    );
    assert_nothing_installed(&runner);
}

#[test]
fn an_unknown_platform_is_refused_before_any_download() {
    let release = FakeRelease::start(good_release());
    let runner = Runner {
        os: "Windows",
        ..Runner::new()
    };
    let installed = runner.install(&release.url);
    assert_eq!(installed.code, Some(1));
    assert!(
        installed.stderr.contains(
            "no lapse release binary for Windows/X64; build it with: cargo install --locked lapse-grants"
        ),
        "{}",
        installed.stderr
    );
    assert!(release.requests().is_empty());
}

#[test]
fn the_test_download_url_cannot_point_anywhere_but_loopback() {
    let runner = Runner::new();
    for url in [
        "https://evil.example/download",
        "http://127.0.0.1.evil.example:80/download",
        "http://10.0.0.1:8080/download",
        "http://127.0.0.1:80/x?y=$(id)",
    ] {
        let installed = runner.install(url);
        assert_eq!(installed.code, Some(1), "{url}");
        assert!(
            installed
                .stderr
                .contains("LAPSE_INSTALL_TEST_BASE_URL must be http://127.0.0.1:PORT/"),
            "{url}: {}",
            installed.stderr
        );
    }
    assert!(!Path::new(&runner.tool_cache()).exists());
}
