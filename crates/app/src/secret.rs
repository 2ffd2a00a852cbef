//! INTERIM (replaced within this session by the SM4 field-encryption module being built on the
//! `account` branch): the seal/open interface that confirmation codes against. It encodes without
//! encrypting, so nothing sealed with it may reach a release.

use crate::error::{AppError, AppResult};

pub struct Secret;

impl Secret {
    pub fn seal(&self, plaintext: &[u8], _aad: &[u8]) -> AppResult<String> {
        Ok(format!("interim:{}", hex::encode(plaintext)))
    }

    pub fn open(&self, sealed: &str, _aad: &[u8]) -> AppResult<Vec<u8>> {
        let hex_part = sealed.strip_prefix("interim:").ok_or_else(AppError::internal)?;
        hex::decode(hex_part).map_err(|_| AppError::internal())
    }
}

impl crate::App {
    pub fn secret(&self) -> Secret {
        Secret
    }
}
