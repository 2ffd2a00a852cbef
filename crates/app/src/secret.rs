//! Sensitive fields at rest (docs/ARCHITECTURE.md, `crates/app`): bank account numbers today, platform-held
//! SM2 private keys and personal phone and ID numbers later. Each value is sealed with SM4 in GCM mode (an
//! AEAD: confidentiality and integrity in one) under one 128-bit platform key, with a fresh random 96-bit
//! nonce per value, and with associated data naming the row and field it belongs to, so that a sealed value
//! copied onto another row, or into another column, fails to open instead of quietly reading as that row's
//! value.
//!
//! The key comes from `LIANRONG_SECRET_KEY` (32 hex digits), else from the file `LIANRONG_SECRET_KEY_FILE`
//! names, else (for `lianrong serve`, `demo` and `admin`) from `<data-dir>/secret.key`, created with mode
//! 0600 on first start. The database holds a sealed check value, so a server started with another key
//! refuses to start rather than writing values that the old ones cannot be read beside.
//!
//! The sealed text is `v1:<nonce, 24 hex>:<ciphertext and 16-byte tag, hex>`; `v1` names SM4-GCM with a
//! 96-bit nonce and 128-bit tag, so another scheme can be introduced later beside it.

use std::path::{Path, PathBuf};

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{AesGcm, Nonce};
use sm4::Sm4;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::random_bytes;

/// The key itself, as 32 hex digits.
pub const KEY_ENV: &str = "LIANRONG_SECRET_KEY";
/// A file holding the key as 32 hex digits (surrounding whitespace ignored).
pub const KEY_FILE_ENV: &str = "LIANRONG_SECRET_KEY_FILE";
/// The key file created in the data folder when neither variable is set.
pub const KEY_FILE_NAME: &str = "secret.key";
/// SM4's key: 128 bits.
pub const KEY_BYTES: usize = 16;
/// GCM's recommended nonce: 96 bits, drawn at random for every value. With random nonces one key may
/// seal up to about 2^32 values before a repeat becomes a real risk (NIST SP 800-38D §8.3), far beyond
/// the bank accounts and keys of one platform.
pub const NONCE_BYTES: usize = 12;
/// The longest plaintext sealed at once (a PEM private key is under 300 bytes; an account number 30).
pub const PLAINTEXT_BYTES_MAX: usize = 16 * 1024;
const VERSION: &str = "v1";

type Sm4Gcm = AesGcm<Sm4, U12>;

/// The 128-bit platform key; wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_BYTES]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.key_id())
    }
}

/// Where the key was found, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
    /// Created in the data folder on this start.
    Created(PathBuf),
    /// A fresh key that lives as long as the process (tests and benchmarks on throw-away databases).
    Ephemeral,
}

fn key_error(code: &'static str, en: String, zh: String) -> AppError {
    AppError::new(ErrorKind::Unavailable, code, en, zh)
}

impl SecretKey {
    /// Parses 32 hex digits (upper or lower case, surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> AppResult<SecretKey> {
        let text = Zeroizing::new(text.trim().to_string());
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        if text.len() != KEY_BYTES * 2 || hex::decode_to_slice(text.as_bytes(), &mut key[..]).is_err() {
            return Err(key_error(
                "secret_key_invalid",
                format!("The secret key must be {} hexadecimal digits (128 bits)", KEY_BYTES * 2),
                format!("字段加密密钥须为{}位十六进制数字（128位）", KEY_BYTES * 2),
            ));
        }
        Ok(SecretKey(key))
    }

    /// A fresh key from the operating system's random source.
    pub fn random() -> AppResult<SecretKey> {
        Ok(SecretKey(Zeroizing::new(random_bytes::<KEY_BYTES>()?)))
    }

    /// The key as 32 lower-case hex digits, for writing the key file.
    fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.0[..]))
    }

    /// A short public name of the key (SM3 of a label and the key, first 16 hex digits), for logs: it tells
    /// two keys apart without revealing either.
    pub fn key_id(&self) -> String {
        let mut input = Zeroizing::new(b"lianrong-secret-key-id:".to_vec());
        input.extend_from_slice(&self.0[..]);
        crate::sm3_hex(&input)[..16].to_string()
    }

    /// Reads a key file.
    pub fn from_file(path: &Path) -> AppResult<SecretKey> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            key_error(
                "secret_key_unreadable",
                format!("Cannot read the secret key file {}: {e}", path.display()),
                format!("无法读取字段加密密钥文件 {}：{e}", path.display()),
            )
        })?);
        SecretKey::from_hex(&text).map_err(|e| AppError {
            en: format!("{} (in {})", e.en, path.display()),
            zh: format!("{}（{}）", e.zh, path.display()),
            ..e
        })
    }

    /// The key named by the environment: `LIANRONG_SECRET_KEY`, else the file `LIANRONG_SECRET_KEY_FILE`.
    pub fn from_env() -> AppResult<Option<(SecretKey, KeySource)>> {
        if let Some(text) = std::env::var_os(KEY_ENV).filter(|v| !v.is_empty()) {
            let text = Zeroizing::new(text.to_string_lossy().into_owned());
            return Ok(Some((SecretKey::from_hex(&text)?, KeySource::Environment)));
        }
        if let Some(path) = std::env::var_os(KEY_FILE_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            return Ok(Some((SecretKey::from_file(&path)?, KeySource::File(path))));
        }
        Ok(None)
    }

    /// The key for a server whose data folder is `data_dir`: the environment's, else `data_dir/secret.key`,
    /// which is created (mode 0600) when missing.
    pub fn resolve(data_dir: &Path) -> AppResult<(SecretKey, KeySource)> {
        if let Some(found) = SecretKey::from_env()? {
            return Ok(found);
        }
        let path = data_dir.join(KEY_FILE_NAME);
        if path.exists() {
            return Ok((SecretKey::from_file(&path)?, KeySource::File(path)));
        }
        let key = SecretKey::random()?;
        write_new_key_file(&path, &key)?;
        Ok((key, KeySource::Created(path)))
    }
}

/// Writes a new key file that only its owner may read; refuses to overwrite one that appeared meanwhile
/// (another process starting at the same moment), and then uses that one.
fn write_new_key_file(path: &Path, key: &SecretKey) -> AppResult<()> {
    use std::io::Write;
    let cannot = |e: std::io::Error| {
        key_error(
            "secret_key_unwritable",
            format!("Cannot create the secret key file {}: {e}", path.display()),
            format!("无法创建字段加密密钥文件 {}：{e}", path.display()),
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(cannot)?;
    file.write_all(key.to_hex().as_bytes()).map_err(cannot)?;
    file.write_all(b"\n").map_err(cannot)?;
    file.sync_all().map_err(cannot)?;
    Ok(())
}

/// Seals and opens values under the platform key. Cheap to share: `App` holds one behind an `Arc`.
pub struct Secret {
    cipher: Sm4Gcm,
    key_id: String,
    accounts: AccountDigest,
}

/// Keyed digests of bank account numbers: HMAC-SM3 under a key derived from the platform key. A plain
/// SM3 of an account number could be reversed by trying every number under a bank's prefix (about 10^12
/// candidates); without the key it cannot. The same number always gives the same digest, so a payment's
/// payee account (the lake's `payee_account_sm3`) compares with a fixed repayment account's
/// (`collection_account.account_sm3`) — both columns hold this keyed digest, hex.
#[derive(Clone)]
pub struct AccountDigest {
    key: Zeroizing<Vec<u8>>,
}

/// Names the derived key, so another keyed digest from the same platform key never coincides with it.
const ACCOUNT_DIGEST_LABEL: &[u8] = b"lianrong/account-digest/v1";

fn hmac_sm3(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit as _, Mac};
    // HMAC accepts a key of any length, so this cannot fail; the fallback keeps the function total.
    let mut mac = match hmac::Hmac::<sm3::Sm3>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0u8; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl AccountDigest {
    fn derive(platform_key: &[u8]) -> AccountDigest {
        AccountDigest { key: Zeroizing::new(hmac_sm3(platform_key, ACCOUNT_DIGEST_LABEL).to_vec()) }
    }

    /// The keyed digest (hex) of a normalised account number.
    pub fn of(&self, normalised_account_no: &str) -> String {
        hex::encode(hmac_sm3(&self.key, normalised_account_no.as_bytes()))
    }
}

impl std::fmt::Debug for AccountDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountDigest(..)")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

/// The associated data for a value kept in `table.column` of the row `row_id`: what binds a sealed value
/// to its place.
pub fn aad(table: &str, column: &str, row_id: &str) -> Vec<u8> {
    format!("{table}.{column}:{row_id}").into_bytes()
}

fn unreadable(reason: &str) -> AppError {
    tracing::error!(reason, "a sealed value could not be opened (wrong key, damaged or moved)");
    AppError::new(
        ErrorKind::Internal,
        "sealed_value_unreadable",
        "A protected value could not be decrypted: the platform's secret key differs from the one it was sealed with, or the stored value was altered",
        "受保护字段无法解密：平台字段加密密钥与加密时不同，或存储的数据已被篡改",
    )
}

impl Secret {
    pub fn new(key: &SecretKey) -> Secret {
        let key_array: &[u8; KEY_BYTES] = &key.0;
        let cipher = Sm4Gcm::new(key_array.into());
        Secret { cipher, key_id: key.key_id(), accounts: AccountDigest::derive(&key.0[..]) }
    }

    /// Keyed digests of account numbers (see [`AccountDigest`]).
    pub fn account_digest(&self) -> &AccountDigest {
        &self.accounts
    }

    /// The public name of the key (see [`SecretKey::key_id`]).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Seals `plaintext` for the place `aad` names (see [`aad`]); every call draws a new nonce, so sealing
    /// the same value twice gives different texts (use an SM3 digest to compare values).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> AppResult<String> {
        if plaintext.len() > PLAINTEXT_BYTES_MAX {
            tracing::error!(bytes = plaintext.len(), "a value too long to seal");
            return Err(AppError::internal());
        }
        let nonce_bytes = random_bytes::<NONCE_BYTES>()?;
        let nonce = Nonce::<U12>::from(nonce_bytes);
        let sealed = self.cipher.encrypt(&nonce, Payload { msg: plaintext, aad }).map_err(|_| {
            tracing::error!("SM4-GCM refused to seal a value");
            AppError::internal()
        })?;
        Ok(format!("{VERSION}:{}:{}", hex::encode(nonce_bytes), hex::encode(sealed)))
    }

    /// Opens a value sealed by [`Secret::seal`] for the same `aad`. Fails when the key differs, when the
    /// text was altered, or when it was sealed for another place.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> AppResult<Zeroizing<Vec<u8>>> {
        let mut parts = sealed.split(':');
        let (Some(version), Some(nonce_hex), Some(body_hex), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unreadable("not in the sealed format"));
        };
        if version != VERSION {
            return Err(unreadable("unknown sealing version"));
        }
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        hex::decode_to_slice(nonce_hex, &mut nonce_bytes).map_err(|_| unreadable("nonce is not 24 hex digits"))?;
        let body = hex::decode(body_hex).map_err(|_| unreadable("body is not hex"))?;
        let nonce = Nonce::<U12>::from(nonce_bytes);
        self.cipher
            .decrypt(&nonce, Payload { msg: &body, aad })
            .map(Zeroizing::new)
            .map_err(|_| unreadable("authentication failed"))
    }

    /// [`Secret::open`] for values that were sealed from UTF-8 text.
    pub fn open_text(&self, sealed: &str, aad: &[u8]) -> AppResult<Zeroizing<String>> {
        let bytes = self.open(sealed, aad)?;
        String::from_utf8(bytes.to_vec()).map(Zeroizing::new).map_err(|_| unreadable("not UTF-8"))
    }
}

/// What the check row seals: any fixed text does; opening it proves the key is the database's.
const CHECK_PLAINTEXT: &[u8] = b"lianrong secret key check";
const CHECK_AAD: &[u8] = b"secret_key_check.sealed:1";

/// Binds a database to its key: on the first start the check value is sealed and stored; on every later
/// start it must open, else the server refuses to start (a wrong key would make every sealed field
/// unreadable, and new values sealed under it would be unreadable under the right one).
pub(crate) async fn check_key(db: &lianrong_store::Db, secret: &Secret) -> AppResult<()> {
    let mut conn = db.acquire().await?;
    if let Some(stored) = lianrong_store::secret::key_check(&mut conn).await? {
        return match secret.open(&stored, CHECK_AAD) {
            Ok(text) if text.as_slice() == CHECK_PLAINTEXT => Ok(()),
            _ => Err(key_error(
                "secret_key_mismatch",
                format!(
                    "The secret key (id {}) is not the one this database's protected fields were sealed with; \
                     set {KEY_ENV} or {KEY_FILE_ENV} to the original key",
                    secret.key_id()
                ),
                format!(
                    "字段加密密钥（标识 {}）与本数据库加密字段所用密钥不符；请通过 {KEY_ENV} 或 {KEY_FILE_ENV} 提供原密钥",
                    secret.key_id()
                ),
            )),
        };
    }
    let sealed = secret.seal(CHECK_PLAINTEXT, CHECK_AAD)?;
    lianrong_store::secret::insert_key_check_if_absent(&mut conn, &sealed, crate::now_ms()).await?;
    // Read back: when two servers start on a new database at once, the first one kept wins for both.
    let stored = lianrong_store::secret::key_check(&mut conn).await?.unwrap_or(sealed);
    match secret.open(&stored, CHECK_AAD) {
        Ok(_) => Ok(()),
        Err(_) => Err(key_error(
            "secret_key_mismatch",
            "Another server started on this database with a different secret key".to_string(),
            "另一服务以不同的字段加密密钥在本数据库上启动".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_HEX: &str = "0123456789abcdeffedcba9876543210";

    #[test]
    fn account_digests_are_keyed_stable_and_not_plain_sm3() {
        let a = Secret::new(&SecretKey::from_hex(KEY_HEX).unwrap());
        let b = Secret::new(&SecretKey::random().unwrap());
        let no = "6222020200112233445";
        assert_eq!(a.account_digest().of(no), a.account_digest().of(no), "the same number, the same digest");
        assert_ne!(a.account_digest().of(no), a.account_digest().of("6222020200112233446"));
        assert_ne!(a.account_digest().of(no), b.account_digest().of(no), "another key, another digest");
        assert_ne!(a.account_digest().of(no), crate::sm3_hex(no.as_bytes()), "not guessable by plain SM3");
        assert_eq!(a.account_digest().of(no).len(), 64);
        // HMAC-SM3 itself, against an independent reference: Python's `hmac.new(b"key", b"abc", "sm3")`
        // over OpenSSL 3.
        assert_eq!(
            hex::encode(hmac_sm3(b"key", b"abc")),
            "28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393"
        );
    }

    #[test]
    fn sm4_matches_the_gb_t_32907_example() {
        // GB/T 32907-2016 Appendix A, example 1: key = plaintext = 0123456789abcdeffedcba9876543210.
        use sm4::cipher::{BlockCipherEncrypt, KeyInit as _};
        let key: [u8; 16] = hex::decode(KEY_HEX).unwrap().try_into().unwrap();
        let cipher = Sm4::new(&key.into());
        let mut block: sm4::cipher::Block<Sm4> = key.into();
        cipher.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    }

    fn secret() -> Secret {
        Secret::new(&SecretKey::from_hex(KEY_HEX).unwrap())
    }

    #[test]
    fn a_sealed_value_opens_for_its_own_place_only() {
        let s = secret();
        let place = aad("collection_account", "account_sealed", "inv-1");
        let sealed = s.seal(b"6222020200112233445", &place).unwrap();
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains("6222020200112233445"));
        assert_eq!(s.open(&sealed, &place).unwrap().as_slice(), b"6222020200112233445");
        assert_eq!(s.open_text(&sealed, &place).unwrap().as_str(), "6222020200112233445");
        // Moved to another row or another column: refused.
        let e = s.open(&sealed, &aad("collection_account", "account_sealed", "inv-2")).unwrap_err();
        assert_eq!(e.code, "sealed_value_unreadable");
        assert!(s.open(&sealed, &aad("collection_account", "other", "inv-1")).is_err());
        // Sealing again draws a new nonce.
        assert_ne!(s.seal(b"6222020200112233445", &place).unwrap(), sealed);
    }

    #[test]
    fn tampering_and_a_wrong_key_are_detected() {
        let s = secret();
        let sealed = s.seal(b"12345678901", b"t.c:1").unwrap();
        // Flip one bit in each part of the body in turn.
        let (head, body) = sealed.rsplit_once(':').unwrap();
        for i in 0..body.len() {
            let mut chars: Vec<char> = body.chars().collect();
            chars[i] = if chars[i] == '0' { '1' } else { '0' };
            let forged = format!("{head}:{}", chars.into_iter().collect::<String>());
            assert!(s.open(&forged, b"t.c:1").is_err(), "a change at {i} went unnoticed");
        }
        let other = Secret::new(&SecretKey::from_hex("00112233445566778899aabbccddeeff").unwrap());
        assert!(other.open(&sealed, b"t.c:1").is_err());
        for broken in ["", "v1", "v2:00:00", "v1:zz:00", "v1:000000000000000000000000:", "v1:a:b:c"] {
            assert!(s.open(broken, b"t.c:1").is_err(), "{broken}");
        }
    }

    #[test]
    fn keys_parse_from_32_hex_digits_only() {
        assert!(SecretKey::from_hex(&format!(" {} \n", KEY_HEX.to_uppercase())).is_ok());
        for bad in ["", "0123", "0123456789abcdeffedcba987654321g", &format!("{KEY_HEX}00")] {
            assert_eq!(SecretKey::from_hex(bad).unwrap_err().code, "secret_key_invalid", "{bad}");
        }
        let k = SecretKey::from_hex(KEY_HEX).unwrap();
        assert!(!format!("{k:?}").contains(KEY_HEX));
        assert_eq!(k.key_id().len(), 16);
        assert_ne!(k.key_id(), SecretKey::random().unwrap().key_id());
    }

    #[test]
    fn a_data_folder_key_is_created_once_readable_by_its_owner_only() {
        let dir = std::env::temp_dir().join(format!("lianrong-secret-{}", crate::new_id()));
        let path = dir.join(KEY_FILE_NAME);
        let key = SecretKey::random().unwrap();
        write_new_key_file(&path, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(SecretKey::from_file(&path).unwrap().key_id(), key.key_id());
        assert!(write_new_key_file(&path, &SecretKey::random().unwrap()).is_err(), "never overwritten");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
