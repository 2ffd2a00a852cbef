//! The raw and curated zones against a real S3-compatible server. Ignored by default; run with
//! `LAKE_TEST_S3_URL='s3://bucket/prefix?endpoint=http://127.0.0.1:5055' AWS_ACCESS_KEY_ID=… \
//!  AWS_SECRET_ACCESS_KEY=… cargo test -p lianrong-lake --test it s3 -- --ignored` (the bucket must exist;
//! MinIO or `moto_server` will do).

use lianrong_lake::raw::sm3_hex;
use lianrong_lake::{Lake, PartitionKey};

use crate::curated::{invoice_batches, invoice_schema};

#[tokio::test]
#[ignore = "needs LAKE_TEST_S3_URL pointing at an S3-compatible server"]
async fn raw_and_curated_zones_work_on_s3() {
    let url = std::env::var("LAKE_TEST_S3_URL").expect("LAKE_TEST_S3_URL");
    let lake = Lake::open(&url).unwrap();
    let raw = lake.raw();
    let small = raw.put(b"a,b\n1,2\n".to_vec()).await.unwrap();
    assert_eq!(raw.put(b"a,b\n1,2\n".to_vec()).await.unwrap(), small);
    assert_eq!(raw.get(&small.sm3_hex).await.unwrap().as_ref(), b"a,b\n1,2\n");

    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let streamed = raw.put_stream(std::io::Cursor::new(big.clone())).await.unwrap();
    assert_eq!(streamed.sm3_hex, sm3_hex(&big));
    assert_eq!(raw.get(&streamed.sm3_hex).await.unwrap().len(), big.len());

    let curated = lake.curated();
    let schema = invoice_schema();
    let key = PartitionKey::new("invoice", "s3-test", "2026-11").unwrap();
    let written = curated.write_partition(&key, schema.clone(), invoice_batches(&schema, 200_000, 8192)).await.unwrap();
    assert_eq!(written.rows, Some(200_000));
    let listed = curated.list_partitions(Some("invoice")).await.unwrap();
    assert!(listed.iter().any(|p| p.key == key && p.bytes == written.bytes));
    let rows: usize = curated.read_partition(&key).await.unwrap().iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 200_000);
}
