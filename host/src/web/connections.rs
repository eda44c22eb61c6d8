//! Accepting the admin page's connections, bounded: HTTP/1.1; a request's
//! head must arrive whole within [`HEADER_READ_TIMEOUT`] (a kept-alive
//! connection waiting for its next request is closed after it too); at
//! most [`PER_ADDRESS`] connections from one address and [`TOTAL`] in all,
//! a connection past either closed at once, unanswered. At shutdown no new
//! connection is taken and the open ones get [`SHUTDOWN_GRACE`] to finish.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower_service::Service as _;

/// How long a client may take to send a request's head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections one address may hold open at once (behind a proxy: the
/// proxy's).
pub const PER_ADDRESS: usize = 64;
/// Connections open at once from everyone.
pub const TOTAL: usize = 512;
/// How long open connections may still run at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: wait rather than spin.
                    tracing::warn!("the admin page could not accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = Slot::take(&open, peer.ip()) else {
            tracing::debug!(%peer, "admin page connection refused: too many open");
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "admin page connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("admin page connections still open at shutdown were closed");
    }
}

/// How many connections are open, by address and in all.
#[derive(Default)]
struct Open {
    by_address: HashMap<IpAddr, usize>,
    total: usize,
}

impl Open {
    /// Counts a new connection from `ip`, unless that passes a bound.
    fn take(&mut self, ip: IpAddr) -> bool {
        let from_ip = self.by_address.entry(ip).or_default();
        if *from_ip >= PER_ADDRESS || self.total >= TOTAL {
            if *from_ip == 0 {
                self.by_address.remove(&ip);
            }
            return false;
        }
        *from_ip += 1;
        self.total += 1;
        true
    }

    /// A connection from `ip` closed.
    fn give_back(&mut self, ip: IpAddr) {
        if let Some(n) = self.by_address.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.by_address.remove(&ip);
            }
            self.total -= 1;
        }
    }
}

/// An open connection's place in the count, given back on drop.
struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Slot {
    fn take(open: &Arc<Mutex<Open>>, ip: IpAddr) -> Option<Self> {
        let taken = open.lock().unwrap_or_else(|e| e.into_inner()).take(ip);
        taken.then(|| Self {
            open: open.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .give_back(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn connections_are_bounded_per_address_and_in_all() {
        let open = Arc::new(Mutex::new(Open::default()));
        let mine: Vec<Slot> = (0..PER_ADDRESS)
            .map(|_| Slot::take(&open, ip(1)).expect("within the bound"))
            .collect();
        assert!(Slot::take(&open, ip(1)).is_none(), "one more from ip 1");
        let other = Slot::take(&open, ip(2)).expect("another address");
        drop(mine);
        assert!(Slot::take(&open, ip(1)).is_some(), "given back on drop");
        drop(other);
        assert_eq!(open.lock().unwrap().total, 0);
        assert!(open.lock().unwrap().by_address.is_empty());

        let many: Vec<Slot> = (0..TOTAL as u32)
            .map(|n| Slot::take(&open, ip(n)).expect("within the total"))
            .collect();
        assert!(Slot::take(&open, ip(TOTAL as u32 + 1)).is_none());
        assert_eq!(open.lock().unwrap().by_address.len(), TOTAL);
        drop(many);
        assert!(open.lock().unwrap().by_address.is_empty());
    }
}
