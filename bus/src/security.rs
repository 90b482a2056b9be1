//! Who a device is to the broker: its password from the machine's secrets folder, and
//! TLS that trusts only the office CA (with the device's client certificate when it has
//! one). Both come from `[broker]` in `qms.toml`; `qms broker setup` makes the files.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qms_core::SiteConfig;

use crate::{BusError, BusOptions};

/// TLS to the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The only CA trusted for the broker's certificate.
    pub ca_file: PathBuf,
    /// The device's certificate and key, when it presents one.
    pub client: Option<(PathBuf, PathBuf)>,
}

impl BusOptions {
    /// The options of device `device` of the site: its id as client id and username,
    /// its password and TLS files as `[broker]` says.
    pub fn for_device(config: &SiteConfig, device: &str) -> Result<BusOptions, BusError> {
        let mut options = BusOptions::new(device, &config.site.id, &config.broker.address);
        let secrets = config.broker.secrets.as_deref().map(Path::new);
        if let Some(dir) = secrets {
            let path = dir.join(device);
            let password = std::fs::read_to_string(&path).map_err(|e| BusError::Secret {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            options.credentials = Some((device.to_string(), password.trim().to_string()));
        }
        if let Some(ca_file) = &config.broker.ca_file {
            let client = secrets.and_then(|dir| {
                let cert = dir.join(format!("{device}.crt"));
                let key = dir.join(format!("{device}.key"));
                (cert.exists() && key.exists()).then_some((cert, key))
            });
            options.tls = Some(TlsFiles {
                ca_file: PathBuf::from(ca_file),
                client,
            });
        }
        Ok(options)
    }
}

/// The rustls configuration for `files` (ring as the crypto provider: no C library).
pub(crate) fn client_config(files: &TlsFiles) -> Result<rustls::ClientConfig, BusError> {
    let tls_error = |path: &Path, reason: String| BusError::Tls {
        path: path.to_path_buf(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(&files.ca_file)? {
        roots
            .add(cert)
            .map_err(|e| tls_error(&files.ca_file, e.to_string()))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls_error(&files.ca_file, e.to_string()))?
    .with_root_certificates(roots);
    match &files.client {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = certificates(cert)?;
            let mut reader = BufReader::new(open(key)?);
            let key_der = rustls_pemfile::private_key(&mut reader)
                .map_err(|e| tls_error(key, e.to_string()))?
                .ok_or_else(|| tls_error(key, "no private key in the file".into()))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| tls_error(cert, e.to_string()))
        }
    }
}

fn open(path: &Path) -> Result<std::fs::File, BusError> {
    std::fs::File::open(path).map_err(|e| BusError::Tls {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn certificates(path: &Path) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, BusError> {
    let mut reader = BufReader::new(open(path)?);
    let certs: Vec<_> = rustls_pemfile::certs(&mut reader)
        .collect::<Result<_, _>>()
        .map_err(|e| BusError::Tls {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(BusError::Tls {
            path: path.to_path_buf(),
            reason: "no PEM certificate in the file".into(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_takes_its_own_password_and_certificate_from_the_secrets_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kiosk-1"), "s3cret-of-kiosk-1\n").unwrap();
        std::fs::write(dir.path().join("kiosk-1.crt"), "").unwrap();
        std::fs::write(dir.path().join("kiosk-1.key"), "").unwrap();
        let mut config = SiteConfig::default_site();
        config.broker.secrets = Some(dir.path().display().to_string());
        config.broker.ca_file = Some("/etc/qms/ca.crt".into());
        let options = BusOptions::for_device(&config, "kiosk-1").unwrap();
        assert_eq!(
            options.credentials,
            Some(("kiosk-1".into(), "s3cret-of-kiosk-1".into()))
        );
        let tls = options.tls.unwrap();
        assert_eq!(tls.client.unwrap().0, dir.path().join("kiosk-1.crt"));
        let options = {
            std::fs::write(dir.path().join("printer-1"), "x").unwrap();
            BusOptions::for_device(&config, "printer-1").unwrap()
        };
        assert_eq!(
            options.tls.unwrap().client,
            None,
            "no certificate of its own"
        );
        let missing = BusOptions::for_device(&config, "display-hall").unwrap_err();
        assert!(missing.to_string().contains("display-hall"), "{missing}");
    }

    #[test]
    fn a_ca_file_that_is_not_a_certificate_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, "not a certificate").unwrap();
        let e = client_config(&TlsFiles {
            ca_file: ca.clone(),
            client: None,
        })
        .unwrap_err();
        assert!(e.to_string().contains("ca.crt"), "{e}");
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }
}
