//! A self-hosted forge behind an internal CA: lapse trusts the system's CA
//! store (here `SSL_CERT_FILE`, as an administrator installs a CA) as well
//! as its bundled roots. The fake GitHub sits behind a TLS terminator on
//! 127.0.0.1 whose certificate is signed by a CA made for the test.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::thread;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::prune_support::forge::{FakeForge, Flavour};
use crate::prune_support::{Fixture, NOW};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA (`ca.pem`) and a certificate for 127.0.0.1 that it signed, in DER.
fn internal_ca(dir: &Path) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Internal Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-outform",
            "DER",
            "-out",
            "server.der",
        ],
    );
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "server.key",
            "-outform",
            "DER",
            "-out",
            "server.key.der",
        ],
    );
    let cert = CertificateDer::from(std::fs::read(dir.join("server.der")).unwrap());
    let key = PrivatePkcs8KeyDer::from(std::fs::read(dir.join("server.key.der")).unwrap());
    (cert, PrivateKeyDer::Pkcs8(key))
}

/// Accepts TLS on 127.0.0.1 and passes each connection's bytes to `backend`.
fn tls_terminator(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    backend: String,
) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            let backend = backend.clone();
            thread::spawn(move || relay(client, config, &backend));
        }
    });
    port
}

/// One connection: decrypt each request from the client, forward it to
/// the backend on a connection of its own, and encrypt the answer back,
/// until the client closes. A client that keeps the connection for its
/// next request (as lapse's HTTP client does) must find it still served,
/// or its write fails with a broken pipe.
fn relay(client: TcpStream, config: Arc<rustls::ServerConfig>, backend: &str) {
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, client);
    let mut buffer = [0u8; 16 * 1024];
    let mut request = Vec::new();
    loop {
        match tls.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
        if !complete_request(&request) {
            continue;
        }
        let Ok(mut upstream) = TcpStream::connect(backend) else {
            return;
        };
        if upstream.write_all(&request).is_err() {
            return;
        }
        request.clear();
        let _ = upstream.shutdown(Shutdown::Write);
        if io::copy(&mut upstream, &mut tls).is_err() || tls.flush().is_err() {
            return;
        }
    }
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// Whether `bytes` hold the headers and the whole body of one request.
fn complete_request(bytes: &[u8]) -> bool {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let headers = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    bytes.len() >= end + 4 + length
}

#[test]
fn a_forge_behind_an_internal_ca_is_trusted_through_the_system_store() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = internal_ca(dir.path());
    let forge = FakeForge::start(Flavour::GitHub);
    let backend = forge.url.trim_start_matches("http://").to_owned();
    let port = tls_terminator(cert, key, backend);
    let https_env = |ca_file: &Path| {
        let mut env = forge.github_env();
        env.retain(|(name, _)| *name != "GITHUB_API_URL");
        env.push(("GITHUB_API_URL", format!("https://127.0.0.1:{port}")));
        env.push(("SSL_CERT_FILE", ca_file.display().to_string()));
        env.push((
            "SSL_CERT_DIR",
            dir.path().join("no-such-dir").display().to_string(),
        ));
        env
    };

    // A store without the internal CA: the forge's certificate is refused.
    let fixture = Fixture::new();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let refused = fixture.lapse(
        &["prune", "--now", NOW, "--push", "origin", "--open-pr"],
        &https_env(&empty),
    );
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("https://127.0.0.1:{port}")),
        "{}",
        refused.stderr
    );
    assert!(forge.requests().is_empty());

    // The CA installed in the system store: the pull request is opened.
    let trusted = fixture.lapse(
        &["prune", "--now", NOW, "--push", "origin", "--open-pr"],
        &https_env(&dir.path().join("ca.pem")),
    );
    assert_eq!(trusted.code, Some(0), "{}", trusted.stderr);
    assert_eq!(forge.pulls().len(), 1);
}
