use lianrong_lake::raw::{raw_key, sm3_hex};
use lianrong_lake::{Lake, LakeError};

#[test]
fn sm3_matches_the_standard_vector() {
    // GB/T 32905-2016 example 1.
    assert_eq!(sm3_hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

#[tokio::test]
async fn same_bytes_same_key_stored_once_and_verified_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let raw = lake.raw();
    let first = raw.put(b"a,b\n1,2\n".to_vec()).await.unwrap();
    assert_eq!(first.size_bytes, 8);
    let path = dir.path().join(raw_key(&first.sm3_hex).unwrap());
    assert!(path.is_file(), "stored at raw/sm3/<2 hex>/<64 hex>");
    assert_eq!(path.parent().unwrap().file_name().unwrap().to_str().unwrap(), &first.sm3_hex[..2]);
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = raw.put(b"a,b\n1,2\n".to_vec()).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified, "not rewritten");
    assert_eq!(raw.get(&first.sm3_hex).await.unwrap().as_ref(), b"a,b\n1,2\n");
    assert!(raw.exists(&first.sm3_hex).await.unwrap());

    std::fs::write(&path, b"a,b\n1,3\n").unwrap();
    match raw.get(&first.sm3_hex).await {
        Err(e @ LakeError::Tampered { .. }) => assert_eq!(e.code(), "raw_tampered"),
        other => panic!("tampering must be detected: {other:?}"),
    }
}

#[tokio::test]
async fn streaming_put_agrees_with_put_and_leaves_no_temporary_object() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&format!("file://{}", dir.path().display())).unwrap();
    let raw = lake.raw();
    let big: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let streamed = raw.put_stream(std::io::Cursor::new(big.clone())).await.unwrap();
    assert_eq!(streamed.size_bytes, big.len() as u64);
    assert_eq!(streamed.sm3_hex, sm3_hex(&big));
    let again = raw.put_stream(std::io::Cursor::new(big.clone())).await.unwrap();
    assert_eq!(again, streamed);
    assert_eq!(raw.put(big.clone()).await.unwrap(), streamed);
    assert_eq!(raw.get(&streamed.sm3_hex).await.unwrap().len(), big.len());
    let tmp = dir.path().join("raw/tmp");
    let leftovers = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "temporary objects are removed");
}

#[tokio::test]
async fn missing_and_malformed_digests_are_distinct_errors() {
    let raw = Lake::in_memory().raw();
    let missing = "0".repeat(64);
    assert_eq!(raw.get(&missing).await.unwrap_err().code(), "not_found");
    assert_eq!(raw.get("../../etc/passwd").await.unwrap_err().code(), "digest_invalid");
    assert_eq!(raw.get(&"A".repeat(64)).await.unwrap_err().code(), "digest_invalid");
    let stored = raw.put(b"x".to_vec()).await.unwrap();
    assert_eq!(raw.get(&stored.sm3_hex).await.unwrap().as_ref(), b"x");
}
