//! `qms broker setup`: the files of the office's Mosquitto, made from the site
//! configuration so that nobody writes them by hand: a password per device (hashed for
//! the broker, in clear in `secrets/` for the device), the ACL, `mosquitto.conf`, and
//! with TLS a private CA, the broker's certificate and a client certificate per device.
//!
//! Running it again after a change of devices keeps the passwords, the CA and the device
//! certificates it made before, so devices already set up keep working.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::Engine;
use qms_core::config::Role;
use qms_core::SiteConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};

/// Shorter passwords are refused: they would be guessed on an office network.
pub const MIN_PASSWORD: usize = 16;
const PASSWORD_LENGTH: usize = 24;
/// No 0/O, 1/l/I: a password may be typed from a printout into a keypad's set-up page.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Mosquitto's `$7$` hash: PBKDF2-HMAC-SHA512 with 12 bytes of salt.
const PBKDF2_ITERATIONS: u32 = 101;

pub struct SetupOptions {
    /// Where the files go; the broker reads them from there.
    pub out: PathBuf,
    /// Names and addresses devices use to reach the broker on the LAN (certificate SANs).
    pub hosts: Vec<String>,
    pub lan_port: u16,
    pub loopback_port: u16,
    /// Without TLS there is no LAN listener at all: every device on the broker's machine.
    pub tls: bool,
    /// Refuse TLS clients without a certificate from the office CA.
    pub require_client_certificates: bool,
    /// The account Mosquitto drops to when started as root.
    pub broker_user: String,
}

/// Writes the broker's files for `config`; returns what was done, a line each.
pub fn setup(config: &SiteConfig, options: &SetupOptions) -> anyhow::Result<Vec<String>> {
    check(config, options)?;
    let out = &options.out;
    std::fs::create_dir_all(out.join("data"))
        .with_context(|| format!("cannot create {}", out.display()))?;
    if !out.join("secrets").exists() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(out.join("secrets"))?;
    }
    // An older folder may have been made with looser rights.
    set_mode(&out.join("secrets"), 0o700)?;
    let out = std::fs::canonicalize(out)?;
    let random = SystemRandom::new();
    let mut report = Vec::new();
    let mut passwords = String::new();
    for device in &config.devices {
        let path = out.join("secrets").join(&device.id);
        let password = match std::fs::read_to_string(&path) {
            Ok(existing) => existing.trim().to_string(),
            Err(_) => {
                let fresh = new_password(&random)?;
                write_private(&path, &format!("{fresh}\n"))?;
                report.push(format!(
                    "new password for {} in {}",
                    device.id,
                    path.display()
                ));
                fresh
            }
        };
        let _ = writeln!(
            passwords,
            "{}:{}",
            device.id,
            password_hash(&password, &random)?
        );
    }
    write_private(&out.join("passwords"), &passwords)?;
    std::fs::write(out.join("acl"), qms_bus::acl::mosquitto_acl(config))?;
    report.push(format!(
        "{} devices in {} and {}",
        config.devices.len(),
        out.join("passwords").display(),
        out.join("acl").display()
    ));
    if options.tls {
        report.extend(certificates(config, options, &out)?);
    }
    std::fs::write(
        out.join("mosquitto.conf"),
        mosquitto_conf(config, options, &out),
    )?;
    report.push(format!(
        "broker configuration {}",
        out.join("mosquitto.conf").display()
    ));
    Ok(report)
}

/// Refuses what would make a weak or broken broker, saying what to change.
fn check(config: &SiteConfig, options: &SetupOptions) -> anyhow::Result<()> {
    if config.broker.embedded {
        bail!(
            "[broker] embedded = true: this site uses the embedded broker, which has no \
             passwords. For Mosquitto set embedded = false and address = the broker's LAN \
             address (e.g. \"192.168.1.10:{}\") in qms.toml first",
            options.lan_port
        );
    }
    if !config.devices.iter().any(|d| d.role == Role::Queue) {
        bail!("no device with role = \"queue\" in the site configuration: the authority needs one");
    }
    if options.lan_port == options.loopback_port {
        bail!("the LAN port and the loopback port must differ");
    }
    if options.tls && options.hosts.is_empty() {
        bail!(
            "the broker's certificate needs the names devices use to reach it: pass --host \
             with its LAN address (e.g. --host 192.168.1.10) and any DNS name"
        );
    }
    if !options.tls && options.require_client_certificates {
        bail!("client certificates need TLS: drop --no-tls");
    }
    for device in &config.devices {
        let path = options.out.join("secrets").join(&device.id);
        if let Ok(existing) = std::fs::read_to_string(&path) {
            let length = existing.trim().chars().count();
            if length < MIN_PASSWORD {
                bail!(
                    "{} holds a password of {length} characters; at least {MIN_PASSWORD} are \
                     needed: delete the file and run setup again to make a new one",
                    path.display()
                );
            }
        }
    }
    let ca = options.out.join("ca.crt");
    let ca_key = options.out.join("ca.key");
    if ca.exists() != ca_key.exists() {
        bail!(
            "{} and {} go together: restore the missing one, or delete both to make a new CA \
             (every device certificate must then be made again)",
            ca.display(),
            ca_key.display()
        );
    }
    Ok(())
}

/// The `mosquitto.conf` of the site.
fn mosquitto_conf(config: &SiteConfig, options: &SetupOptions, out: &Path) -> String {
    let path = |name: &str| out.join(name).display().to_string();
    let mut conf = format!(
        "# Mosquitto of {} (site \"{}\"), made by `qms broker setup`.\n\
         # Run setup again after changing the devices in qms.toml. Check with\n\
         #   mosquitto -c {} -v\n\n\
         per_listener_settings false\n\
         allow_anonymous false\n\
         password_file {}\n\
         acl_file {}\n\
         user {}\n\n\
         # Nothing larger than a protocol message is taken, stored or retained.\n\
         max_packet_size {}\n\n\
         # On every listener a device connects only as itself: its client id is its user\n\
         # name, so no password can take another device's connection (least of all the\n\
         # authority's).\n\n\
         # The roles on this machine (the queue authority, the kiosk PC's own devices).\n\
         listener {} 127.0.0.1\n\
         use_username_as_clientid true\n",
        config.site.name,
        config.site.id,
        path("mosquitto.conf"),
        path("passwords"),
        path("acl"),
        options.broker_user,
        qms_bus::MAX_PACKET,
        options.loopback_port,
    );
    if options.tls {
        let _ = write!(
            conf,
            "\n# The devices on the office network: TLS only, with the office CA.\n\
             listener {}\n\
             cafile {}\n\
             certfile {}\n\
             keyfile {}\n\
             tls_version tlsv1.2\n\
             use_username_as_clientid true\n\
             require_certificate {}\n",
            options.lan_port,
            path("ca.crt"),
            path("server.crt"),
            path("server.key"),
            options.require_client_certificates,
        );
        if options.require_client_certificates {
            conf.push_str(
                "# The certificate names the device: it connects as that device only.\n\
                 use_identity_as_username true\n",
            );
        }
    }
    let _ = write!(
        conf,
        "\n# Commands and replies are small packets: no Nagle delay.\n\
         set_tcp_nodelay true\n\n\
         # Retained boards and statuses, and the printers' queued jobs, survive a restart.\n\
         persistence true\n\
         persistence_location {}/\n\
         autosave_interval 30\n\
         # A printer away for a week loses its session; one away for a night does not.\n\
         persistent_client_expiration 7d\n\
         # Commands wait here for an authority that is slow or restarting.\n\
         max_queued_messages 10000\n\n\
         log_dest stderr\n\
         log_type error\n\
         log_type warning\n\
         log_type notice\n\
         connection_messages true\n",
        path("data"),
    );
    conf
}

/// The CA (kept when it exists), the broker's certificate (made again, for `hosts`)
/// and a client certificate per device (kept when it exists).
fn certificates(
    config: &SiteConfig,
    options: &SetupOptions,
    out: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut report = Vec::new();
    let now = OffsetDateTime::now_utc();
    let (ca_pem, ca_key_pem) = match (
        std::fs::read_to_string(out.join("ca.crt")),
        std::fs::read_to_string(out.join("ca.key")),
    ) {
        (Ok(cert), Ok(key)) => (cert, key),
        _ => {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name.push(
                DnType::CommonName,
                format!("qms office CA {}", config.site.id),
            );
            params
                .distinguished_name
                .push(DnType::OrganizationName, config.site.name.clone());
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            params.not_before = now - Duration::days(1);
            params.not_after = now + Duration::days(365 * 20);
            let cert = params.self_signed(&key)?;
            std::fs::write(out.join("ca.crt"), cert.pem())?;
            write_private(&out.join("ca.key"), &key.serialize_pem())?;
            report.push(format!(
                "new office CA {} (keep ca.key off the network once the devices are set up)",
                out.join("ca.crt").display()
            ));
            (cert.pem(), key.serialize_pem())
        }
    };
    let ca_key = KeyPair::from_pem(&ca_key_pem).context("ca.key is not a private key")?;
    let ca = CertificateParams::from_ca_cert_pem(&ca_pem)
        .context("ca.crt is not a CA certificate")?
        .self_signed(&ca_key)?;
    let issue = |names: Vec<String>, common_name: &str, usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name.to_string());
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365 * 5);
        let cert = params.signed_by(&key, &ca, &ca_key)?;
        anyhow::Ok((cert.pem(), key.serialize_pem()))
    };
    let mut names = options.hosts.clone();
    for local in ["localhost", "127.0.0.1"] {
        if !names.iter().any(|n| n == local) {
            names.push(local.into());
        }
    }
    for name in &names {
        if name.parse::<IpAddr>().is_err()
            && !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            bail!("--host {name:?} is neither an IP address nor a DNS name");
        }
    }
    let (cert, key) = issue(
        names.clone(),
        &names[0],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    std::fs::write(out.join("server.crt"), cert)?;
    write_private(&out.join("server.key"), &key)?;
    report.push(format!("broker certificate for {}", names.join(", ")));
    // `qms web` on the same machine: HTTPS for signing in from the officers' PCs.
    let (cert, key) = issue(
        names.clone(),
        &names[0],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    std::fs::write(out.join("web.crt"), cert)?;
    write_private(&out.join("web.key"), &key)?;
    report.push(format!(
        "web pages' HTTPS certificate web.crt (set [web] tls_cert and tls_key) for {}",
        names.join(", ")
    ));
    let mut made = 0;
    for device in &config.devices {
        let cert_path = out.join("secrets").join(format!("{}.crt", device.id));
        if cert_path.exists() {
            continue;
        }
        let (cert, key) = issue(Vec::new(), &device.id, ExtendedKeyUsagePurpose::ClientAuth)?;
        write_private(
            &out.join("secrets").join(format!("{}.key", device.id)),
            &key,
        )?;
        std::fs::write(cert_path, cert)?;
        made += 1;
    }
    if made > 0 {
        report.push(format!(
            "{made} device certificates in {}",
            out.join("secrets").display()
        ));
    }
    Ok(report)
}

fn new_password(random: &SystemRandom) -> anyhow::Result<String> {
    let mut password = String::with_capacity(PASSWORD_LENGTH);
    let mut bytes = [0u8; 64];
    // Whole multiples of the alphabet only, so that no letter is likelier than another.
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    while password.len() < PASSWORD_LENGTH {
        random
            .fill(&mut bytes)
            .map_err(|_| anyhow::anyhow!("no system randomness"))?;
        password.extend(
            bytes
                .iter()
                .filter(|b| **b < limit)
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .take(PASSWORD_LENGTH - password.len()),
        );
    }
    Ok(password)
}

/// Mosquitto's password-file hash of `password`: `$7$iterations$salt$hash`.
pub fn password_hash(password: &str, random: &SystemRandom) -> anyhow::Result<String> {
    let mut salt = [0u8; 12];
    random
        .fill(&mut salt)
        .map_err(|_| anyhow::anyhow!("no system randomness"))?;
    Ok(hash_with_salt(password, &salt))
}

fn hash_with_salt(password: &str, salt: &[u8]) -> String {
    let mut hash = [0u8; 64];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        NonZeroU32::new(PBKDF2_ITERATIONS).expect("not zero"),
        salt,
        password.as_bytes(),
        &mut hash,
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "$7${PBKDF2_ITERATIONS}${}${}",
        b64.encode(salt),
        b64.encode(hash)
    )
}

/// Writes a file only its owner may read, from the moment it exists.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let cannot = || format!("cannot write {}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(cannot)?;
    // A file that existed before keeps its mode on open.
    set_mode(path, 0o600)?;
    file.write_all(text.as_bytes()).with_context(cannot)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the permissions of {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_mosquittos_pbkdf2_sha512_format() {
        // PBKDF2-HMAC-SHA512("secret", salt "0123456789ab", 101 iterations), as Python's
        // hashlib.pbkdf2_hmac computes it.
        let hash = hash_with_salt("secret", b"0123456789ab");
        let parts: Vec<&str> = hash.split('$').collect();
        assert_eq!(&parts[..3], ["", "7", "101"]);
        assert_eq!(parts[3], "MDEyMzQ1Njc4OWFi");
        assert_eq!(
            parts[4],
            "EO/lLlkeUgIiBaS8G8UK0ZMP1u508TA7Tl+AdJ1cEsmlbGyEPAERErpfq84j1kepISs0UzmcdL4ucgZ2uodxfQ=="
        );
    }

    /// A broker at 192.168.1.10 with the usual ports and TLS, its files in `out`.
    fn office_options(out: &Path) -> SetupOptions {
        SetupOptions {
            out: out.to_path_buf(),
            hosts: vec!["192.168.1.10".into()],
            lan_port: 8883,
            loopback_port: 1883,
            tls: true,
            require_client_certificates: false,
            broker_user: "mosquitto".into(),
        }
    }

    /// broker-config/ shows what setup makes for the default site on a broker at
    /// 192.168.1.10 with its files in /etc/mosquitto/qms. `QMS_WRITE_EXAMPLES=1` rewrites
    /// them after a deliberate change.
    #[test]
    fn the_committed_examples_are_what_setup_makes() {
        let mut config = SiteConfig::default_site();
        config.broker.embedded = false;
        config.broker.address = "192.168.1.10:8883".into();
        let options = office_options(Path::new("/etc/mosquitto/qms"));
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../broker-config");
        let made = [
            (
                "mosquitto.conf",
                mosquitto_conf(&config, &options, &options.out),
            ),
            ("acl.example", qms_bus::acl::mosquitto_acl(&config)),
        ];
        for (name, text) in made {
            let path = examples.join(name);
            if std::env::var_os("QMS_WRITE_EXAMPLES").is_some() {
                std::fs::write(&path, &text).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == text,
                "{} differs from what setup makes (QMS_WRITE_EXAMPLES=1 rewrites it):\n{text}",
                path.display()
            );
        }
    }

    #[test]
    fn setup_refuses_a_weak_or_incomplete_site() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = office_options(dir.path());
        let mut config = SiteConfig::default_site();
        let e = setup(&config, &options).unwrap_err().to_string();
        assert!(e.contains("embedded = true"), "{e}");
        config.broker.embedded = false;
        options.hosts.clear();
        let e = setup(&config, &options).unwrap_err().to_string();
        assert!(e.contains("--host"), "{e}");
        options.hosts = vec!["192.168.1.10".into()];
        std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/kiosk-1"), "123456\n").unwrap();
        let e = setup(&config, &options).unwrap_err().to_string();
        assert!(
            e.contains("kiosk-1 holds a password of 6 characters"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("secrets/kiosk-1")).unwrap();
        setup(&config, &options).expect("a sound site is set up");
        let first = std::fs::read_to_string(dir.path().join("secrets/kiosk-1")).unwrap();
        let ca = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
        setup(&config, &options).expect("and set up again");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("secrets/kiosk-1")).unwrap(),
            first,
            "a second run keeps the passwords"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ca.crt")).unwrap(),
            ca
        );
        std::fs::remove_file(dir.path().join("ca.key")).unwrap();
        let e = setup(&config, &options).unwrap_err().to_string();
        assert!(e.contains("go together"), "{e}");
    }

    #[test]
    fn passwords_are_long_and_from_the_unambiguous_alphabet() {
        let random = SystemRandom::new();
        let a = new_password(&random).unwrap();
        let b = new_password(&random).unwrap();
        assert_eq!(a.len(), PASSWORD_LENGTH);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
    }
}
