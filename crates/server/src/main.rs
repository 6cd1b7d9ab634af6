//! `confab-server`: parses the command line, starts the server, prints one ready line, and
//! shuts down gracefully on Ctrl-C or SIGTERM.

use clap::Parser;
use confab_server::Server;
use confab_server::config::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let config = Config::parse();
    let server = match Server::start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("confab-server: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("{}", server.ready_line());
    wait_for_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
