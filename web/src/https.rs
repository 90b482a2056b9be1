//! HTTPS for the pages: the same routes behind TLS with the office's certificate (the
//! `web.crt` that `qms broker setup` makes with the office CA), so officers' PCs and the
//! rating tablet can sign in from the office network.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::debug;

/// Marks a request that came over HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct Https;

/// An HTTPS listener with its certificate.
pub struct HttpsListener {
    /// Bound already (a test binds port 0).
    pub listener: TcpListener,
    /// The TLS side, from [`acceptor`].
    pub acceptor: TlsAcceptor,
}

/// The TLS acceptor for the certificate chain `cert` and key `key` (PEM files).
pub fn acceptor(cert: &Path, key: &Path) -> io::Result<TlsAcceptor> {
    let bad = |path: &Path, why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why} (see [web] tls_cert and tls_key)", path.display()),
        )
    };
    let open = |path: &Path| {
        std::fs::File::open(path)
            .map(io::BufReader::new)
            .map_err(|e| bad(path, e.to_string()))
    };
    let chain = rustls_pemfile::certs(&mut open(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(bad(cert, "no certificate in the file".into()));
    }
    let private = rustls_pemfile::private_key(&mut open(key)?)
        .map_err(|e| bad(key, e.to_string()))?
        .ok_or_else(|| bad(key, "no private key in the file".into()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(cert, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, private)
    .map_err(|e| bad(cert, e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` over TLS until `stop`; each request carries [`Https`] and the peer's
/// address.
pub async fn serve(https: HttpsListener, app: Router, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            accepted = https.listener.accept() => accepted,
        };
        let Ok((tcp, peer)) = accepted else { continue };
        let acceptor = https.acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => {
                    // A browser that does not trust the office CA yet hangs up here.
                    debug!(%peer, cause = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
                let mut request = request.map(axum::body::Body::new);
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request.extensions_mut().insert(Https);
                app.clone().oneshot(request)
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
            if let Err(e) = served {
                debug!(%peer, cause = %e, "HTTPS connection ended");
            }
        });
    }
}
