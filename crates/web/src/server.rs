//! The listening loop: HTTP/1.1 connections with the limits a server facing slow or idle
//! clients needs, which `axum::serve` does not set.
//!
//! - **Header read**: a request's headers must arrive within [`Limits::header_read`],
//!   counted from when the connection opens or falls idle after an answer; so the same
//!   limit closes idle keep-alive connections and clients that trickle their headers.
//! - **Connections**: at most [`Limits::max_connections`] at once; past that the server
//!   stops accepting until one closes, and new clients wait in the kernel's queue.
//! - **Bodies and answers**: a request's body must arrive within [`Limits::body_read`]
//!   (read by the router before anything else), and an answer the client stops reading
//!   fails after [`Limits::write_stall`].
//! - **Shutdown**: no new connections; answers in flight finish, for at most
//!   [`Limits::drain`].

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower_service::Service;

/// The connection limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a client has to send a request's headers, from when its connection opens
    /// or falls idle (the keep-alive limit too).
    pub header_read: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
    /// How long answers in flight may take to finish at shutdown.
    pub drain: Duration,
    /// How long an answer may wait for a client that does not read it.
    pub write_stall: Duration,
    /// How long a request's body may take to arrive.
    pub body_read: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            max_connections: 512,
            drain: Duration::from_secs(30),
            write_stall: Duration::from_secs(60),
            body_read: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    hsts: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Wait for room first, so that a full server leaves new clients queued rather
        // than accepted and starved.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut stopping = stopping.clone();
        let header_read = limits.header_read;
        let write_stall = limits.write_stall;
        connections.spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo(remote));
                let mut router = router.clone();
                async move { router.call(req).await.map_err(|e: Infallible| e) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read);
            let io = Guarded::new(stream, write_stall, hsts);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            let done = tokio::select! {
                r = conn.as_mut() => Some(r),
                _ = stopping.changed() => None,
            };
            let result = match done {
                Some(r) => r,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%remote, "connection ended: {e}");
            }
        });
        // Forget connections that have ended.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "{} connections were still busy after {:?}; closing them",
            connections.len(),
            limits.drain
        );
        connections.abort_all();
    }
    Ok(())
}

/// A connection whose answers written by hyper itself — to a request it cannot parse: a
/// request line over 64 KiB (414), headers beyond its buffer (431), bad syntax (400) —
/// get the security headers every other answer carries. Those answers are the only ones
/// that bypass the router; each is written whole, starts the write, and has an empty body.
/// A write that a client leaves unread for `write_stall` fails, which ends the connection.
struct Guarded<S> {
    inner: S,
    /// A rewritten answer being written: its bytes, how many are written, and how many
    /// bytes of the caller's buffer it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
    /// Whether answers carry `Strict-Transport-Security`.
    hsts: bool,
    write_stall: Duration,
    /// Armed while a write waits on the client.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Guarded<S> {
    fn new(inner: S, write_stall: Duration, hsts: bool) -> Self {
        Self {
            inner,
            pending: None,
            hsts,
            write_stall,
            stalled: None,
        }
    }

    /// After a write or flush: disarms the stall timer when it moved, arms and checks it
    /// when it waits.
    fn watch<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        r: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        match r {
            Poll::Pending => {
                let limit = self.write_stall;
                let timer = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.stalled = None;
                        Poll::Ready(Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the client stopped reading the answer",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

/// The answer hyper writes for a request it cannot parse: a status line, then at once
/// `connection: close` and an empty body (our own answers always carry other headers first).
fn bare_error(buf: &[u8]) -> Option<usize> {
    if !buf.starts_with(b"HTTP/1.1 4") && !buf.starts_with(b"HTTP/1.1 5") {
        return None;
    }
    let line_end = buf.windows(2).position(|w| w == b"\r\n")? + 2;
    buf[line_end..]
        .starts_with(b"connection: close\r\ncontent-length: 0\r\n")
        .then_some(line_end)
}

fn with_security_headers(buf: &[u8], line_end: usize, hsts: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(buf.len() + 512);
    out.extend_from_slice(&buf[..line_end]);
    let extra = hsts.then_some(("strict-transport-security", crate::HSTS));
    for (name, value) in crate::SECURITY_HEADERS.iter().copied().chain(extra) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(&buf[line_end..]);
    out
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::task::Poll;
        let this = &mut *self;
        match &this.pending {
            None => match bare_error(buf) {
                Some(line_end) => {
                    this.pending = Some((
                        with_security_headers(buf, line_end, this.hsts),
                        0,
                        buf.len(),
                    ))
                }
                None => {
                    let r = std::pin::Pin::new(&mut this.inner).poll_write(cx, buf);
                    return this.watch(cx, r);
                }
            },
            // The caller must write the same buffer again until it is taken whole.
            Some((_, _, stands_for)) if *stands_for != buf.len() => {
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a different buffer was written while an answer was half written",
                )));
            }
            Some(_) => {}
        }
        loop {
            let Some((bytes, written, stands_for)) = &mut this.pending else {
                return Poll::Ready(Ok(0));
            };
            if *written == bytes.len() {
                let n = *stands_for;
                this.pending = None;
                return Poll::Ready(Ok(n));
            }
            let r = std::pin::Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]);
            match this.watch(cx, r) {
                Poll::Ready(Ok(0)) => {
                    this.pending = None;
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    if let Some((_, written, _)) = &mut this.pending {
                        *written += n;
                    }
                }
                Poll::Ready(Err(e)) => {
                    this.pending = None;
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_error_answers_are_rewritten() {
        let bare = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let line_end = bare_error(bare).expect("found");
        let out = String::from_utf8(with_security_headers(bare, line_end, true)).expect("text");
        assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\nx-content-type-options: nosniff\r\n"));
        assert!(out.contains("content-security-policy: "));
        assert!(out.contains("strict-transport-security: max-age="));
        assert!(out.ends_with("connection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n"));
        for ours in [
            &b"HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\n"[..],
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n",
            b"id,name\r\nHTTP/1.1 400\r\n",
        ] {
            assert_eq!(bare_error(ours), None);
        }
    }
}
