//! A throwaway PostgreSQL cluster for one test binary: started on first use by
//! `scripts/pg-cluster.sh` (Debian's PostgreSQL, an unprivileged user, a directory of its own),
//! stopped and removed when the test binary exits. Each test gets a database of its own.
//!
//! `CONFAB_TEST_POSTGRES_URL` (a `postgres://` URL of a server the tests may create databases
//! on) uses that server instead.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

struct Cluster {
    /// `postgres://user@host:port` without a database.
    base_url: String,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
/// The directory of the cluster this process started, for the exit hook.
static STARTED: Mutex<Option<PathBuf>> = Mutex::new(None);
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh")
}

extern "C" fn stop_cluster() {
    if let Some(dir) = STARTED.lock().ok().and_then(|mut d| d.take()) {
        let _ = Command::new(script()).arg("stop").arg(&dir).status();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        if let Ok(url) = std::env::var("CONFAB_TEST_POSTGRES_URL") {
            let base_url = url.rsplit_once('/').map(|(base, _)| base.to_owned()).unwrap_or(url);
            return Cluster { base_url };
        }
        // Directly under the temp dir: the postgres user must be able to reach it.
        let dir = std::env::temp_dir().join(format!("confab-test-pg-{}", std::process::id()));
        let port = free_port();
        let output = Command::new(script())
            .args(["start", dir.to_str().unwrap(), &port.to_string(), "fast"])
            .output()
            .expect("run scripts/pg-cluster.sh");
        assert!(
            output.status.success(),
            "cannot start a PostgreSQL cluster (scripts/install-tools.sh installs PostgreSQL): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        *STARTED.lock().unwrap() = Some(dir);
        // SAFETY: registering a plain `extern "C" fn` with no captured state; the test harness
        // leaves through `exit`, which runs it.
        unsafe { libc::atexit(stop_cluster) };
        let url = String::from_utf8(output.stdout).unwrap();
        let base_url = url.trim().rsplit_once('/').unwrap().0.to_owned();
        Cluster { base_url }
    })
}

/// A new, empty database on the test cluster; returns its URL.
pub async fn database() -> String {
    use sqlx::Connection;
    let cluster = cluster();
    let name = format!("confab_{}_{}", std::process::id(), NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
    let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", cluster.base_url))
        .await
        .expect("connect to the test cluster");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create a test database");
    format!("{}/{name}", cluster.base_url)
}
