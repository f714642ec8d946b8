//! Where the HTTP API starts: it binds the emulator's port and serves every request there through
//! the route table (over TLS if configured), beside the service's Event queue and idle reaper.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

use super::routes;
use crate::http;
use crate::service::emulator::{Emulator, EmulatorConfig};

/// Lambda takes thousands of new connections at once; the default backlog (1024) would drop the
/// rest's SYNs and stall them for a second.
const LISTEN_BACKLOG: u32 = 16384;

fn listen(bind: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if bind.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(bind)?;
    socket.listen(LISTEN_BACKLOG)
}

impl Emulator {
    /// Binds the Invoke API and starts serving it, the Event queue and the idle reaper.
    pub async fn start(config: EmulatorConfig, bind: SocketAddr) -> std::io::Result<Arc<Self>> {
        let listener = listen(bind)?;
        let address = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let tls = config.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        let emulator = Self::new(config, address, stop);
        let served = emulator.clone();
        let listening =
            http::serve(listener, stopped.clone(), tls, move |request| routes::handle(served.clone(), request));
        emulator.serving(listening);
        emulator.start_background_work(stopped);
        Ok(emulator)
    }
}
